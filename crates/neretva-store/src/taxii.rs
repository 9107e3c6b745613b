//! TAXII 2.1 storage types: collections, the STIX objects in them, and the status of an
//! add-objects request.
//!
//! Every object version in a collection has a `date_added` (microseconds since the epoch) that
//! is unique and increasing within its collection: the backend gives each new object the later
//! of the current time and one microsecond after the collection's latest, under the
//! collection's lock. Pages are read in `(date_added, row)` order after a [`Cursor`], so a
//! client paging through a collection never sees an object twice or misses one added behind
//! it.
//!
//! Reads do no access control: the server filters every object through
//! `neretva_model::taxii::may_see_object`.

use neretva_model::taxii::{Sharing, Writers};
use neretva_model::tlp::Tlp;
use neretva_model::{Timestamp, Uuid};

use crate::StoreError;

/// The most objects one query returns.
pub const MAX_PAGE: u32 = 10_000;

/// The longest `title`, `description` and `alias`.
pub const MAX_TITLE: usize = 200;
pub const MAX_DESCRIPTION: usize = 4_000;

/// The largest stored object, in bytes of JSON.
pub const MAX_OBJECT_BYTES: usize = 1 << 20;

/// The media type of STIX 2.1 objects.
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";

/// A collection's settings, as created and updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionFields {
    pub title: String,
    pub description: Option<String>,
    /// A unique short name, usable in place of the id.
    pub alias: Option<String>,
    pub media_types: Vec<String>,
    pub owner_org: Uuid,
    pub sharing: Sharing,
    pub writers: Writers,
    /// The TLP of posted objects that carry no TLP marking.
    pub default_tlp: Tlp,
}

impl CollectionFields {
    /// Checks the fields' forms (not that the organisations exist); every problem at once.
    pub fn check(&self) -> Result<(), Vec<neretva_model::FieldError>> {
        let mut problems = Vec::new();
        if let Err(error) = neretva_model::check_text("title", &self.title, MAX_TITLE) {
            problems.push(error);
        }
        if let Some(description) = &self.description
            && let Err(error) =
                neretva_model::check_optional_text("description", description, MAX_DESCRIPTION)
        {
            problems.push(error);
        }
        if let Some(alias) = &self.alias {
            let ok = !alias.is_empty()
                && alias.len() <= 64
                && alias
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
            if !ok {
                problems.push(neretva_model::FieldError::new(
                    "alias",
                    "an alias is 1 to 64 of a-z, 0-9, - and _",
                ));
            } else if Uuid::try_parse(alias).is_ok() {
                problems.push(neretva_model::FieldError::new("alias", "an alias must not look like an id"));
            }
        }
        if self.media_types.is_empty() {
            problems.push(neretva_model::FieldError::new("media_types", "at least one media type"));
        }
        for media_type in &self.media_types {
            if media_type != STIX_MEDIA_TYPE {
                problems.push(neretva_model::FieldError::new(
                    "media_types",
                    format!("{media_type:?} is not supported; only {STIX_MEDIA_TYPE}"),
                ));
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }
}

/// A stored collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    pub id: Uuid,
    pub fields: CollectionFields,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One object version to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObject {
    /// `indicator--…`.
    pub stix_id: String,
    pub object_type: String,
    /// `modified`, else `created`, in microseconds; `None` for objects with neither, whose
    /// version is their `date_added`.
    pub version: Option<i64>,
    pub spec_version: String,
    pub tlp: Tlp,
    /// The object as JSON text.
    pub body: String,
}

/// A request to add objects to a collection, with the objects that already failed validation.
#[derive(Debug, Clone)]
pub struct AddObjects {
    pub status_id: Uuid,
    pub collection_id: Uuid,
    /// Who posts: the owner of the new objects, and the named recipient of `TLP:RED` ones.
    pub org_id: Uuid,
    pub user_id: Option<Uuid>,
    pub objects: Vec<NewObject>,
    /// Objects refused before storage (validation), in request order among `objects`.
    pub failures: Vec<StatusDetail>,
}

/// One object's outcome in a status resource.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StatusDetail {
    pub id: String,
    /// The object's version (its `modified` or `created`), when it has one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub message: Option<String>,
}

/// The status of an add-objects request. Requests are processed before the response, so a
/// stored status is always `complete`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub id: Uuid,
    pub collection_id: Uuid,
    pub user_id: Option<Uuid>,
    pub org_id: Uuid,
    pub request_timestamp: Timestamp,
    pub successes: Vec<StatusDetail>,
    pub failures: Vec<StatusDetail>,
    pub pendings: Vec<StatusDetail>,
}

