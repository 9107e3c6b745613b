//! The classification taxonomy: RSIT v1.3 and IntelMQ 3.5.0's variant of it.
//!
//! IntelMQ allows 44 `classification.type` values in 11 taxonomies: the 39
//! types of the Reference Security Incident Taxonomy (RSIT) v1.3 plus
//! `blacklist`, `dga-domain`, `malware`, `proxy` and `tor`, all in taxonomy
//! `other`.
//!
//! **Canonical storage spelling** follows IntelMQ 3.5.0 exactly, so events
//! compare equal to IntelMQ's: `unauthorised-information-access` and
//! `unauthorised-information-modification` with an *s* (as RSIT), but
//! `unauthorized-use-of-resources` with a *z* (RSIT spells it
//! `unauthorised-use-of-resources`). [`canonical_type`] accepts both
//! spellings of all three and IntelMQ's legacy aliases (`botnet drone`,
//! `c&c`, `unknown`, ...); [`rsit`] lists the types under their RSIT slugs,
//! [`intelmq_types`] under IntelMQ's.

use std::sync::OnceLock;

/// One classification type with its taxonomy and human-readable label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RsitType {
    /// The taxonomy (RSIT classification) slug, e.g. `malicious-code`.
    pub taxonomy: &'static str,
    /// The type slug, e.g. `infected-system`.
    pub slug: &'static str,
    /// RSIT's label, e.g. `Infected System`.
    pub label: &'static str,
    /// A one-line description.
    pub description: &'static str,
}

