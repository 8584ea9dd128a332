//! Objects with a few known members and any number of others, all kept: `metadata` of
//! `hello` and each `Schedule`.

use std::collections::BTreeMap;

use brainwire_core::JsonValue;
use serde::de::DeserializeOwned;

/// The members of an object, each as exact JSON text.
pub type Members = BTreeMap<String, JsonValue>;

/// Removes and reads the required member `key`.
pub(crate) fn take<T: DeserializeOwned, E: serde::de::Error>(
    members: &mut Members,
    key: &'static str,
) -> Result<T, E> {
    let raw = members.remove(key).ok_or_else(|| E::missing_field(key))?;
    serde_json::from_str(raw.as_str()).map_err(|e| E::custom(format_args!("{key}: {e}")))
}

/// Writes `known` members and `extra` ones as one JSON object.
pub(crate) fn serialize<S: serde::Serializer>(
    serializer: S,
    known: &[(&str, JsonValue)],
    extra: &Members,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(Some(known.len() + extra.len()))?;
    for (key, value) in known {
        map.serialize_entry(key, value)?;
    }
    for (key, value) in extra
        .iter()
        .filter(|(k, _)| !known.iter().any(|(n, _)| n == k))
    {
        map.serialize_entry(key, value)?;
    }
    map.end()
}

/// A known member's value as JSON text.
pub(crate) fn json<T: serde::Serialize, E: serde::ser::Error>(value: &T) -> Result<JsonValue, E> {
    JsonValue::from_serialize(value).map_err(E::custom)
}
