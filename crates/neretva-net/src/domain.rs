//! Validated, canonical DNS names.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

use crate::error::{DomainProblem, NetError};

/// The longest name allowed, without its trailing dot.
const MAX_NAME_LEN: usize = 253;

/// The longest label allowed.
const MAX_LABEL_LEN: usize = 63;

/// A syntactically valid DNS name in canonical form: lower-case ASCII, with
/// no trailing dot and at least one label.
///
/// Labels hold letters, digits, hyphens and underscores (for service labels
/// such as `_dmarc`), are 1 to 63 characters long and neither start nor end
/// with a hyphen; the name is at most 253 characters long. Internationalised
/// names must already be in punycode (A-label) form such as `xn--bcher-kva`;
/// the punycode itself is not decoded or checked here. A name whose last
/// label is all digits is refused, since it is an IPv4 address.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomainName(Box<str>);

impl DomainName {
    /// The canonical text of the name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The labels from left to right: `mail`, `example`, `ba` for
    /// `mail.example.ba`. Reverse the iterator to walk from the top level
    /// down.
    pub fn labels(&self) -> impl DoubleEndedIterator<Item = &str> + Clone {
        self.0.split('.')
    }

    /// The number of labels.
    pub fn label_count(&self) -> usize {
        self.0.bytes().filter(|&b| b == b'.').count() + 1
    }

    /// Whether this name equals `other` or lies below it: `mail.example.ba`
    /// is a subdomain of `example.ba` and of `ba`, but not of `ample.ba`.
    pub fn is_subdomain_of(&self, other: &DomainName) -> bool {
        match self.0.strip_suffix(&*other.0) {
            Some("") => true,
            Some(rest) => rest.ends_with('.'),
            None => false,
        }
    }

    /// The name with its first label removed, or `None` for a top-level name.
    pub fn parent(&self) -> Option<DomainName> {
        self.0.split_once('.').map(|(_, parent)| DomainName(parent.into()))
    }

    /// This name and then each ancestor, most specific first: `a.b.c`, `b.c`,
    /// `c`.
    pub(crate) fn suffixes(&self) -> impl Iterator<Item = &str> {
        std::iter::successors(Some(&*self.0), |name| name.split_once('.').map(|(_, parent)| parent))
    }
}

impl FromStr for DomainName {
    type Err = NetError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let fail = |problem| NetError::InvalidDomain { input: input.to_owned(), problem };
        if !input.is_ascii() {
            return Err(fail(DomainProblem::NotAscii));
        }
        let name = input.strip_suffix('.').unwrap_or(input);
        if name.is_empty() {
            return Err(fail(DomainProblem::Empty));
        }
        if name.len() > MAX_NAME_LEN {
            return Err(fail(DomainProblem::TooLong { len: name.len() }));
        }
        let name = name.to_ascii_lowercase();
        for label in name.split('.') {
            if let Some(problem) = label_problem(label) {
                return Err(fail(problem));
            }
        }
        let top = name.rsplit('.').next().unwrap_or_default();
        if top.bytes().all(|b| b.is_ascii_digit()) {
            return Err(fail(DomainProblem::NumericTopLevel { label: top.to_owned() }));
        }
        Ok(Self(name.into()))
    }
}

