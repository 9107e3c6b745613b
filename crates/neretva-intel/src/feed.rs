//! A MISP feed, as MISP's feed generator publishes one: `manifest.json` (every event's metadata
//! by UUID), `hashes.csv` (the MD5 of every attribute value with its event's UUID, so a MISP
//! instance can look values up without fetching events) and one `{uuid}.json` per event.
//!
//! [`write_feed`] is pure: it returns the files' names and bytes, for the caller to write.
//! Only published events are included; local and non-exportable tags are dropped, and so are
//! deleted attributes and those restricted to the organisation. Output is deterministic: events
//! and hash lines in UUID order.

use md5::{Digest, Md5};
use serde_json::{Map, Value};

use crate::misp;
use crate::model::{AttrDistribution, Distribution, IntelEvent};

/// One file of a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The files of a feed of `events`.
pub fn write_feed(events: &[IntelEvent]) -> Vec<FeedFile> {
    let mut selected: Vec<IntelEvent> =
        events.iter().filter(|event| event.published).map(feed_form).collect();
    selected.sort_by_key(|event| event.uuid);
    let mut manifest = Map::new();
    let mut hashes: Vec<(String, String)> = Vec::new();
    let mut files = Vec::new();
    for event in &selected {
        let fields = misp::event_fields(event);
        let mut entry = Map::new();
        for key in ["info", "date", "analysis", "threat_level_id", "timestamp", "publish_timestamp", "Orgc"] {
            if let Some(value) = fields.get(key) {
                entry.insert(key.into(), value.clone());
            }
        }
        let tags = event
            .tags
            .iter()
            .map(|tag| {
                let mut item = Map::new();
                item.insert("name".into(), Value::String(tag.name.clone()));
                item.insert("colour".into(), Value::String(tag.colour.clone().unwrap_or_default()));
                Value::Object(item)
            })
            .collect();
        entry.insert("Tag".into(), Value::Array(tags));
        manifest.insert(event.uuid.to_string(), Value::Object(entry));
        for (_, attribute) in event.all_attributes() {
            let parts: Vec<&str> = if attribute.attr_type.contains('|') {
                attribute.value.split('|').collect()
            } else {
                vec![attribute.value.as_str()]
            };
            for part in parts {
                hashes.push((hex::encode(Md5::digest(part.as_bytes())), event.uuid.to_string()));
            }
        }
        let body = serde_json::to_vec_pretty(&misp::export_event(event)).unwrap_or_default();
        files.push(FeedFile { name: format!("{}.json", event.uuid), bytes: body });
    }
    hashes.sort();
    hashes.dedup();
    let mut csv = String::new();
    for (hash, uuid) in &hashes {
        csv.push_str(hash);
        csv.push(',');
        csv.push_str(uuid);
        csv.push('\n');
    }
    let manifest = serde_json::to_vec_pretty(&Value::Object(manifest)).unwrap_or_default();
    let mut out = vec![
        FeedFile { name: "manifest.json".into(), bytes: manifest },
        FeedFile { name: "hashes.csv".into(), bytes: csv.into_bytes() },
    ];
    out.extend(files);
    out
}

/// The event as a feed publishes it.
fn feed_form(event: &IntelEvent) -> IntelEvent {
    let mut out = event.clone();
    let stays =
        |distribution: AttrDistribution| distribution == AttrDistribution::Level(Distribution::Organisation);
    out.tags.retain(|tag| tag.travels());
    out.attributes.retain(|attribute| !attribute.deleted && !stays(attribute.distribution));
    for attribute in &mut out.attributes {
        attribute.tags.retain(|tag| tag.travels());
    }
    out.objects.retain(|object| !object.deleted && !stays(object.distribution));
    for object in &mut out.objects {
        object.attributes.retain(|attribute| !attribute.deleted && !stays(attribute.distribution));
        for attribute in &mut object.attributes {
            attribute.tags.retain(|tag| tag.travels());
        }
    }
    out
}