impl Status {
    pub fn total_count(&self) -> usize {
        self.successes.len() + self.failures.len() + self.pendings.len()
    }
}

/// The status lists as stored together.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct StatusDetails {
    pub successes: Vec<StatusDetail>,
    pub failures: Vec<StatusDetail>,
    pub pendings: Vec<StatusDetail>,
}

/// A position in a collection: the last `(date_added, row)` a page returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    pub date_added: i64,
    pub row: i64,
}

/// Which versions of each object a query returns (`match[version]`); several may be given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionFilter {
    pub all: bool,
    pub first: bool,
    pub last: bool,
    /// Exact versions, in microseconds.
    pub at: Vec<i64>,
}

impl VersionFilter {
    /// The default, the latest version of each object.
    pub fn last() -> VersionFilter {
        VersionFilter { last: true, ..VersionFilter::default() }
    }
}

/// A page of a collection's objects, in `(date_added, row)` order.
#[derive(Debug, Clone)]
pub struct ObjectQuery {
    pub collection_id: Uuid,
    /// Only after this position (the previous page's last object).
    pub after: Option<Cursor>,
    /// Only objects added after this time, in microseconds.
    pub added_after: Option<i64>,
    /// `match[id]`: any of these ids; empty for any.
    pub ids: Vec<String>,
    /// `match[type]`: any of these types; empty for any.
    pub types: Vec<String>,
    pub versions: VersionFilter,
    /// `match[spec_version]`: any of these; empty for any.
    pub spec_versions: Vec<String>,
    /// Only objects with one of these TLP labels (a superset of what the caller may see).
    pub tlps: Vec<Tlp>,
    /// At most this many rows, capped at [`MAX_PAGE`].
    pub limit: u32,
    /// Whether to read the objects' JSON (not needed for manifests and versions).
    pub with_body: bool,
}

impl ObjectQuery {
    /// A query for every current object of a collection.
    pub fn new(collection_id: Uuid, limit: u32) -> ObjectQuery {
        ObjectQuery {
            collection_id,
            after: None,
            added_after: None,
            ids: Vec::new(),
            types: Vec::new(),
            versions: VersionFilter::last(),
            spec_versions: Vec::new(),
            tlps: neretva_model::tlp::Tlp::ALL.to_vec(),
            limit,
            with_body: true,
        }
    }

    /// Refuses filters too large to run.
    pub fn check(&self) -> Result<(), StoreError> {
        let lists = [("match[id]", self.ids.len()), ("match[type]", self.types.len())];
        for (field, len) in lists {
            if len > 1_000 {
                return Err(StoreError::conflict(field, "more than 1000 values"));
            }
        }
        if self.versions.at.len() > 1_000 || self.spec_versions.len() > 10 {
            return Err(StoreError::conflict("match[version]", "too many values"));
        }
        Ok(())
    }

    pub fn page_limit(&self) -> u32 {
        self.limit.clamp(1, MAX_PAGE)
    }
}

/// One stored object version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub row: i64,
    pub stix_id: String,
    pub object_type: String,
    /// `modified` or `created`, else `date_added`, in microseconds.
    pub version: i64,
    pub date_added: i64,
    pub spec_version: String,
    pub tlp: Tlp,
    pub org_id: Uuid,
    pub user_id: Option<Uuid>,
    /// The JSON text; empty when the query did not ask for it.
    pub body: String,
}

