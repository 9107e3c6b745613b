//! Assets: what an organisation owns on the network.

use std::fmt;
use std::str::FromStr;

use neretva_net::{Asn, Cidr, DomainName};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{FieldError, Timestamp};

/// An IP range, an autonomous system or a domain (and its subdomains).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AssetValue {
    Cidr(Cidr),
    Asn(Asn),
    Domain(DomainName),
}

/// The kind of an asset, as written in files and the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AssetKind {
    Cidr,
    Asn,
    Domain,
}

impl AssetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AssetKind::Cidr => "cidr",
            AssetKind::Asn => "asn",
            AssetKind::Domain => "domain",
        }
    }
}

impl FromStr for AssetKind {
    type Err = FieldError;
    fn from_str(input: &str) -> Result<AssetKind, FieldError> {
        match input.trim().to_ascii_lowercase().as_str() {
            "cidr" | "ip" | "network" => Ok(AssetKind::Cidr),
            "asn" | "as" => Ok(AssetKind::Asn),
            "domain" | "fqdn" => Ok(AssetKind::Domain),
            _ => Err(FieldError::new(
                "kind",
                format!("unknown asset kind {input:?}; expected cidr, asn or domain"),
            )),
        }
    }
}

impl AssetValue {
    /// Parses a value of a known kind, reporting problems against the field `value`.
    pub fn parse(kind: AssetKind, value: &str) -> Result<AssetValue, FieldError> {
        let field_error = |error: neretva_net::NetError| FieldError::new("value", error.to_string());
        Ok(match kind {
            AssetKind::Cidr => AssetValue::Cidr(value.trim().parse().map_err(field_error)?),
            AssetKind::Asn => AssetValue::Asn(value.trim().parse().map_err(field_error)?),
            AssetKind::Domain => AssetValue::Domain(value.trim().parse().map_err(field_error)?),
        })
    }

    /// Guesses the kind: `AS…` or a number is an ASN, a `/` or an IP a CIDR, else a domain.
    pub fn guess(value: &str) -> Result<AssetValue, FieldError> {
        let value = value.trim();
        let lower = value.to_ascii_lowercase();
        if lower.starts_with("as") && lower[2..].chars().all(|c| c.is_ascii_digit() || c == '.')
            || value.chars().all(|c| c.is_ascii_digit())
        {
            AssetValue::parse(AssetKind::Asn, value)
        } else if value.contains('/') || value.parse::<std::net::IpAddr>().is_ok() {
            AssetValue::parse(AssetKind::Cidr, value)
        } else {
            AssetValue::parse(AssetKind::Domain, value)
        }
    }

    pub fn kind(&self) -> AssetKind {
        match self {
            AssetValue::Cidr(_) => AssetKind::Cidr,
            AssetValue::Asn(_) => AssetKind::Asn,
            AssetValue::Domain(_) => AssetKind::Domain,
        }
    }
}

impl fmt::Display for AssetValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssetValue::Cidr(cidr) => cidr.fmt(f),
            AssetValue::Asn(asn) => asn.fmt(f),
            AssetValue::Domain(domain) => domain.fmt(f),
        }
    }
}

/// A stored asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    pub id: Uuid,
    pub org_id: Uuid,
    pub value: AssetValue,
    pub description: Option<String>,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guess_picks_the_kind() {
        assert_eq!(AssetValue::guess("AS64500").unwrap().kind(), AssetKind::Asn);
        assert_eq!(AssetValue::guess("64500").unwrap().kind(), AssetKind::Asn);
        assert_eq!(AssetValue::guess("192.0.2.0/24").unwrap().kind(), AssetKind::Cidr);
        assert_eq!(AssetValue::guess("2001:db8::1").unwrap().kind(), AssetKind::Cidr);
        assert_eq!(AssetValue::guess("Example.BA").unwrap().to_string(), "example.ba");
        let error = AssetValue::parse(AssetKind::Cidr, "192.0.2.300/24").unwrap_err();
        assert_eq!(error.field, "value");
    }
}
