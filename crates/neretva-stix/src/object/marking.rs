//! TLP and PAP as STIX marking definitions.
//!
//! TLP 2.0 uses the marking-definition objects OASIS publishes with the TLP 2.0 extension
//! (`extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d`); the TLP 1.0 objects of the
//! STIX 2.1 specification are read too (WHITE as CLEAR). PAP uses the marking-definition objects
//! of the PAP extension in the OASIS common objects
//! (`extension-definition--f8d78575-edfd-406e-8e84-6162a8450f5b`; PAP:WHITE as CLEAR), the form
//! OpenCTI exchanges. On import a marking is also recognised by content: a marking-definition
//! with either extension, a TLP 1.0 `definition`, or a `PAP` `definition_type` (or name) as some
//! tools write it; an object without marking references may carry TLP or PAP as a label
//! (`tlp:amber`, `PAP:RED`), as MISP exports tags. On export Neretva writes the official
//! identifiers in `object_marking_refs` and puts the official objects in the bundle.

use std::collections::HashMap;

use neretva_model::tlp::{Pap, Tlp};
use serde_json::{Map, Value, json};

use crate::object::property::{Identifier, StixTimestamp};
use crate::object::types::MarkingDefinition;
use crate::object::{Object, ObjectData};

/// The TLP 2.0 extension definition.
pub const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";
/// The PAP extension definition.
pub const PAP_EXTENSION: &str = "extension-definition--f8d78575-edfd-406e-8e84-6162a8450f5b";

/// The official TLP 2.0 marking definitions: level, identifier, name, extension value.
const TLP2: [(Tlp, &str, &str, &str); 5] = [
    (Tlp::Clear, "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR", "clear"),
    (Tlp::Green, "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN", "green"),
    (Tlp::Amber, "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER", "amber"),
    (
        Tlp::AmberStrict,
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        "TLP:AMBER+STRICT",
        "amber+strict",
    ),
    (Tlp::Red, "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED", "red"),
];

