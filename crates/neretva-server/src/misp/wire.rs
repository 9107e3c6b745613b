//! The MISP JSON shapes this API answers with: events with numeric ids (`id` is the event's
//! `seq`; attributes and sharing groups have ids of their own), numbers as strings, sharing
//! groups by numeric id; and the translation of incoming numeric sharing group ids to uuids.

use std::collections::HashMap;

use neretva_intel::access::SharingGroupView;
use neretva_intel::misp;
use neretva_model::Uuid;
use neretva_store::intel::StoredIntelEvent;
use serde_json::{Map, Value, json};

use crate::registry::RegistrySnapshot;

/// The numeric ids of sharing groups, both ways.
#[derive(Debug, Default)]
pub(crate) struct GroupIds {
    pub(crate) by_uuid: HashMap<Uuid, i64>,
    pub(crate) by_id: HashMap<i64, Uuid>,
}

impl GroupIds {
    pub(crate) fn new(pairs: Vec<(Uuid, i64)>) -> GroupIds {
        GroupIds {
            by_uuid: pairs.iter().copied().collect(),
            by_id: pairs.into_iter().map(|(uuid, id)| (id, uuid)).collect(),
        }
    }
}

fn text(value: impl ToString) -> Value {
    Value::String(value.to_string())
}

/// Rewrites `sharing_group_id` and `SharingGroup` of one event, attribute or object to MISP's
/// numeric form.
fn number_groups(fields: &mut Map<String, Value>, groups: &GroupIds, names: &HashMap<Uuid, String>) {
    let uuid =
        fields.get("sharing_group_id").and_then(Value::as_str).and_then(|text| Uuid::try_parse(text).ok());
    match uuid {
        Some(uuid) => {
            let id = groups.by_uuid.get(&uuid).copied().unwrap_or(0);
            fields.insert("sharing_group_id".into(), text(id));
            let mut group = Map::new();
            group.insert("id".into(), text(id));
            group.insert("uuid".into(), text(uuid));
            if let Some(name) = names.get(&uuid) {
                group.insert("name".into(), text(name));
            }
            fields.insert("SharingGroup".into(), Value::Object(group));
        }
        None => {
            fields.insert("sharing_group_id".into(), text(0));
        }
    }
}

/// What an event's JSON needs beyond the event.
pub(crate) struct Context<'a> {
    pub(crate) groups: &'a GroupIds,
    /// Names of the sharing groups the caller may see.
    pub(crate) group_names: &'a HashMap<Uuid, String>,
    pub(crate) registry: &'a RegistrySnapshot,
}

fn org_json(uuid: Uuid, name: &str) -> Value {
    json!({ "uuid": uuid.to_string(), "name": name, "local": true })
}

fn attribute_fields(
    mut attribute: Map<String, Value>,
    stored: &StoredIntelEvent,
    context: &Context<'_>,
) -> Map<String, Value> {
    let uuid = attribute.get("uuid").and_then(Value::as_str).and_then(|text| Uuid::try_parse(text).ok());
    if let Some(id) = uuid.and_then(|uuid| stored.attribute_id(uuid)) {
        attribute.insert("id".into(), text(id));
    }
    attribute.insert("event_id".into(), text(stored.seq));
    number_groups(&mut attribute, context.groups, context.group_names);
    attribute
}

/// The event's fields as MISP serves them (without the `{"Event": …}` wrapper); attributes the
/// caller may not see are left out by `keep`.
pub(crate) fn event_fields(
    stored: &StoredIntelEvent,
    context: &Context<'_>,
    keep: &dyn Fn(Uuid) -> bool,
) -> Map<String, Value> {
    let mut fields = misp::event_fields(&stored.event);
    fields.insert("id".into(), text(stored.seq));
    if !fields.contains_key("Org") {
        let name = context.registry.orgs.get(&stored.owner_org).map_or("", |org| org.fields.name.as_str());
        fields.insert("Org".into(), org_json(stored.owner_org, name));
    }
    number_groups(&mut fields, context.groups, context.group_names);
    let kept = |item: &Value| {
        item.get("uuid").and_then(Value::as_str).and_then(|text| Uuid::try_parse(text).ok()).is_some_and(keep)
    };
    if let Some(Value::Array(attributes)) = fields.remove("Attribute") {
        let attributes: Vec<Value> = attributes
            .into_iter()
            .filter(kept)
            .filter_map(|item| match item {
                Value::Object(map) => Some(Value::Object(attribute_fields(map, stored, context))),
                _ => None,
            })
            .collect();
        fields.insert("attribute_count".into(), text(attributes.len()));
        fields.insert("Attribute".into(), Value::Array(attributes));
    }
    if let Some(Value::Array(objects)) = fields.remove("Object") {
        let objects: Vec<Value> = objects
            .into_iter()
            .filter_map(|item| match item {
                Value::Object(mut object) => {
                    number_groups(&mut object, context.groups, context.group_names);
                    object.insert("event_id".into(), text(stored.seq));
                    if let Some(Value::Array(attributes)) = object.remove("Attribute") {
                        let attributes: Vec<Value> = attributes
                            .into_iter()
                            .filter(kept)
                            .filter_map(|item| match item {
                                Value::Object(map) => {
                                    Some(Value::Object(attribute_fields(map, stored, context)))
                                }
                                _ => None,
                            })
                            .collect();
                        object.insert("Attribute".into(), Value::Array(attributes));
                    }
                    Some(Value::Object(object))
                }
                _ => None,
            })
            .collect();
        fields.insert("Object".into(), Value::Array(objects));
    }
    fields
}