/// One row: taxonomy, IntelMQ slug, RSIT slug (None for IntelMQ's extras),
/// label, description.
type Row = (&'static str, &'static str, Option<&'static str>, &'static str, &'static str);

#[rustfmt::skip]
static TYPES: [Row; 44] = [
    ("abusive-content", "spam", Some("spam"), "Spam", "Unsolicited bulk e-mail; the IOC is spam infrastructure (harvesters, URLs in spam)."),
    ("abusive-content", "harmful-speech", Some("harmful-speech"), "Harmful Speech", "Bullying, harassment, discrimination (cyber-stalking, racism, threats)."),
    ("abusive-content", "violence", Some("violence"), "(Child) Sexual Exploitation/Sexual/Violent Content", "CSE, sexual content, glorification of violence."),
    ("malicious-code", "infected-system", Some("infected-system"), "Infected System", "System infected with malware; often seen as a connection to a sinkholed C2."),
    ("malicious-code", "c2-server", Some("c2-server"), "C2 Server", "Command-and-control server contacted by malware."),
    ("malicious-code", "malware-distribution", Some("malware-distribution"), "Malware Distribution", "URI used for malware distribution (fake-invoice downloads, exploit kits)."),
    ("malicious-code", "malware-configuration", Some("malware-configuration"), "Malware Configuration", "URI hosting malware config (e.g. banking-trojan web injects)."),
    ("information-gathering", "scanner", Some("scanner"), "Scanning", "Requests sent to discover weaknesses (port scans, DNS/ICMP/SMTP probing)."),
    ("information-gathering", "sniffing", Some("sniffing"), "Sniffing", "Observing/recording network traffic (wiretapping)."),
    ("information-gathering", "social-engineering", Some("social-engineering"), "Social Engineering", "Gathering information from humans by non-technical means."),
    ("intrusion-attempts", "ids-alert", Some("ids-alert"), "Exploitation of Known Vulnerabilities", "Attempt to compromise a system/disrupt a service by exploiting a vulnerability with a standard ID (CVE)."),
    ("intrusion-attempts", "brute-force", Some("brute-force"), "Login Attempts", "Multiple brute-force login attempts / password guessing."),
    ("intrusion-attempts", "exploit", Some("exploit"), "New Attack Signature", "Attack using an unknown exploit."),
    ("intrusions", "privileged-account-compromise", Some("privileged-account-compromise"), "Privileged Account Compromise", "Attacker gained administrative privileges."),
    ("intrusions", "unprivileged-account-compromise", Some("unprivileged-account-compromise"), "Unprivileged Account Compromise", "Compromise through a user/service account."),
    ("intrusions", "application-compromise", Some("application-compromise"), "Application Compromise", "Compromise via (un)known software vulnerabilities, e.g. SQLi."),
    ("intrusions", "system-compromise", Some("system-compromise"), "System Compromise", "Unauthorised logins/commands; includes honeypot compromise."),
    ("intrusions", "burglary", Some("burglary"), "Burglary", "Physical intrusion (building, data centre)."),
    ("availability", "dos", Some("dos"), "Denial of Service", "Crafted requests that crash or slow a service."),
    ("availability", "ddos", Some("ddos"), "Distributed Denial of Service", "SYN flood, UDP reflection/amplification."),
    ("availability", "misconfiguration", Some("misconfiguration"), "Misconfiguration", "Software misconfiguration causing availability issues (e.g. stale DNSSEC KSK)."),
    ("availability", "sabotage", Some("sabotage"), "Sabotage", "Intentional damage to availability (logical or physical: firewall rules, wire-cutting, arson)."),
    ("availability", "outage", Some("outage"), "Outage", "Non-malicious outage (air-conditioning failure, natural disaster)."),
    ("information-content-security", "unauthorised-information-access", Some("unauthorised-information-access"), "Unauthorised Access to Information", "E.g. stolen credentials, intercepted traffic, physical documents."),
    ("information-content-security", "unauthorised-information-modification", Some("unauthorised-information-modification"), "Unauthorised Modification of Information", "Includes ransomware encryption and defacement."),
    ("information-content-security", "data-loss", Some("data-loss"), "Data Loss", "E.g. disk failure, physical theft."),
    ("information-content-security", "data-leak", Some("data-leak"), "Leak of Confidential Information", "Leaked credentials or personal data."),
    ("fraud", "unauthorized-use-of-resources", Some("unauthorised-use-of-resources"), "Unauthorised Use of Resources", "Resources used for unauthorised purposes (chain letters, pyramid schemes)."),
    ("fraud", "copyright", Some("copyright"), "Copyright", "Unlicensed software / copyrighted material (\"warez\")."),
    ("fraud", "masquerade", Some("masquerade"), "Masquerade", "Impersonating another entity for benefit."),
    ("fraud", "phishing", Some("phishing"), "Phishing", "Masquerading to obtain credentials; the IOC is usually the phishing URL."),
    ("vulnerable", "weak-crypto", Some("weak-crypto"), "Weak Cryptography", "Services with weak crypto (POODLE/FREAK)."),
    ("vulnerable", "ddos-amplifier", Some("ddos-amplifier"), "DDoS Amplifier", "Open resolvers, NTP monlist, etc."),
    ("vulnerable", "potentially-unwanted-accessible", Some("potentially-unwanted-accessible"), "Potentially Unwanted Accessible Services", "Exposed Telnet/RDP/VNC."),
    ("vulnerable", "information-disclosure", Some("information-disclosure"), "Information Disclosure", "Services leaking information (SNMP, Redis)."),
    ("vulnerable", "vulnerable-system", Some("vulnerable-system"), "Vulnerable System", "E.g. WPAD misconfiguration, outdated OS, XSS."),
    ("other", "other", Some("other"), "Uncategorised", "Does not fit any category."),
    ("other", "undetermined", Some("undetermined"), "Undetermined", "Categorisation unknown."),
    ("test", "test", Some("test"), "Test", "For testing."),
    ("other", "blacklist", None, "Blacklist", "IntelMQ extension (not in RSIT): listed on a block list."),
    ("other", "dga-domain", None, "DGA Domain", "IntelMQ extension (not in RSIT): a domain made by a domain generation algorithm."),
    ("other", "malware", None, "Malware", "IntelMQ extension (not in RSIT): a malware sample or malware indicator."),
    ("other", "proxy", None, "Proxy", "IntelMQ extension (not in RSIT): an open or anonymising proxy."),
    ("other", "tor", None, "Tor", "IntelMQ extension (not in RSIT): a Tor node."),
];

/// The 11 taxonomies IntelMQ allows in `classification.taxonomy`, in RSIT order.
pub const TAXONOMIES: [&str; 11] = [
    "abusive-content",
    "malicious-code",
    "information-gathering",
    "intrusion-attempts",
    "intrusions",
    "availability",
    "information-content-security",
    "fraud",
    "vulnerable",
    "other",
    "test",
];

/// IntelMQ's legacy aliases of `ClassificationType.sanitize`, lower case.
pub const TYPE_ALIASES: [(&str, &str); 19] = [
    ("botnet drone", "infected-system"),
    ("ids alert", "ids-alert"),
    ("c&c", "c2-server"),
    ("c2server", "c2-server"),
    ("infected system", "infected-system"),
    ("malware configuration", "malware-configuration"),
    ("unauthorised-information-access", "unauthorised-information-access"),
    ("vulnerable client", "vulnerable-system"),
    ("vulnerable service", "vulnerable-system"),
    ("leak", "data-leak"),
    ("ransomware", "infected-system"),
    ("unknown", "undetermined"),
    ("dga domain", "dga-domain"),
    ("unauthorized-login", "system-compromise"),
    ("unauthorized-command", "system-compromise"),
    ("compromised", "system-compromise"),
    ("defacement", "unauthorised-information-modification"),
    ("backdoor", "system-compromise"),
    ("dropzone", "other"),
];

/// IntelMQ's legacy aliases of `ClassificationTaxonomy.sanitize`.
pub const TAXONOMY_ALIASES: [(&str, &str); 4] = [
    ("abusive content", "abusive-content"),
    ("information gathering", "information-gathering"),
    ("intrusion attempts", "intrusion-attempts"),
    ("malicious code", "malicious-code"),
];

fn row_to_type(row: &Row, rsit_slug: bool) -> RsitType {
    RsitType {
        taxonomy: row.0,
        slug: if rsit_slug { row.2.unwrap_or(row.1) } else { row.1 },
        label: row.3,
        description: row.4,
    }
}

/// The 39 types of RSIT v1.3 under their RSIT slugs, in RSIT order.
pub fn rsit() -> &'static [RsitType] {
    static RSIT: OnceLock<Vec<RsitType>> = OnceLock::new();
    RSIT.get_or_init(|| {
        TYPES.iter().filter(|row| row.2.is_some()).map(|row| row_to_type(row, true)).collect()
    })
}

