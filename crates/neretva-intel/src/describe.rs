//! MISP's attribute types and categories (`describeTypes`): which categories a type may be filed
//! under, and each type's default category and `to_ids` flag.
//!
//! The table follows the `describeTypes.json` that MISP serves at `/attributes/describeTypes.json`
//! and PyMISP bundles; clients rely on the same pairs, so an attribute this module refuses would
//! be refused by MISP too.

/// The attribute categories, in MISP's order.
pub const CATEGORIES: [&str; 16] = [
    "Antivirus detection",
    "Artifacts dropped",
    "Attribution",
    "External analysis",
    "Financial fraud",
    "Internal reference",
    "Network activity",
    "Other",
    "Payload delivery",
    "Payload installation",
    "Payload type",
    "Persistence mechanism",
    "Person",
    "Social network",
    "Support Tool",
    "Targeting data",
];

// Category indexes, to keep the type table short.
const AV: u8 = 0;
const AD: u8 = 1;
const AT: u8 = 2;
const EA: u8 = 3;
const FF: u8 = 4;
const IR: u8 = 5;
const NA: u8 = 6;
const OT: u8 = 7;
const PD: u8 = 8;
const PI: u8 = 9;
const PT: u8 = 10;
const PM: u8 = 11;
const PE: u8 = 12;
const SN: u8 = 13;
const ST: u8 = 14;
const TD: u8 = 15;

/// One attribute type: its name, default category, default `to_ids` and every category it may
/// be filed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeInfo {
    pub name: &'static str,
    default_category: u8,
    pub to_ids: bool,
    categories: &'static [u8],
}

impl TypeInfo {
    /// The category MISP files the type under when none is given.
    pub fn default_category(&self) -> &'static str {
        CATEGORIES[usize::from(self.default_category)]
    }

    /// The categories the type may be filed under.
    pub fn categories(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.categories.iter().map(|index| CATEGORIES[usize::from(*index)])
    }

    /// Whether the type may be filed under `category`.
    pub fn allows(&self, category: &str) -> bool {
        self.categories().any(|allowed| allowed == category)
    }
}

macro_rules! types {
    ($( $name:literal => $default:ident, $ids:literal, [$($cat:ident),*]; )*) => {
        /// Every attribute type, sorted by name (byte order).
        pub const TYPES: &[TypeInfo] = &[
            $( TypeInfo { name: $name, default_category: $default, to_ids: $ids, categories: &[$($cat),*] }, )*
        ];
    };
}