/// An index row: the event's fields without its attributes and objects.
pub(crate) fn index_row(stored: &StoredIntelEvent, context: &Context<'_>) -> Value {
    let mut fields = event_fields(stored, context, &|_| false);
    fields.insert("attribute_count".into(), text(stored.event.attribute_count()));
    fields.remove("Attribute");
    fields.remove("Object");
    fields.remove("Galaxy");
    fields.remove("EventReport");
    fields.remove("ShadowAttribute");
    let tags = fields.remove("Tag").unwrap_or(Value::Array(Vec::new()));
    let event_tags: Vec<Value> = match tags {
        Value::Array(tags) => tags.into_iter().map(|tag| json!({ "Tag": tag })).collect(),
        _ => Vec::new(),
    };
    fields.insert("EventTag".into(), Value::Array(event_tags));
    Value::Object(fields)
}

/// MISP's minimal index row, as a pulling server reads it.
pub(crate) fn minimal_row(stored: &StoredIntelEvent) -> Value {
    json!({
        "id": stored.seq.to_string(),
        "uuid": stored.event.uuid.to_string(),
        "timestamp": stored.event.timestamp.unix_timestamp().to_string(),
        "published": stored.event.published,
        "sighting_timestamp": "0",
        "orgc_uuid": stored.event.orgc.uuid.to_string(),
    })
}

/// A sharing group as `sharingGroups/index` lists it.
pub(crate) fn sharing_group(view: &SharingGroupView, id: i64, registry: &RegistrySnapshot) -> Value {
    let name_of = |org: Uuid| registry.orgs.get(&org).map_or_else(String::new, |org| org.fields.name.clone());
    let members: Vec<Value> = view
        .members
        .iter()
        .map(|org| json!({ "extend": Some(*org) == view.owner_org, "Organisation": org_json(*org, &name_of(*org)) }))
        .collect();
    let mut group = json!({
        "id": id.to_string(),
        "uuid": view.uuid.to_string(),
        "name": view.name,
        "description": view.description,
        "releasability": "",
        "local": true,
        "active": true,
        "roaming": false,
        "org_count": members.len().to_string(),
    });
    let mut out = Map::new();
    if let Some(owner) = view.owner_org {
        group["organisation_uuid"] = text(owner);
        out.insert("Organisation".into(), org_json(owner, &name_of(owner)));
    }
    out.insert("SharingGroup".into(), group);
    out.insert("SharingGroupOrg".into(), Value::Array(members));
    out.insert("SharingGroupServer".into(), Value::Array(Vec::new()));
    Value::Object(out)
}

/// Replaces numeric `sharing_group_id`s in an incoming event (and its attributes and objects)
/// with the groups' uuids; an unknown number is left as it is and refused by the import.
pub(crate) fn groups_to_uuids(event: &mut Value, groups: &GroupIds) {
    fn one(fields: &mut Map<String, Value>, groups: &GroupIds) {
        let number = match fields.get("sharing_group_id") {
            Some(Value::String(text)) => text.trim().parse::<i64>().ok(),
            Some(Value::Number(number)) => number.as_i64(),
            _ => None,
        };
        if let Some(number) = number {
            match groups.by_id.get(&number) {
                Some(uuid) => {
                    fields.insert("sharing_group_id".into(), text(uuid));
                    fields.remove("SharingGroup");
                }
                None if number == 0 => {
                    fields.remove("sharing_group_id");
                }
                None => {}
            }
        }
    }
    let Value::Object(fields) = event else { return };
    one(fields, groups);
    for key in ["Attribute", "Object"] {
        if let Some(Value::Array(items)) = fields.get_mut(key) {
            for item in items {
                if let Value::Object(item) = item {
                    one(item, groups);
                    if let Some(Value::Array(attributes)) = item.get_mut("Attribute") {
                        for attribute in attributes {
                            if let Value::Object(attribute) = attribute {
                                one(attribute, groups);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// MISP's `describeTypes` result, from the table Neretva validates with.
pub(crate) fn describe_types() -> Value {
    use neretva_intel::describe::{CATEGORIES, TYPES};
    let types: Vec<&str> = TYPES.iter().map(|info| info.name).collect();
    let mut mappings = Map::new();
    for category in CATEGORIES {
        let names: Vec<Value> =
            TYPES.iter().filter(|info| info.allows(category)).map(|info| text(info.name)).collect();
        mappings.insert(category.to_owned(), Value::Array(names));
    }
    let mut defaults = Map::new();
    for info in TYPES {
        defaults.insert(
            info.name.to_owned(),
            json!({ "default_category": info.default_category(), "to_ids": u8::from(info.to_ids) }),
        );
    }
    json!({ "result": {
        "sane_defaults": defaults,
        "types": types,
        "categories": CATEGORIES,
        "category_type_mappings": mappings,
    }})
}