/// The 44 types IntelMQ 3.5.0 allows, under IntelMQ's slugs (the canonical
/// storage spelling): RSIT's 39 followed by IntelMQ's five extras in
/// taxonomy `other`.
pub fn intelmq_types() -> &'static [RsitType] {
    static TYPES_CACHE: OnceLock<Vec<RsitType>> = OnceLock::new();
    TYPES_CACHE.get_or_init(|| TYPES.iter().map(|row| row_to_type(row, false)).collect())
}

/// Whether the text is one of the 44 canonical type slugs.
fn find_type(slug: &str) -> Option<&'static Row> {
    TYPES.iter().find(|row| row.1 == slug)
}

/// The canonical (IntelMQ 3.5.0) spelling of a classification type, or None
/// when it is not one.
///
/// Accepts the canonical slugs, IntelMQ's legacy aliases (`botnet drone` →
/// `infected-system`, `c&c` → `c2-server`, `unknown` → `undetermined`, ...),
/// both `unauthorised-`/`unauthorized-` spellings, RSIT slugs, any letter
/// case, surrounding white space, and spaces or underscores for hyphens.
pub fn canonical_type(input: &str) -> Option<&'static str> {
    let trimmed = crate::pyfmt::py_strip(input);
    if let Some(row) = find_type(trimmed) {
        return Some(row.1);
    }
    let lower = trimmed.to_lowercase();
    if let Some(row) = find_type(&lower) {
        return Some(row.1);
    }
    if let Some((_, target)) = TYPE_ALIASES.iter().find(|(alias, _)| *alias == lower) {
        return Some(target);
    }
    let hyphenated = lower.replace([' ', '_'], "-");
    if let Some(row) = find_type(&hyphenated) {
        return Some(row.1);
    }
    if let Some(row) = TYPES.iter().find(|row| row.2 == Some(hyphenated.as_str())) {
        return Some(row.1);
    }
    let swapped = if let Some(rest) = hyphenated.strip_prefix("unauthorized-") {
        format!("unauthorised-{rest}")
    } else if let Some(rest) = hyphenated.strip_prefix("unauthorised-") {
        format!("unauthorized-{rest}")
    } else {
        return None;
    };
    find_type(&swapped).map(|row| row.1)
}

/// The canonical spelling of a taxonomy, or None when it is not one.
///
/// Accepts IntelMQ's aliases (`malicious code` → `malicious-code`), any
/// letter case, surrounding white space, and spaces or underscores for
/// hyphens.
pub fn canonical_taxonomy(input: &str) -> Option<&'static str> {
    let trimmed = crate::pyfmt::py_strip(input);
    if let Some(found) = TAXONOMIES.iter().find(|t| **t == trimmed) {
        return Some(found);
    }
    let lower = trimmed.to_lowercase();
    if let Some((_, target)) = TAXONOMY_ALIASES.iter().find(|(alias, _)| *alias == lower) {
        return Some(target);
    }
    let hyphenated = lower.replace([' ', '_'], "-");
    TAXONOMIES.iter().find(|t| **t == hyphenated).copied()
}

/// The taxonomy of a classification type (any spelling [`canonical_type`]
/// accepts), as IntelMQ's taxonomy expert maps it.
pub fn taxonomy_of(classification_type: &str) -> Option<&'static str> {
    let canonical = canonical_type(classification_type)?;
    find_type(canonical).map(|row| row.0)
}

/// The label of a classification type (any accepted spelling).
pub fn label_of(classification_type: &str) -> Option<&'static str> {
    let canonical = canonical_type(classification_type)?;
    find_type(canonical).map(|row| row.3)
}