/// The TLP 1.0 marking definitions of the STIX 2.1 specification.
const TLP1: [(Tlp, &str, &str); 4] = [
    (Tlp::Clear, "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "white"),
    (Tlp::Green, "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "green"),
    (Tlp::Amber, "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "amber"),
    (Tlp::Red, "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "red"),
];

/// The PAP marking definitions: level, identifier, name, extension value, created.
const PAP: [(Pap, &str, &str, &str, &str); 4] = [
    (
        Pap::Clear,
        "marking-definition--ad15a0cd-55b6-4588-a14c-a66105329b92",
        "PAP:CLEAR",
        "clear",
        "2022-10-01T00:00:00.000Z",
    ),
    (
        Pap::Green,
        "marking-definition--c43594d1-4b11-4c59-93ab-1c9b14d53ce9",
        "PAP:GREEN",
        "green",
        "2022-10-09T00:00:00.000Z",
    ),
    (
        Pap::Amber,
        "marking-definition--60f8932b-e51e-4458-b265-a2e8be9a80ab",
        "PAP:AMBER",
        "amber",
        "2022-10-02T00:00:00.000Z",
    ),
    (
        Pap::Red,
        "marking-definition--740d36e5-7714-4c30-961a-3ae632ceee0e",
        "PAP:RED",
        "red",
        "2022-10-06T00:00:00.000Z",
    ),
];

/// The legacy PAP:WHITE definition, read as CLEAR.
const PAP_WHITE: &str = "marking-definition--a3bea94c-b469-41dc-9cfe-d6e7daba7730";

/// The identifier of a TLP level's official TLP 2.0 marking definition.
pub fn tlp_id(tlp: Tlp) -> &'static str {
    TLP2.iter().find(|(t, ..)| *t == tlp).map_or(TLP2[4].1, |(_, id, ..)| id)
}

/// The identifier of a PAP level's marking definition.
pub fn pap_id(pap: Pap) -> &'static str {
    PAP.iter().find(|(p, ..)| *p == pap).map_or(PAP[3].1, |(_, id, ..)| id)
}

/// The TLP level of an official TLP 2.0 or TLP 1.0 identifier.
pub fn tlp_of_id(id: &str) -> Option<Tlp> {
    TLP2.iter()
        .find(|(_, i, ..)| *i == id)
        .map(|(t, ..)| *t)
        .or_else(|| TLP1.iter().find(|(_, i, _)| *i == id).map(|(t, ..)| *t))
}

/// The PAP level of an official PAP identifier.
pub fn pap_of_id(id: &str) -> Option<Pap> {
    if id == PAP_WHITE {
        return Some(Pap::Clear);
    }
    PAP.iter().find(|(_, i, ..)| *i == id).map(|(p, ..)| *p)
}

fn definition(id: &str, name: &str, created: &str, extension: &str, property: &str, value: &str) -> Object {
    let mut object = Object::new(
        Identifier::trusted(id),
        ObjectData::MarkingDefinition(MarkingDefinition {
            name: Some(name.to_owned()),
            definition_type: None,
            definition: None,
        }),
    );
    object.common.spec_version = Some("2.1".to_owned());
    object.common.created = StixTimestamp::parse(created);
    let mut extensions = Map::new();
    extensions.insert(extension.to_owned(), json!({"extension_type": "property-extension", property: value}));
    object.common.extensions = extensions;
    object
}

/// The official TLP 2.0 marking-definition object of a level.
pub fn tlp_definition(tlp: Tlp) -> Object {
    let (_, id, name, value) = TLP2.iter().find(|(t, ..)| *t == tlp).copied().unwrap_or(TLP2[4]);
    definition(id, name, "2022-10-01T00:00:00.000Z", TLP2_EXTENSION, "tlp_2_0", value)
}

/// The official PAP marking-definition object of a level.
pub fn pap_definition(pap: Pap) -> Object {
    let (_, id, name, value, created) = PAP.iter().find(|(p, ..)| *p == pap).copied().unwrap_or(PAP[3]);
    definition(id, name, created, PAP_EXTENSION, "pap", value)
}

/// The TLP level a marking-definition object stands for, by identifier or content.
pub fn tlp_of_definition(object: &Object) -> Option<Tlp> {
    if let Some(tlp) = tlp_of_id(object.id.as_str()) {
        return Some(tlp);
    }
    let ObjectData::MarkingDefinition(marking) = &object.data else { return None };
    if let Some(level) =
        object.common.extensions.get(TLP2_EXTENSION).and_then(|e| e.get("tlp_2_0")).and_then(Value::as_str)
    {
        return level.parse().ok();
    }
    if marking.definition_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("tlp")) {
        let level = marking.definition.as_ref().and_then(|d| d.0.get("tlp")).and_then(Value::as_str);
        return level.and_then(|l| l.parse().ok());
    }
    marking
        .name
        .as_deref()
        .filter(|n| n.to_ascii_lowercase().starts_with("tlp:"))
        .and_then(|n| n.parse().ok())
}

/// The PAP level a marking-definition object stands for, by identifier or content.
pub fn pap_of_definition(object: &Object) -> Option<Pap> {
    if let Some(pap) = pap_of_id(object.id.as_str()) {
        return Some(pap);
    }
    let ObjectData::MarkingDefinition(marking) = &object.data else { return None };
    if let Some(level) =
        object.common.extensions.get(PAP_EXTENSION).and_then(|e| e.get("pap")).and_then(Value::as_str)
    {
        return level.parse().ok();
    }
    let pap_type = marking.definition_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("pap"));
    if pap_type {
        let level = marking.definition.as_ref().and_then(|d| d.0.values().next()).and_then(Value::as_str);
        if let Some(pap) = level.and_then(|l| l.parse().ok()) {
            return Some(pap);
        }
    }
    marking
        .name
        .as_deref()
        .filter(|n| n.to_ascii_lowercase().starts_with("pap:"))
        .and_then(|n| n.parse().ok())
}