/// What is wrong with one lower-case label, if anything.
fn label_problem(label: &str) -> Option<DomainProblem> {
    if label.is_empty() {
        return Some(DomainProblem::EmptyLabel);
    }
    if label.len() > MAX_LABEL_LEN {
        return Some(DomainProblem::LabelTooLong { label: label.to_owned() });
    }
    if let Some(character) = label.chars().find(|&c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
        return Some(DomainProblem::InvalidCharacter { label: label.to_owned(), character });
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Some(DomainProblem::HyphenAtEdge { label: label.to_owned() });
    }
    None
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl AsRef<str> for DomainName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Lets hash maps keyed by `DomainName` be searched with a `&str`; the
/// derived `Hash` and `Eq` agree with those of `str`.
impl Borrow<str> for DomainName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    #[track_caller]
    fn check(input: &str, expect: Expect) {
        let actual = match input.parse::<DomainName>() {
            Ok(name) => format!("ok {name} labels={:?}", name.labels().collect::<Vec<_>>()),
            Err(error) => format!("error: {error}"),
        };
        expect.assert_eq(&actual);
    }

    fn name(text: &str) -> DomainName {
        text.parse().unwrap()
    }

    #[test]
    fn canonicalises() {
        check("Mail.Example.BA.", expect![[r#"ok mail.example.ba labels=["mail", "example", "ba"]"#]]);
        check("ba", expect![[r#"ok ba labels=["ba"]"#]]);
        check(
            "_dmarc.cert.example.hr",
            expect![[r#"ok _dmarc.cert.example.hr labels=["_dmarc", "cert", "example", "hr"]"#]],
        );
        check(
            "_sip._tcp.example.rs",
            expect![[r#"ok _sip._tcp.example.rs labels=["_sip", "_tcp", "example", "rs"]"#]],
        );
        check("XN--BCHER-KVA.ba", expect![[r#"ok xn--bcher-kva.ba labels=["xn--bcher-kva", "ba"]"#]]);
        check("3com.com", expect![[r#"ok 3com.com labels=["3com", "com"]"#]]);
        check(
            "1.2.3.4.in-addr.arpa",
            expect![[r#"ok 1.2.3.4.in-addr.arpa labels=["1", "2", "3", "4", "in-addr", "arpa"]"#]],
        );
        check("a-b.c", expect![[r#"ok a-b.c labels=["a-b", "c"]"#]]);
    }

    #[test]
    fn rejects_non_ascii_asking_for_punycode() {
        check(
            "bücher.ba",
            expect![[
                r#"error: invalid domain name "bücher.ba": it contains non-ascii characters; IDN must be given in punycode (A-label) form, such as xn--bcher-kva.ba"#
            ]],
        );
    }

    #[test]
    fn rejects_malformed_names() {
        check("", expect![[r#"error: invalid domain name "": a name needs at least one label"#]]);
        check(".", expect![[r#"error: invalid domain name ".": a name needs at least one label"#]]);
        check("example..ba", expect![[r#"error: invalid domain name "example..ba": it has an empty label"#]]);
        check(
            "example.ba..",
            expect![[r#"error: invalid domain name "example.ba..": it has an empty label"#]],
        );
        check(".example.ba", expect![[r#"error: invalid domain name ".example.ba": it has an empty label"#]]);
        check(
            "-cert.ba",
            expect![[r#"error: invalid domain name "-cert.ba": label "-cert" starts or ends with a hyphen"#]],
        );
        check(
            "cert-.ba",
            expect![[r#"error: invalid domain name "cert-.ba": label "cert-" starts or ends with a hyphen"#]],
        );
        check(
            "Cert Team.ba",
            expect![[
                r#"error: invalid domain name "Cert Team.ba": label "cert team" contains ' '; only letters, digits, hyphens and underscores are allowed"#
            ]],
        );
        check(
            "example.ba/path",
            expect![[
                r#"error: invalid domain name "example.ba/path": label "ba/path" contains '/'; only letters, digits, hyphens and underscores are allowed"#
            ]],
        );
        check(
            "192.0.2.1",
            expect![[
                r#"error: invalid domain name "192.0.2.1": the top-level label "1" is all digits, which is an ip address rather than a name"#
            ]],
        );
        check(
            &format!("{}.ba", "a".repeat(64)),
            expect![[
                r#"error: invalid domain name "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.ba": label "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" is 64 characters long; at most 63 are allowed"#
            ]],
        );
    }

    #[test]
    fn length_limits() {
        let label = "a".repeat(63);
        let longest = format!("{label}.{label}.{label}.{}", "b".repeat(61));
        assert_eq!(longest.len(), 253);
        assert_eq!(name(&longest).as_str(), longest);
        assert_eq!(name(&format!("{longest}.")).as_str(), longest);

        let too_long = format!("c{longest}");
        let error = too_long.parse::<DomainName>().unwrap_err().to_string();
        assert_eq!(
            error,
            format!("invalid domain name {too_long:?}: it is 254 characters long; at most 253 are allowed")
        );
    }

    #[test]
    fn subdomains() {
        let zone = name("example.ba");
        assert!(name("mail.example.ba").is_subdomain_of(&zone));
        assert!(name("a.b.example.ba").is_subdomain_of(&zone));
        assert!(zone.is_subdomain_of(&zone));
        assert!(zone.is_subdomain_of(&name("ba")));
        assert!(!name("ample.ba").is_subdomain_of(&zone));
        assert!(!name("myexample.ba").is_subdomain_of(&zone));
        assert!(!name("ba").is_subdomain_of(&zone));
        assert!(!name("example.ba.com").is_subdomain_of(&zone));
    }

    #[test]
    fn parents_and_suffixes() {
        let host = name("mail.example.ba");
        assert_eq!(host.label_count(), 3);
        assert_eq!(host.parent(), Some(name("example.ba")));
        assert_eq!(name("ba").parent(), None);
        expect![[r#"["mail.example.ba", "example.ba", "ba"]"#]]
            .assert_eq(&format!("{:?}", host.suffixes().collect::<Vec<_>>()));
        expect![[r#"["ba", "example", "mail"]"#]]
            .assert_eq(&format!("{:?}", host.labels().rev().collect::<Vec<_>>()));
    }
}
