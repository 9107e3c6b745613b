//! Tags: TLP 2.0 and PAP machine tags, RSIT classification tags and free tags.
//!
//! A tag is a MISP tag (`name`, `colour`, `exportable`, `local`); [`Tag::kind`] reads its meaning:
//! `tlp:amber+strict` (also `tlp:amber-strict`, legacy `tlp:white`), `PAP:RED` (any case,
//! legacy `PAP:WHITE`), `rsit:malicious-code="c2-server"` (checked against the RSIT table, also
//! in its `ecsirt:` spelling) and everything else free. Unofficial `tlp:` tags (`tlp:ex:chr`,
//! `tlp:unclear`) are free tags and never set a label.
//!
//! Local tags stay on the instance (never exported, never synchronised); non-exportable tags are
//! dropped from exports.

use neretva_model::tlp::{Pap, Tlp};

/// The longest tag name, in bytes (MISP's limit).
pub const MAX_TAG_BYTES: usize = 255;

/// A tag on an event or an attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    /// `#rrggbb`, as MISP shows it; `None` when not given.
    pub colour: Option<String>,
    /// Whether the tag leaves the instance in exports.
    pub exportable: bool,
    /// Whether the tag is local to the instance (never synchronised).
    pub local: bool,
}

/// What a tag says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind<'a> {
    Tlp(Tlp),
    Pap(Pap),
    /// An RSIT classification: taxonomy and type slugs.
    Rsit {
        taxonomy: &'static str,
        class_type: &'static str,
    },
    Free(&'a str),
}

impl Tag {
    /// An exportable, non-local tag.
    pub fn new(name: impl Into<String>) -> Tag {
        Tag { name: name.into(), colour: None, exportable: true, local: false }
    }

    /// The official machine tag of a TLP label (`tlp:amber+strict`).
    pub fn tlp(tlp: Tlp) -> Tag {
        Tag::new(format!("tlp:{}", tlp.slug()))
    }

    /// The machine tag of a PAP label (`PAP:AMBER`, as MISP's taxonomy spells it).
    pub fn pap(pap: Pap) -> Tag {
        Tag::new(pap.label().to_owned())
    }

    /// What the tag says.
    pub fn kind(&self) -> TagKind<'_> {
        tag_kind(&self.name)
    }

    /// Whether the tag may leave the instance.
    pub fn travels(&self) -> bool {
        self.exportable && !self.local
    }
}

/// Checks a tag name: not empty, at most [`MAX_TAG_BYTES`], no control characters.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("is empty".into());
    }
    if name.len() > MAX_TAG_BYTES {
        return Err(format!("is longer than {MAX_TAG_BYTES} bytes"));
    }
    if name.chars().any(char::is_control) {
        return Err("contains control characters".into());
    }
    Ok(())
}

/// What a tag name says.
pub fn tag_kind(name: &str) -> TagKind<'_> {
    let trimmed = name.trim();
    let lower = trimmed.to_ascii_lowercase();
    if let Some(label) = lower.strip_prefix("tlp:") {
        // Only the five TLP 2.0 labels and legacy WHITE; tlp:ex:chr and the like are free tags.
        if let Ok(tlp) = label.parse::<Tlp>() {
            return TagKind::Tlp(tlp);
        }
    }
    if let Some(label) = lower.strip_prefix("pap:")
        && let Ok(pap) = label.parse::<Pap>()
    {
        return TagKind::Pap(pap);
    }
    for prefix in ["rsit:", "ecsirt:"] {
        if let Some(rest) = lower.strip_prefix(prefix)
            && let Some((taxonomy, quoted)) = rest.split_once('=')
        {
            let class_type = quoted.trim_matches('"');
            if let (Some(taxonomy), Some(class_type)) = (
                neretva_event::taxonomy::canonical_taxonomy(taxonomy),
                neretva_event::taxonomy::canonical_type(class_type),
            ) && neretva_event::taxonomy::taxonomy_of(class_type) == Some(taxonomy)
            {
                return TagKind::Rsit { taxonomy, class_type };
            }
        }
    }
    TagKind::Free(trimmed)
}

/// The TLP the tags set: the most restrictive TLP tag, if any.
pub fn tlp_of(tags: &[Tag]) -> Option<Tlp> {
    tags.iter()
        .filter_map(|tag| match tag.kind() {
            TagKind::Tlp(tlp) => Some(tlp),
            _ => None,
        })
        .max()
}

/// The PAP the tags set: the most restrictive PAP tag, if any.
pub fn pap_of(tags: &[Tag]) -> Option<Pap> {
    tags.iter()
        .filter_map(|tag| match tag.kind() {
            TagKind::Pap(pap) => Some(pap),
            _ => None,
        })
        .max()
}

/// Replaces the TLP tags with the official tag of `tlp`.
pub fn set_tlp(tags: &mut Vec<Tag>, tlp: Tlp) {
    tags.retain(|tag| !matches!(tag.kind(), TagKind::Tlp(_)));
    tags.push(Tag::tlp(tlp));
}

/// Replaces the PAP tags with the tag of `pap`.
pub fn set_pap(tags: &mut Vec<Tag>, pap: Pap) {
    tags.retain(|tag| !matches!(tag.kind(), TagKind::Pap(_)));
    tags.push(Tag::pap(pap));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_tags_are_read() {
        assert_eq!(tag_kind("tlp:amber+strict"), TagKind::Tlp(Tlp::AmberStrict));
        assert_eq!(tag_kind("TLP:AMBER-STRICT"), TagKind::Tlp(Tlp::AmberStrict));
        assert_eq!(tag_kind("tlp:white"), TagKind::Tlp(Tlp::Clear));
        assert_eq!(tag_kind("tlp:ex:chr"), TagKind::Free("tlp:ex:chr"));
        assert_eq!(tag_kind("tlp:unclear"), TagKind::Free("tlp:unclear"));
        assert_eq!(tag_kind("PAP:RED"), TagKind::Pap(Pap::Red));
        assert_eq!(tag_kind("pap:white"), TagKind::Pap(Pap::Clear));
        assert_eq!(
            tag_kind("rsit:malicious-code=\"c2-server\""),
            TagKind::Rsit { taxonomy: "malicious-code", class_type: "c2-server" }
        );
        assert_eq!(
            tag_kind("ecsirt:fraud=\"phishing\""),
            TagKind::Rsit { taxonomy: "fraud", class_type: "phishing" }
        );
        // A type under the wrong taxonomy is not a classification.
        assert_eq!(tag_kind("rsit:fraud=\"c2-server\""), TagKind::Free("rsit:fraud=\"c2-server\""));
        assert_eq!(tag_kind("APT28"), TagKind::Free("APT28"));
    }

    #[test]
    fn the_most_restrictive_label_wins() {
        let tags =
            vec![Tag::new("tlp:green"), Tag::new("tlp:amber"), Tag::new("PAP:GREEN"), Tag::new("pap:red")];
        assert_eq!(tlp_of(&tags), Some(Tlp::Amber));
        assert_eq!(pap_of(&tags), Some(Pap::Red));
        let mut tags = tags;
        set_tlp(&mut tags, Tlp::Clear);
        assert_eq!(tlp_of(&tags), Some(Tlp::Clear));
        assert_eq!(tlp_of(&[Tag::new("free")]), None);
        assert!(check_name("").is_err());
        assert!(check_name("a\u{7}").is_err());
        assert!(check_name(&"x".repeat(256)).is_err());
    }
}
