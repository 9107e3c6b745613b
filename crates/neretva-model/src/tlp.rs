//! Traffic Light Protocol 2.0 (FIRST) and the Permissible Actions Protocol.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A TLP 2.0 label, ordered from least to most restrictive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Tlp {
    Clear,
    Green,
    Amber,
    AmberStrict,
    Red,
}

impl Tlp {
    pub const ALL: [Tlp; 5] = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red];

    /// The label as FIRST writes it, e.g. `TLP:AMBER+STRICT`.
    pub fn label(self) -> &'static str {
        match self {
            Tlp::Clear => "TLP:CLEAR",
            Tlp::Green => "TLP:GREEN",
            Tlp::Amber => "TLP:AMBER",
            Tlp::AmberStrict => "TLP:AMBER+STRICT",
            Tlp::Red => "TLP:RED",
        }
    }

    /// The lower-case slug stored in databases and used in MISP tags (`amber+strict`).
    pub fn slug(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// An unknown TLP or PAP label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {protocol} label {input:?}; expected one of {expected}")]
pub struct LabelError {
    protocol: &'static str,
    input: String,
    expected: &'static str,
}

impl FromStr for Tlp {
    type Err = LabelError;

    /// Accepts `TLP:AMBER+STRICT`, `amber+strict`, `tlp:amber-strict` and the legacy `WHITE`.
    fn from_str(input: &str) -> Result<Tlp, LabelError> {
        let lower = input.trim().to_ascii_lowercase();
        let bare = lower.strip_prefix("tlp:").unwrap_or(&lower);
        Ok(match bare {
            "clear" | "white" => Tlp::Clear,
            "green" => Tlp::Green,
            "amber" => Tlp::Amber,
            "amber+strict" | "amber-strict" | "amber_strict" => Tlp::AmberStrict,
            "red" => Tlp::Red,
            _ => {
                return Err(LabelError {
                    protocol: "TLP",
                    input: input.to_owned(),
                    expected: "CLEAR, GREEN, AMBER, AMBER+STRICT, RED",
                });
            }
        })
    }
}

impl TryFrom<String> for Tlp {
    type Error = LabelError;
    fn try_from(value: String) -> Result<Tlp, LabelError> {
        value.parse()
    }
}

impl From<Tlp> for String {
    fn from(value: Tlp) -> String {
        value.label().to_owned()
    }
}

/// A PAP label: what a recipient may do with the information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Pap {
    Clear,
    Green,
    Amber,
    Red,
}

impl Pap {
    pub fn label(self) -> &'static str {
        match self {
            Pap::Clear => "PAP:CLEAR",
            Pap::Green => "PAP:GREEN",
            Pap::Amber => "PAP:AMBER",
            Pap::Red => "PAP:RED",
        }
    }
}

impl fmt::Display for Pap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Pap {
    type Err = LabelError;

    fn from_str(input: &str) -> Result<Pap, LabelError> {
        let lower = input.trim().to_ascii_lowercase();
        let bare = lower.strip_prefix("pap:").unwrap_or(&lower);
        Ok(match bare {
            "clear" | "white" => Pap::Clear,
            "green" => Pap::Green,
            "amber" => Pap::Amber,
            "red" => Pap::Red,
            _ => {
                return Err(LabelError {
                    protocol: "PAP",
                    input: input.to_owned(),
                    expected: "CLEAR, GREEN, AMBER, RED",
                });
            }
        })
    }
}

impl TryFrom<String> for Pap {
    type Error = LabelError;
    fn try_from(value: String) -> Result<Pap, LabelError> {
        value.parse()
    }
}

impl From<Pap> for String {
    fn from(value: Pap) -> String {
        value.label().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlp_labels_round_trip_and_accept_legacy_spellings() {
        for tlp in Tlp::ALL {
            assert_eq!(tlp.label().parse::<Tlp>(), Ok(tlp));
            assert_eq!(tlp.slug().parse::<Tlp>(), Ok(tlp));
        }
        assert_eq!("TLP:WHITE".parse::<Tlp>(), Ok(Tlp::Clear));
        assert_eq!("tlp:amber-strict".parse::<Tlp>(), Ok(Tlp::AmberStrict));
        let error = "TLP:ORANGE".parse::<Tlp>().unwrap_err().to_string();
        assert_eq!(
            error,
            "unknown TLP label \"TLP:ORANGE\"; expected one of CLEAR, GREEN, AMBER, AMBER+STRICT, RED"
        );
        assert!(Tlp::Red > Tlp::AmberStrict && Tlp::AmberStrict > Tlp::Amber);
    }

    #[test]
    fn pap_labels_round_trip() {
        for pap in [Pap::Clear, Pap::Green, Pap::Amber, Pap::Red] {
            assert_eq!(pap.label().parse::<Pap>(), Ok(pap));
        }
        assert_eq!("white".parse::<Pap>(), Ok(Pap::Clear));
        assert!("PAP:BLUE".parse::<Pap>().is_err());
    }
}
