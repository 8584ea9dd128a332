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
///
/// An object built by [`from_serialize`](Self::from_serialize) is written in canonical
/// form and remembers it, so that signing a frame that carries it copies its text
/// instead of parsing it ([`is_canonical`](Self::is_canonical)).
#[derive(Clone)]
pub struct JsonObject {
    raw: Box<RawValue>,
    canonical: bool,
}

/// The newtype name under which a canonical [`JsonObject`] serializes its raw value:
/// transparent to `serde_json`, a sign to [`canonicalize_value`](crate::canonicalize_value)
/// that the text needs no parse.
pub(crate) const CANONICAL_TOKEN: &str = "$brainwire::CanonicalJsonObject";

impl JsonObject {
    /// `{}`.
    pub fn empty() -> Self {
        Self {
            raw: RawValue::from_string("{}".to_owned()).expect("{} is JSON"),
            canonical: true,
        }
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

    /// Serializes `value`, which must serialize to an object, in canonical form (keys in
    /// code point order, floats as Python's `repr`; see
    /// [`canonicalize_value`](crate::canonicalize_value)).
    ///
    /// ```
    /// let event = serde_json::json!({"ts": 1e16, "event_type": "task_succeeded"});
    /// let event = brainwire_core::JsonObject::from_serialize(&event)?;
    /// assert_eq!(event.as_str(), r#"{"event_type":"task_succeeded","ts":1e+16}"#);
    /// assert!(event.is_canonical());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// When serialization fails or does not give an object.
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        let text = crate::canonicalize_value(value, &crate::Limits::default())
            .map_err(serde::ser::Error::custom)?;
        let text = String::from_utf8(text).expect("canonical JSON is UTF-8");
        let mut object = Self::from_raw(RawValue::from_string(text)?)?;
        object.canonical = true;
        Ok(object)
    }

    /// Whether the text is known to be canonical: built by
    /// [`from_serialize`](Self::from_serialize) (or `{}`). Text taken as given or
    /// received is not, even when it happens to be.
    pub fn is_canonical(&self) -> bool {
        self.canonical
    }

    fn from_raw(raw: Box<RawValue>) -> Result<Self, serde_json::Error> {
        if raw.get().trim_start().starts_with('{') {
            Ok(Self {
                raw,
                canonical: false,
            })
        } else {
            Err(serde::de::Error::invalid_type(
                serde::de::Unexpected::Other("non-object JSON"),
                &"a JSON object",
            ))
        }
    }

    /// The object's JSON text, as received.
    pub fn as_str(&self) -> &str {
        self.raw.get()
    }

    /// Reads the object as `T`.
    ///
    /// # Errors
    ///
    /// When the object does not match `T`.
    pub fn deserialize_as<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.raw.get())
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
        if self.canonical {
            serializer.serialize_newtype_struct(CANONICAL_TOKEN, &self.raw)
        } else {
            self.raw.serialize(serializer)
        }
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

/// A JSON string of the time as [`Timestamp`](crate::Timestamp) prints it (RFC 3339, the reference's form).
impl From<crate::Timestamp> for JsonValue {
    fn from(at: crate::Timestamp) -> Self {
        let text = serde_json::to_string(&at.to_string()).expect("a string serializes");
        Self(RawValue::from_string(text).expect("a JSON string is JSON"))
    }
}

/// A JSON integer (for example milliseconds since the epoch).
impl From<i64> for JsonValue {
    fn from(n: i64) -> Self {
        Self(RawValue::from_string(n.to_string()).expect("an integer is JSON"))
    }
}

/// A JSON integer (for example milliseconds since the epoch).
impl From<u64> for JsonValue {
    fn from(n: u64) -> Self {
        Self(RawValue::from_string(n.to_string()).expect("an integer is JSON"))
    }
}

impl From<JsonObject> for JsonValue {
    fn from(object: JsonObject) -> Self {
        Self(object.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_become_their_json_text() {
        let at = crate::Timestamp::parse("2026-11-23T10:15:07.5Z").unwrap();
        assert_eq!(
            JsonValue::from(at).as_str(),
            r#""2026-11-23T10:15:07.500000Z""#
        );
        assert_eq!(
            JsonValue::from(1_738_805_400_000_u64).as_str(),
            "1738805400000"
        );
        assert_eq!(JsonValue::from(-3_i64).as_str(), "-3");
        assert_eq!(JsonValue::from(u64::MAX).as_str(), "18446744073709551615");
    }
}
