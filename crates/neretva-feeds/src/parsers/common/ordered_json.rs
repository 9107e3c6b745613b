//! JSON objects with their members in the order of the text, as Python's `dict` keeps them
//! (serde_json's map sorts them). Parsers that follow an IntelMQ bot need that order where it
//! decides which of two keys mapped to one field wins, or the order of the events.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON value whose objects keep their members in the order of the text, as Python's `dict`
/// does (serde_json's map sorts them, and the order decides which of two keys that map to one
/// field wins).
#[derive(Debug, Clone)]
pub(crate) enum Json {
    Object(Vec<(String, Json)>),
    Other(serde_json::Value),
}

impl Json {
    pub(crate) fn into_value(self) -> serde_json::Value {
        match self {
            Json::Other(value) => value,
            Json::Object(members) => {
                serde_json::Value::Object(members.into_iter().map(|(k, v)| (k, v.into_value())).collect())
            }
        }
    }

    pub(crate) fn to_value(&self) -> serde_json::Value {
        self.clone().into_value()
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct JsonVisitor;
        impl<'de> Visitor<'de> for JsonVisitor {
            type Value = Json;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Other(v.into()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Other(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Other(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
                Ok(Json::Other(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::Other(v.into()))
            }
            fn visit_string<E>(self, v: String) -> Result<Json, E> {
                Ok(Json::Other(v.into()))
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Other(serde_json::Value::Null))
            }
            fn visit_none<E>(self) -> Result<Json, E> {
                Ok(Json::Other(serde_json::Value::Null))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<serde_json::Value>()? {
                    items.push(item);
                }
                Ok(Json::Other(serde_json::Value::Array(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut members = Members(Vec::new());
                while let Some((key, value)) = map.next_entry::<String, Json>()? {
                    members.set(&key, value);
                }
                Ok(Json::Object(members.0))
            }
        }
        deserializer.deserialize_any(JsonVisitor)
    }
}

/// A Python `dict`'s behaviour over a list: setting a key that is there replaces its value in
/// place, a new key goes last.
pub(crate) struct Members(pub(crate) Vec<(String, Json)>);

impl Members {
    pub(crate) fn set(&mut self, key: &str, value: Json) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, slot)) => *slot = value,
            None => self.0.push((key.to_owned(), value)),
        }
    }

    pub(crate) fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Json> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}
