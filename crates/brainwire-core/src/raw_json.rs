//! Frame members a protocol leaves open ("any JSON"), kept as their exact wire text.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A JSON object kept as its exact text: task events, `host`, command `target` and
/// `parameters`, results, registry entries.
///
/// Keeping the text rather than a `serde_json::Value` loses nothing the reference keeps
/// (integers beyond 64 bits, float spellings) and costs no allocation per member.
/// Equality is textual. Read it with [`JsonObject::deserialize_as`].
#[derive(Clone)]
pub struct JsonObject(Box<RawValue>);

impl JsonObject {
    /// `{}`.
    pub fn empty() -> Self {
        Self(RawValue::from_string("{}".to_owned()).expect("{} is JSON"))
    }

    /// Takes the text of a JSON object.
    ///
    /// # Errors
    ///
    /// When `text` is not JSON, or is JSON but not an object.
    pub fn from_text(text: impl Into<String>) -> Result<Self, serde_json::Error> {
        let raw = RawValue::from_string(text.into())?;
        Self::from_raw(raw)
    }

    /// Serializes `value`, which must serialize to an object.
    ///
    /// # Errors
    ///
    /// When serialization fails or does not give an object.
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        Self::from_raw(serde_json::value::to_raw_value(value)?)
    }

    fn from_raw(raw: Box<RawValue>) -> Result<Self, serde_json::Error> {
        if raw.get().trim_start().starts_with('{') {
            Ok(Self(raw))
        } else {
            Err(serde::de::Error::invalid_type(
                serde::de::Unexpected::Other("non-object JSON"),
                &"a JSON object",
            ))
        }
    }

    /// The object's JSON text, as received.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// Reads the object as `T`.
    ///
    /// # Errors
    ///
    /// When the object does not match `T`.
    pub fn deserialize_as<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }
}

impl Default for JsonObject {
    fn default() -> Self {
        Self::empty()
    }
}

impl PartialEq for JsonObject {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for JsonObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for JsonObject {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for JsonObject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Self::from_raw(raw).map_err(serde::de::Error::custom)
    }
}

/// Any JSON value kept as its exact text: `args_redacted` items, command results, schedule
/// fields. Equality is textual.
#[derive(Clone)]
pub struct JsonValue(Box<RawValue>);

impl JsonValue {
    /// Takes the text of a JSON value.
    ///
    /// # Errors
    ///
    /// When `text` is not JSON.
    pub fn from_text(text: impl Into<String>) -> Result<Self, serde_json::Error> {
        RawValue::from_string(text.into()).map(Self)
    }

    /// Serializes `value`.
    ///
    /// # Errors
    ///
    /// When serialization fails.
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::value::to_raw_value(value).map(Self)
    }

    /// The value's JSON text, as received.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// Reads the value as `T`.
    ///
    /// # Errors
    ///
    /// When the value does not match `T`.
    pub fn deserialize_as<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }
}

impl PartialEq for JsonValue {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for JsonValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for JsonValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for JsonValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(Self)
    }
}

impl From<JsonObject> for JsonValue {
    fn from(object: JsonObject) -> Self {
        Self(object.0)
    }
}