impl StoredObject {
    pub fn cursor(&self) -> Cursor {
        Cursor { date_added: self.date_added, row: self.row }
    }
}

/// The next `date_added` of a collection whose latest is `last`, at time `now` (both in
/// microseconds): strictly after `last`, and not before `now`.
pub fn next_date_added(last: i64, now: i64) -> i64 {
    now.max(last.saturating_add(1))
}

/// Checks the objects of a request before they are written.
pub fn check_objects(objects: &[NewObject]) -> Result<(), StoreError> {
    for object in objects {
        if object.body.len() > MAX_OBJECT_BYTES {
            return Err(StoreError::conflict("objects", format!("{} is larger than 1 MiB", object.stix_id)));
        }
        crate::encode::check_text("objects", &object.body)?;
    }
    Ok(())
}

/// The digest of a collection recorded in the audit log.
pub fn collection_digest(collection: &Collection) -> String {
    #[derive(serde::Serialize)]
    struct Audited<'a> {
        id: Uuid,
        title: &'a str,
        description: Option<&'a str>,
        alias: Option<&'a str>,
        media_types: &'a [String],
        owner_org: Uuid,
        sharing: &'a str,
        sharing_orgs: &'a [Uuid],
        writers: &'a str,
        default_tlp: &'a str,
    }
    let fields = &collection.fields;
    neretva_model::audit::digest_json(&Audited {
        id: collection.id,
        title: &fields.title,
        description: fields.description.as_deref(),
        alias: fields.alias.as_deref(),
        media_types: &fields.media_types,
        owner_org: fields.owner_org,
        sharing: fields.sharing.kind(),
        sharing_orgs: fields.sharing.orgs(),
        writers: fields.writers.as_str(),
        default_tlp: fields.default_tlp.slug(),
    })
}

/// The digest of an add-objects request's outcome recorded in the audit log.
pub fn status_digest(status: &Status) -> String {
    neretva_model::audit::digest_json(&StatusDetails {
        successes: status.successes.clone(),
        failures: status.failures.clone(),
        pendings: status.pendings.clone(),
    })
}

/// A `date_added` in microseconds, always with six fraction digits, so the texts order as the
/// times do.
pub fn format_date_added(micros: i64) -> String {
    let text = format_micros(micros);
    match text.len() {
        24 => format!("{}000Z", &text[..23]),
        _ => text,
    }
}

/// A version in microseconds as STIX writes timestamps (`2025-03-01T00:00:00.000Z`, with
/// microseconds when there are any).
pub fn format_micros(micros: i64) -> String {
    let Ok(at) = Timestamp::from_unix_timestamp_nanos(i128::from(micros) * 1000) else {
        return micros.to_string();
    };
    let (year, month, day) = (at.year(), u8::from(at.month()), at.day());
    let (hour, minute, second) = (at.hour(), at.minute(), at.second());
    let micro = at.microsecond();
    if micro % 1000 == 0 {
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{:03}Z", micro / 1000)
    } else {
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{micro:06}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_added_always_moves_forward() {
        assert_eq!(next_date_added(10, 5), 11);
        assert_eq!(next_date_added(10, 50), 50);
        assert_eq!(next_date_added(i64::MAX, 0), i64::MAX);
    }

    #[test]
    fn collection_fields_report_every_problem() {
        let fields = CollectionFields {
            title: " ".into(),
            description: None,
            alias: Some("Bad Alias".into()),
            media_types: vec!["application/json".into()],
            owner_org: Uuid::nil(),
            sharing: Sharing::Public,
            writers: Writers::Owner,
            default_tlp: Tlp::Green,
        };
        let fields: Vec<String> = fields.check().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["title", "alias", "media_types"]);
    }
}