types! {
    "AS" => NA, false, [EA, NA, PD];
    "aba-rtn" => FF, true, [FF];
    "attachment" => EA, false, [AV, AD, EA, NA, PD, PI, ST];
    "authentihash" => PD, true, [AD, PD, PI];
    "bank-account-nr" => FF, true, [FF];
    "bic" => FF, true, [FF];
    "bin" => FF, true, [FF];
    "boolean" => OT, false, [OT];
    "bro" => NA, true, [EA, NA];
    "btc" => FF, true, [FF];
    "campaign-id" => AT, false, [AT];
    "campaign-name" => AT, false, [AT];
    "cc-number" => FF, true, [FF];
    "comment" => OT, false, [AV, AD, AT, EA, FF, IR, NA, OT, PD, PI, PT, PM, PE, SN, ST, TD];
    "cookie" => NA, false, [AD, NA];
    "cortex" => EA, false, [EA];
    "counter" => OT, false, [OT];
    "country-of-residence" => PE, false, [PE];
    "cpe" => OT, false, [OT];
    "date-of-birth" => PE, false, [PE];
    "datetime" => OT, false, [OT];
    "dns-soa-email" => AT, false, [AT];
    "domain" => NA, true, [EA, NA, PD];
    "domain|ip" => NA, true, [EA, NA];
    "email-attachment" => PD, true, [PD];
    "email-body" => PD, false, [PD];
    "email-dst" => NA, true, [NA, PD, SN];
    "email-dst-display-name" => PD, false, [PD];
    "email-header" => PD, false, [PD];
    "email-message-id" => PD, false, [PD];
    "email-mime-boundary" => PD, false, [PD];
    "email-reply-to" => PD, false, [PD];
    "email-src" => PD, true, [PD, SN];
    "email-src-display-name" => PD, false, [PD];
    "email-subject" => PD, false, [PD];
    "email-thread-index" => PD, false, [PD];
    "email-x-mailer" => PD, false, [PD];
    "filename" => PD, true, [AD, EA, PD, PI, PM];
    "filename|authentihash" => PD, true, [AD, PD, PI];
    "filename|impfuzzy" => PD, true, [AD, PD, PI];
    "filename|imphash" => PD, true, [AD, PD, PI];
    "filename|md5" => PD, true, [AD, EA, PD, PI];
    "filename|pehash" => PD, true, [AD, PD, PI];
    "filename|sha1" => PD, true, [AD, EA, PD, PI];
    "filename|sha224" => PD, true, [AD, PD, PI];
    "filename|sha256" => PD, true, [AD, EA, PD, PI];
    "filename|sha384" => PD, true, [AD, PD, PI];
    "filename|sha512" => PD, true, [AD, PD, PI];
    "filename|sha512/224" => PD, true, [AD, PD, PI];
    "filename|sha512/256" => PD, true, [AD, PD, PI];
    "filename|ssdeep" => PD, true, [AD, PD, PI];
    "filename|tlsh" => PD, true, [AD, PD, PI];
    "first-name" => PE, false, [PE];
    "float" => OT, false, [OT];
    "frequent-flyer-number" => PE, false, [PE];
    "gender" => PE, false, [PE];
    "gene" => AD, false, [AD];
    "github-organisation" => SN, false, [SN];
    "github-repository" => SN, false, [EA, SN];
    "github-username" => SN, false, [SN];
    "hex" => OT, false, [AV, AD, FF, IR, NA, OT, PD, PI, PM, ST];
    "hostname" => NA, true, [EA, NA, PD];
    "hostname|port" => NA, true, [NA, PD];
    "http-method" => NA, false, [NA];
    "iban" => FF, true, [FF];
    "identity-card-number" => PE, false, [PE];
    "impfuzzy" => PD, true, [AD, PD, PI];
    "imphash" => PD, true, [AD, PD, PI];
    "ip-dst" => NA, true, [EA, NA, PD];
    "ip-dst|port" => NA, true, [EA, NA, PD];
    "ip-src" => NA, true, [EA, NA, PD];
    "ip-src|port" => NA, true, [EA, NA, PD];
    "issue-date-of-the-visa" => PE, false, [PE];
    "jabber-id" => SN, false, [SN];
    "last-name" => PE, false, [PE];
    "link" => EA, false, [AV, EA, IR, PD, ST];
    "mac-address" => NA, false, [EA, NA, PD];
    "mac-eui-64" => NA, false, [EA, NA, PD];
    "malware-sample" => PD, true, [AD, EA, PD, PI];
    "malware-type" => PD, false, [PD, PI];
    "md5" => PD, true, [AD, EA, PD, PI];
    "middle-name" => PE, false, [PE];
    "mime-type" => AD, false, [AD, PD, PI];
    "mobile-application-id" => PD, true, [PD, PI];
    "mutex" => AD, true, [AD];
    "named pipe" => AD, false, [AD];
    "nationality" => PE, false, [PE];
    "other" => OT, false, [AV, AD, AT, EA, FF, IR, NA, OT, PD, PI, PT, PM, PE, SN, ST];
    "passenger-name-record-locator-number" => PE, false, [PE];
    "passport-country" => PE, false, [PE];
    "passport-expiration" => PE, false, [PE];
    "passport-number" => PE, false, [PE];
    "pattern-in-file" => PI, true, [AD, EA, NA, PD, PI];
    "pattern-in-memory" => PI, true, [AD, EA, PI];
    "pattern-in-traffic" => NA, true, [EA, NA, PD, PI];
    "payment-details" => PE, false, [PE];
    "pdb" => AD, false, [AD];
    "pehash" => PD, true, [PD, PI];
    "phone-number" => PE, false, [FF, OT, PE];
    "place-of-birth" => PE, false, [PE];
    "place-port-of-clearance" => PE, false, [PE];
    "place-port-of-onward-foreign-destination" => PE, false, [PE];
    "place-port-of-original-embarkation" => PE, false, [PE];
    "port" => NA, false, [NA, OT];
    "primary-residence" => PE, false, [PE];
    "prtn" => FF, true, [FF];
    "redress-number" => PE, false, [PE];
    "regkey" => PM, true, [AD, EA, PM];
    "regkey|value" => PM, true, [AD, EA, PM];
    "sha1" => PD, true, [AD, EA, PD, PI];
    "sha224" => PD, true, [AD, PD, PI];
    "sha256" => PD, true, [AD, EA, PD, PI];
    "sha384" => PD, true, [AD, PD, PI];
    "sha512" => PD, true, [AD, PD, PI];
    "sha512/224" => PD, true, [AD, PD, PI];
    "sha512/256" => PD, true, [AD, PD, PI];
    "sigma" => PI, true, [AD, PD, PI];
    "size-in-bytes" => OT, false, [OT];
    "snort" => NA, true, [EA, NA];
    "special-service-request" => PE, false, [PE];
    "ssdeep" => PD, true, [AD, PD, PI];
    "stix2-pattern" => PI, true, [AD, NA, PD, PI];
    "target-email" => TD, false, [TD];
    "target-external" => TD, false, [TD];
    "target-location" => TD, false, [TD];
    "target-machine" => TD, false, [TD];
    "target-org" => TD, false, [TD];
    "target-user" => TD, false, [TD];
    "text" => OT, false, [AV, AD, AT, EA, FF, IR, NA, OT, PD, PI, PT, PM, PE, SN, ST];
    "threat-actor" => AT, false, [AT];
    "tlsh" => PD, true, [PD, PI];
    "travel-details" => PE, false, [PE];
    "twitter-id" => SN, false, [SN];
    "uri" => NA, true, [NA];
    "url" => NA, true, [EA, NA, PD];
    "user-agent" => NA, false, [EA, NA, PD];
    "visa-number" => PE, false, [PE];
    "vulnerability" => EA, false, [EA, PD, PI];
    "whois-creation-date" => AT, false, [AT];
    "whois-registrant-email" => AT, false, [AT, PD, SN];
    "whois-registrant-name" => AT, false, [AT];
    "whois-registrant-org" => AT, false, [AT];
    "whois-registrant-phone" => AT, false, [AT];
    "whois-registrar" => AT, false, [AT];
    "windows-scheduled-task" => AD, false, [AD];
    "windows-service-displayname" => AD, false, [AD];
    "windows-service-name" => AD, false, [AD];
    "x509-fingerprint-md5" => NA, true, [AD, AT, EA, PD, PI];
    "x509-fingerprint-sha1" => NA, true, [AD, AT, EA, NA, PD, PI];
    "x509-fingerprint-sha256" => NA, true, [AD, AT, EA, PD, PI];
    "xmr" => FF, true, [FF];
    "yara" => PI, true, [AD, PD, PI];
}

