//! The stored forms that both backends share, so SQLite and PostgreSQL agree on them: times
//! kept to the microsecond, case-folded names, addresses as 16 ordered bytes, page sizes, the
//! checks on stored text and the audited form of an asset. No SQL here.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv6Addr};

use neretva_model::Timestamp;
use neretva_model::Uuid;
use neretva_model::asset::{Asset, AssetKind};
use neretva_net::Cidr;
use serde::Serialize;

use crate::StoreError;
use crate::feeds::{EventBatch, NewEvent};

/// The current time, truncated to the microseconds the database keeps.
pub fn now() -> Timestamp {
    truncate(Timestamp::now_utc())
}

/// Drops the nanoseconds below a microsecond.
pub fn truncate(at: Timestamp) -> Timestamp {
    at.replace_nanosecond(at.nanosecond() / 1000 * 1000).unwrap_or(at)
}

/// The key that makes names and short names unique regardless of case.
pub fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// A count or line number as stored; one beyond `i64` is refused, naming the field.
pub fn to_i64(value: u64, field: &str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::conflict(field, format!("{value} is too large to store")))
}

/// An address as stored: 16 bytes, an IPv4 address (or an IPv4-mapped IPv6 one) as
/// `::ffff:a.b.c.d`, so that the bytes order as the addresses do.
pub fn ip_key(address: IpAddr) -> [u8; 16] {
    match address.to_canonical() {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// The stored addresses a network holds: an inclusive range, and a range inside it to leave
/// out. An IPv6 network around `::ffff:0:0/96` leaves out the IPv4 addresses stored there, as
/// `Cidr::contains` never finds an IPv4 address in an IPv6 network.
pub struct IpRange {
    pub first: [u8; 16],
    pub last: [u8; 16],
    pub except: Option<([u8; 16], [u8; 16])>,
}

/// The IPv4-mapped addresses, where stored IPv4 addresses live.
const MAPPED: u128 = 0xffff_0000_0000;

/// The stored-address range of a network.
pub fn ip_range(network: &Cidr) -> IpRange {
    let (first, last) = (ip_key(network.network()), ip_key(network.last()));
    let except = match network.network() {
        IpAddr::V6(start) => {
            let mapped = (Ipv6Addr::from(MAPPED), Ipv6Addr::from(MAPPED | 0xffff_ffff));
            let start = u128::from(start);
            let end = u128::from_be_bytes(last);
            // Networks nest or are apart, so overlapping the mapped block means holding it or
            // lying inside it; either way nothing of the overlap is an IPv6 address stored.
            (start <= u128::from(mapped.1) && end >= u128::from(mapped.0))
                .then(|| (mapped.0.octets(), mapped.1.octets()))
        }
        IpAddr::V4(_) => None,
    };
    IpRange { first, last, except }
}

/// Text that PostgreSQL could not store either is refused, so both backends agree.
pub fn check_text(field: &str, text: &str) -> Result<(), StoreError> {
    // Every stored event's JSON and raw line pass here: the vectorised search.
    if memchr::memchr(0, text.as_bytes()).is_some() {
        return Err(StoreError::conflict(field, "text must not contain NUL characters"));
    }
    Ok(())
}

/// Text kept for inspection, with NUL characters replaced.
pub fn without_nul(text: &str) -> Cow<'_, str> {
    if text.contains('\0') { Cow::Owned(text.replace('\0', "\u{fffd}")) } else { Cow::Borrowed(text) }
}

/// Page sizes of listings: a limit of 0 means the default, larger ones are capped.
pub const PAGE: (u32, u32) = (100, 10_000);

/// The number of rows a listing returns for the caller's `limit`.
pub fn page(limit: u32) -> i64 {
    i64::from(match limit {
        0 => PAGE.0,
        limit => limit.min(PAGE.1),
    })
}

/// Checks what of an event the backends store as text or integers.
pub fn check_event(event: &NewEvent) -> Result<(), StoreError> {
    to_i64(event.line, "line")?;
    check_text("feed", &event.feed)?;
    check_text("raw", &event.raw)?;
    check_text("json", &event.json)?;
    for (field, text) in [
        ("taxonomy", &event.taxonomy),
        ("classification_type", &event.classification_type),
        ("source_fqdn", &event.source_fqdn),
    ] {
        if let Some(text) = text {
            check_text(field, text)?;
        }
    }
    Ok(())
}

/// Checks that a batch has one deduplication key per event, if it has keys.
pub fn check_batch(batch: &EventBatch) -> Result<(), StoreError> {
    match &batch.dedup {
        Some(dedup) if dedup.keys.len() != batch.events.len() => Err(StoreError::conflict(
            "dedup.keys",
            format!("{} keys for {} events; must be one per event", dedup.keys.len(), batch.events.len()),
        )),
        _ => Ok(()),
    }
}

/// The audited form of an asset (the model's asset is not serialisable).
#[derive(Serialize)]
pub struct AssetRecord<'a> {
    pub id: Uuid,
    pub org_id: Uuid,
    pub kind: AssetKind,
    pub value: String,
    pub description: Option<&'a str>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
}

impl<'a> From<&'a Asset> for AssetRecord<'a> {
    fn from(asset: &'a Asset) -> AssetRecord<'a> {
        AssetRecord {
            id: asset.id,
            org_id: asset.org_id,
            kind: asset.value.kind(),
            value: asset.value.to_string(),
            description: asset.description.as_deref(),
            created_at: asset.created_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_order_as_stored_bytes_and_ipv6_networks_skip_mapped_ipv4() {
        let key = |text: &str| ip_key(text.parse().unwrap());
        assert!(key("192.0.2.1") < key("192.0.2.2"));
        assert_eq!(key("192.0.2.1"), key("::ffff:192.0.2.1"));
        let all_v6 = ip_range(&"::/0".parse().unwrap());
        assert!(all_v6.except.is_some(), "stored IPv4 addresses are not in ::/0");
        assert!(ip_range(&"2001:db8::/32".parse().unwrap()).except.is_none());
        assert_eq!((page(0), page(50), page(1_000_000)), (100, 50, 10_000));
        assert!(check_text("raw", "a\0b").is_err());
        assert_eq!(without_nul("a\0b"), "a\u{fffd}b");
    }
}