/// The TLP and PAP meaning of marking definitions: the official ones and those of a bundle.
#[derive(Debug, Clone, Default)]
pub struct Markings {
    tlp: HashMap<String, Tlp>,
    pap: HashMap<String, Pap>,
}

impl Markings {
    /// The markings the marking-definition objects among `objects` define.
    pub fn from_objects(objects: &[Object]) -> Markings {
        let mut markings = Markings::default();
        for object in objects.iter().filter(|o| o.object_type() == "marking-definition") {
            if let Some(tlp) = tlp_of_definition(object) {
                markings.tlp.insert(object.id.as_str().to_owned(), tlp);
            }
            if let Some(pap) = pap_of_definition(object) {
                markings.pap.insert(object.id.as_str().to_owned(), pap);
            }
        }
        markings
    }

    fn tlp_of(&self, id: &str) -> Option<Tlp> {
        tlp_of_id(id).or_else(|| self.tlp.get(id).copied())
    }

    fn pap_of(&self, id: &str) -> Option<Pap> {
        pap_of_id(id).or_else(|| self.pap.get(id).copied())
    }

    /// The object's TLP: the most restrictive of its marking references, else of its labels.
    pub fn tlp(&self, object: &Object) -> Option<Tlp> {
        let by_marking =
            object.common.object_marking_refs.iter().filter_map(|id| self.tlp_of(id.as_str())).max();
        by_marking.or_else(|| {
            object
                .common
                .labels
                .iter()
                .filter(|l| l.to_ascii_lowercase().starts_with("tlp:"))
                .filter_map(|l| l.parse().ok())
                .max()
        })
    }

    /// The object's PAP: the most restrictive of its marking references, else of its labels.
    pub fn pap(&self, object: &Object) -> Option<Pap> {
        let by_marking =
            object.common.object_marking_refs.iter().filter_map(|id| self.pap_of(id.as_str())).max();
        by_marking.or_else(|| {
            object
                .common
                .labels
                .iter()
                .filter(|l| l.to_ascii_lowercase().starts_with("pap:"))
                .filter_map(|l| l.parse().ok())
                .max()
        })
    }
}

/// Marks an object with a TLP level: other TLP references are replaced by the official one.
pub fn set_tlp(object: &mut Object, tlp: Tlp) {
    object.common.object_marking_refs.retain(|id| tlp_of_id(id.as_str()).is_none());
    object.common.object_marking_refs.push(Identifier::trusted(tlp_id(tlp)));
}

/// Marks an object with a PAP level: other PAP references are replaced by the official one.
pub fn set_pap(object: &mut Object, pap: Pap) {
    object.common.object_marking_refs.retain(|id| pap_of_id(id.as_str()).is_none());
    object.common.object_marking_refs.push(Identifier::trusted(pap_id(pap)));
}

/// The official TLP and PAP marking definitions the objects refer to that they do not hold.
pub fn missing_definitions(objects: &[Object]) -> Vec<Object> {
    let present: std::collections::HashSet<&str> =
        objects.iter().filter(|o| o.object_type() == "marking-definition").map(|o| o.id.as_str()).collect();
    let mut needed: Vec<&str> = objects
        .iter()
        .flat_map(|o| {
            o.common
                .object_marking_refs
                .iter()
                .chain(o.common.granular_markings.iter().filter_map(|g| g.marking_ref.as_ref()))
        })
        .map(Identifier::as_str)
        .filter(|id| !present.contains(id))
        .collect();
    needed.sort_unstable();
    needed.dedup();
    needed
        .into_iter()
        .filter_map(|id| {
            if let Some((tlp, ..)) = TLP2.iter().find(|(_, i, ..)| *i == id) {
                return Some(tlp_definition(*tlp));
            }
            PAP.iter().find(|(_, i, ..)| *i == id).map(|(pap, ..)| pap_definition(*pap))
        })
        .collect()
}