/// The type named `name`, if MISP knows it.
pub fn type_info(name: &str) -> Option<&'static TypeInfo> {
    TYPES.binary_search_by(|info| info.name.cmp(name)).ok().map(|index| &TYPES[index])
}

/// Whether `category` is one of MISP's categories.
pub fn is_category(category: &str) -> bool {
    CATEGORIES.contains(&category)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_every_default_category_is_allowed() {
        for pair in TYPES.windows(2) {
            assert!(pair[0].name < pair[1].name, "{} before {}", pair[0].name, pair[1].name);
        }
        // MISP's own table files two fingerprints by default under a category it does not
        // list for them; the table keeps MISP's data as it is.
        let odd: Vec<_> =
            TYPES.iter().filter(|info| !info.allows(info.default_category())).map(|info| info.name).collect();
        assert_eq!(odd, ["x509-fingerprint-md5", "x509-fingerprint-sha256"]);
        assert_eq!(TYPES.len(), 152);
    }

    #[test]
    fn pairs_follow_describe_types() {
        let ip = type_info("ip-dst").unwrap();
        assert_eq!(ip.default_category(), "Network activity");
        assert!(ip.to_ids);
        assert!(ip.allows("Payload delivery"));
        assert!(!ip.allows("Person"));
        assert!(type_info("text").unwrap().allows("Payload type"));
        assert!(!type_info("comment").unwrap().to_ids);
        assert!(type_info("IP-DST").is_none());
        assert_eq!(type_info("AS").unwrap().default_category(), "Network activity");
        let person: Vec<_> =
            TYPES.iter().filter(|info| info.allows("Person")).map(|info| info.name).collect();
        assert_eq!(person.len(), 28);
    }
}
