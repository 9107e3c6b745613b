//! JSON objects with their members in the order of the text, as Python's `dict` keeps them
//! (serde_json's map sorts them). Parsers that follow an IntelMQ bot need that order where it
//! decides which of two keys mapped to one field wins, or the order of the events.

use std::collections::HashMap;

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
                let mut members = Members::default();
                while let Some((key, value)) = map.next_entry::<String, Json>()? {
                    members.set(&key, value);
                }
                Ok(Json::Object(members.into_vec()))
            }
        }
        deserializer.deserialize_any(JsonVisitor)
    }
}

/// A member of an object read by [`Json`], by key (of repeated keys the last, which the object
/// keeps in the first one's place).
pub(crate) fn member<'a>(members: &'a [(String, Json)], key: &str) -> Option<&'a Json> {
    members.iter().find(|(name, _)| name == key).map(|(_, value)| value)
}

/// A Python `dict`: setting a key that is there replaces its value in place, a new key goes
/// last, and removing keeps the others' order. Keys are found through a hash index, so an object
/// of many keys (a hostile report's) costs time in proportion to its size.
#[derive(Default)]
pub(crate) struct Members {
    /// The members in order; a removed one leaves `None`.
    entries: Vec<Option<(String, Json)>>,
    index: HashMap<String, usize>,
}

impl Members {
    /// The members of an object, in order.
    pub(crate) fn from_vec(members: Vec<(String, Json)>) -> Self {
        let mut dict = Members::default();
        for (key, value) in members {
            dict.set(&key, value);
        }
        dict
    }

    pub(crate) fn set(&mut self, key: &str, value: Json) {
        match self.index.get(key) {
            Some(&at) => {
                if let Some((_, slot)) = &mut self.entries[at] {
                    *slot = value;
                }
            }
            None => {
                self.index.insert(key.to_owned(), self.entries.len());
                self.entries.push(Some((key.to_owned(), value)));
            }
        }
    }

    pub(crate) fn remove(&mut self, key: &str) {
        if let Some(at) = self.index.remove(key) {
            self.entries[at] = None;
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Json> {
        let at = *self.index.get(key)?;
        self.entries[at].as_ref().map(|(_, value)| value)
    }

    /// The members in order.
    pub(crate) fn into_vec(self) -> Vec<(String, Json)> {
        self.entries.into_iter().flatten().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{Json, Members};

    fn keys(json: &str) -> Vec<String> {
        match serde_json::from_str::<Json>(json) {
            Ok(Json::Object(members)) => members.into_iter().map(|(key, _)| key).collect(),
            other => panic!("not an object: {other:?}"),
        }
    }

    #[test]
    fn objects_keep_the_order_of_the_text_as_a_python_dict() {
        assert_eq!(keys(r#"{"b": 1, "a": {"z": 1, "y": 2}, "c": 3}"#), ["b", "a", "c"]);
        // A repeated key keeps its first place and takes its last value.
        let Ok(Json::Object(members)) = serde_json::from_str::<Json>(r#"{"x": 1, "y": 2, "x": 3}"#) else {
            panic!("object")
        };
        let values: Vec<(String, serde_json::Value)> =
            members.into_iter().map(|(key, value)| (key, value.into_value())).collect();
        assert_eq!(values, [("x".to_owned(), serde_json::json!(3)), ("y".to_owned(), serde_json::json!(2))]);
        let mut dict =
            Members::from_vec(vec![("a".into(), Json::Other(1.into())), ("b".into(), Json::Other(2.into()))]);
        dict.remove("a");
        dict.set("c", Json::Other(3.into()));
        dict.set("a", Json::Other(4.into()));
        assert!(dict.get("b").is_some() && dict.get("z").is_none());
        let order: Vec<String> = dict.into_vec().into_iter().map(|(key, _)| key).collect();
        assert_eq!(order, ["b", "c", "a"]);
    }

    /// An object of many keys is read whole. (This asserts no time: a reader that searched its
    /// keys one by one would still pass, only after minutes instead of a fraction of a second.)
    #[test]
    fn an_object_of_many_keys_is_read_whole() {
        let text =
            format!("{{{}}}", (0..200_000).map(|i| format!("\"k{i}\": {i}")).collect::<Vec<_>>().join(", "));
        assert_eq!(keys(&text).len(), 200_000);
    }
}
