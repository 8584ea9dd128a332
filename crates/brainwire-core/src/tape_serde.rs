//! Typed decoding straight from a [`Tape`](crate::Tape): serde reads a [`Node`] the way
//! it reads serde_json's text, so a verified frame becomes its typed form without a second
//! pass over the bytes.

use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Unexpected, VariantAccess, Visitor};

use crate::tape::{Items, Members};
use crate::{Kind, Node};

/// Why a parsed document does not decode into the type asked for: serde's message
/// (`invalid type: string "x", expected u64`, `missing field `id``, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NodeError(String);

impl de::Error for NodeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self(message.to_string())
    }
}

/// serde_json's name for `RawValue`: asked for by this name, a deserializer hands over the
/// exact wire text, which is how [`JsonObject`](crate::JsonObject) and
/// [`JsonValue`](crate::JsonValue) keep it. The tests pin it against serde_json.
const RAW_VALUE: &str = "$serde_json::private::RawValue";

impl<'t> Node<'t> {
    /// Decodes this value into a `T` as serde_json would decode its text: the same numbers
    /// (`u64`, then `i64`, else `f64`; `-0` is `-0.0`), borrowed strings, and the exact
    /// wire text for [`JsonObject`](crate::JsonObject) and [`JsonValue`](crate::JsonValue)
    /// members. Map keys are strings (no integer-keyed maps).
    ///
    /// ```
    /// use brainwire_core::{JsonObject, Limits, Tape};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Batch<'a> { kind: &'a str, seq: u64, events: Vec<JsonObject> }
    ///
    /// let mut tape = Tape::new();
    /// let doc = tape.parse(br#"{"kind":"batch","seq":3,"events":[{"b": 1, "a": [2.50]}]}"#, &Limits::default())?;
    /// let batch: Batch = doc.root().decode()?;
    /// assert_eq!((batch.kind, batch.seq), ("batch", 3));
    /// assert_eq!(batch.events[0].as_str(), r#"{"b": 1, "a": [2.50]}"#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`NodeError`] when the value does not have `T`'s shape.
    pub fn decode<T: de::Deserialize<'t>>(self) -> Result<T, NodeError> {
        T::deserialize(self)
    }

    fn unexpected(&self) -> Unexpected<'t> {
        match self.kind() {
            Kind::Null => Unexpected::Unit,
            Kind::Bool => Unexpected::Bool(self.as_bool().unwrap_or_default()),
            Kind::Integer | Kind::Float => Unexpected::Other("number"),
            Kind::String => Unexpected::Str(self.as_str().unwrap_or_default()),
            Kind::Array => Unexpected::Seq,
            Kind::Object => Unexpected::Map,
        }
    }
}

/// An integer's digits, visited as serde_json visits them.
fn visit_integer<'t, V: Visitor<'t>>(digits: &str, visitor: V) -> Result<V::Value, NodeError> {
    if digits == "-0" {
        return visitor.visit_f64(-0.0);
    }
    if digits.starts_with('-') {
        if let Ok(n) = digits.parse::<i64>() {
            return visitor.visit_i64(n);
        }
    } else if let Ok(n) = digits.parse::<u64>() {
        return visitor.visit_u64(n);
    }
    // Past 64 bits serde_json reads an integer as a float, and refuses it when the float
    // would be infinite (more than 308 digits): so must this, or `1e309`-sized integers
    // would reach `f64` fields as `inf`.
    let float: f64 = digits.parse().expect("JSON integer digits");
    if !float.is_finite() {
        return Err(de::Error::custom("number out of range"));
    }
    visitor.visit_f64(float)
}

impl<'t> de::Deserializer<'t> for Node<'t> {
    type Error = NodeError;

    fn deserialize_any<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, NodeError> {
        match self.kind() {
            Kind::Null => visitor.visit_unit(),
            Kind::Bool => visitor.visit_bool(self.as_bool().expect("a bool")),
            Kind::Integer => visit_integer(self.raw_text(), visitor),
            Kind::Float => visitor.visit_f64(self.as_f64().expect("a float")),
            Kind::String => visitor.visit_borrowed_str(self.as_str().expect("a string")),
            Kind::Array => {
                let mut seq = Seq(self.items());
                let value = visitor.visit_seq(&mut seq)?;
                match seq.0.count() {
                    0 => Ok(value),
                    left => Err(de::Error::invalid_length(left, &"fewer elements in array")),
                }
            }
            Kind::Object => {
                let mut map = Map {
                    members: self.members_in_wire_order(),
                    value: None,
                };
                let value = visitor.visit_map(&mut map)?;
                match map.members.count() {
                    0 => Ok(value),
                    left => Err(de::Error::invalid_length(left, &"fewer elements in map")),
                }
            }
        }
    }

    fn deserialize_option<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, NodeError> {
        if self.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'t>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, NodeError> {
        if name == RAW_VALUE {
            visitor.visit_map(RawText(Some(self.raw_text())))
        } else {
            visitor.visit_newtype_struct(self)
        }
    }

    fn deserialize_enum<V: Visitor<'t>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, NodeError> {
        if let Some(variant) = self.as_str() {
            return visitor.visit_enum(BorrowedStrDeserializer::<NodeError>::new(variant));
        }
        let mut members = self.members_in_wire_order();
        match (members.next(), members.next()) {
            (Some((variant, value)), None) => visitor.visit_enum(Variant { variant, value }),
            _ => Err(de::Error::invalid_type(
                self.unexpected(),
                &"a string or a map with a single key",
            )),
        }
    }

    /// A struct is read from an object only. serde_json also takes an array of the
    /// fields in order, which no schema of the family allows (pydantic models, zod
    /// objects, the seeds' `{...}`).
    fn deserialize_struct<V: Visitor<'t>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, NodeError> {
        if self.kind() == Kind::Array {
            return Err(de::Error::invalid_type(Unexpected::Seq, &visitor));
        }
        self.deserialize_any(visitor)
    }

    /// Skipped members cost nothing: the tape already knows where they end.
    fn deserialize_ignored_any<V: Visitor<'t>>(self, visitor: V) -> Result<V::Value, NodeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'t>>
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map identifier
    }
}

struct Seq<'t>(Items<'t>);

impl<'t> SeqAccess<'t> for Seq<'t> {
    type Error = NodeError;

    fn next_element_seed<T: DeserializeSeed<'t>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, NodeError> {
        self.0.next().map(|item| seed.deserialize(item)).transpose()
    }
}

struct Map<'t> {
    members: Members<'t>,
    value: Option<Node<'t>>,
}

impl<'t> MapAccess<'t> for Map<'t> {
    type Error = NodeError;

    fn next_key_seed<K: DeserializeSeed<'t>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, NodeError> {
        let Some((key, value)) = self.members.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'t>>(&mut self, seed: V) -> Result<V::Value, NodeError> {
        let value = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("a map value asked for before its key"))?;
        seed.deserialize(value)
    }
}

/// The one-entry map by which serde_json hands a `RawValue` its text.
struct RawText<'t>(Option<&'t str>);

impl<'t> MapAccess<'t> for RawText<'t> {
    type Error = NodeError;

    fn next_key_seed<K: DeserializeSeed<'t>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, NodeError> {
        if self.0.is_none() {
            return Ok(None);
        }
        seed.deserialize(BorrowedStrDeserializer::new(RAW_VALUE))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'t>>(&mut self, seed: V) -> Result<V::Value, NodeError> {
        let text = self
            .0
            .take()
            .ok_or_else(|| de::Error::custom("raw text asked for twice"))?;
        seed.deserialize(BorrowedStrDeserializer::new(text))
    }
}

/// An enum written as `{"variant": value}`.
struct Variant<'t> {
    variant: &'t str,
    value: Node<'t>,
}

impl<'t> de::EnumAccess<'t> for Variant<'t> {
    type Error = NodeError;
    type Variant = Node<'t>;

    fn variant_seed<S: DeserializeSeed<'t>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Node<'t>), NodeError> {
        let variant = seed.deserialize(BorrowedStrDeserializer::<NodeError>::new(self.variant))?;
        Ok((variant, self.value))
    }
}

impl<'t> VariantAccess<'t> for Node<'t> {
    type Error = NodeError;

    fn unit_variant(self) -> Result<(), NodeError> {
        de::Deserialize::deserialize(self)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'t>>(self, seed: T) -> Result<T::Value, NodeError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'t>>(self, _len: usize, visitor: V) -> Result<V::Value, NodeError> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'t>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, NodeError> {
        de::Deserializer::deserialize_map(self, visitor)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::de::DeserializeOwned;
    use serde::Deserialize;

    use crate::{JsonObject, JsonValue, Limits, Tape};

    /// Decodes `wire` through the tape and through serde_json; both must agree.
    fn both<T: DeserializeOwned + PartialEq + std::fmt::Debug>(wire: &str) -> Result<T, String> {
        let mut tape = Tape::new();
        let ours = tape
            .parse(wire.as_bytes(), &Limits::default())
            .unwrap()
            .root()
            .decode::<T>()
            .map_err(|e| e.to_string());
        let theirs = serde_json::from_str::<T>(wire).map_err(|e| e.to_string());
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{wire}"),
            (Err(_), Err(_)) => {}
            _ => panic!("{wire}: tape {ours:?}, serde_json {theirs:?}"),
        }
        ours
    }

    #[derive(Debug, PartialEq, Deserialize)]
    enum Status {
        Ok,
        Failed { reason: String },
        Code(u16),
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Frame {
        id: String,
        seq: u64,
        #[serde(default)]
        ts: Option<String>,
        status: Status,
        tags: Vec<String>,
        extra: BTreeMap<String, i64>,
    }

    #[test]
    fn structs_enums_options_and_maps_decode_as_with_serde_json() {
        let frame: Frame = both(
            r#"{"seq":7,"unknown":{"deep":[1,{"x":null}]},"id":"f\u00e9","status":{"Failed":{"reason":"r"}},"tags":["a"],"extra":{"b":-2,"a":1}}"#,
        )
        .unwrap();
        assert_eq!(frame.status, Status::Failed { reason: "r".into() });
        assert_eq!(frame.id, "fé");
        both::<Status>(r#""Ok""#).unwrap();
        both::<Status>(r#"{"Code":404}"#).unwrap();
        both::<Status>(r#"{"Code":1,"Ok":null}"#).unwrap_err();
        both::<Frame>(r#"{"seq":"7","id":"x","status":"Ok","tags":[],"extra":{}}"#).unwrap_err();
        both::<Frame>(r#"{"id":"x","status":"Ok","tags":[],"extra":{}}"#).unwrap_err();
        both::<(u8, u8)>("[1,2,3]").unwrap_err();
        // serde_json reads a struct from an array of its fields; the family's schemas
        // (and so the tape) do not.
        let array = r#"["x",7,null,"Ok",[],{}]"#;
        assert!(serde_json::from_str::<Frame>(array).is_ok());
        let mut tape = Tape::new();
        let root = tape
            .parse(array.as_bytes(), &Limits::default())
            .unwrap()
            .root();
        assert!(root.decode::<Frame>().is_err());
        both::<Option<u8>>("null").unwrap();
    }

    #[test]
    fn numbers_read_as_serde_json_reads_them() {
        both::<f64>("-0").unwrap();
        assert!(both::<f64>("-0").unwrap().is_sign_negative());
        both::<u64>("-0").unwrap_err();
        both::<u64>("18446744073709551615").unwrap();
        both::<u64>("18446744073709551616").unwrap_err();
        both::<f64>("18446744073709551616").unwrap();
        both::<i64>("-9223372036854775808").unwrap();
        both::<f64>("-9223372036854775809").unwrap();
        both::<u32>("4294967296").unwrap_err();
        let huge = format!("1{}", "0".repeat(308));
        assert!(
            both::<f64>(&huge).unwrap().is_finite(),
            "309 digits still fit"
        );
        both::<f64>(&format!("1{}", "0".repeat(309))).unwrap_err();
        both::<f64>(&format!("-1{}", "0".repeat(309))).unwrap_err();
        both::<Option<f64>>(&format!("9{}", "9".repeat(400))).unwrap_err();
        both::<serde_json::Value>(&format!("1{}", "0".repeat(309))).unwrap_err();
        let exact = format!(r#"{{"n":1{}}}"#, "0".repeat(400));
        assert_eq!(both::<crate::JsonValue>(&exact).unwrap().as_str(), exact);
        both::<f64>("2.50e-3").unwrap();
        both::<u8>("1.0").unwrap_err();
        both::<serde_json::Value>(r#"{"a":[1,-1,1.5,-0,"s",true,null]}"#).unwrap();
    }

    #[test]
    fn raw_members_keep_their_exact_wire_text() {
        #[derive(Debug, PartialEq, Deserialize)]
        struct Holder {
            object: JsonObject,
            value: JsonValue,
            many: Vec<JsonValue>,
        }
        let wire =
            r#"{"object":{ "b" : 1.50, "a":"\u00e9" },"value":-0.0,"many":["x\ny",[ ],1e2]}"#;
        let holder: Holder = both(wire).unwrap();
        assert_eq!(holder.object.as_str(), r#"{ "b" : 1.50, "a":"\u00e9" }"#);
        assert_eq!(holder.value.as_str(), "-0.0");
        let many: Vec<&str> = holder.many.iter().map(JsonValue::as_str).collect();
        assert_eq!(many, [r#""x\ny""#, "[ ]", "1e2"]);
        both::<JsonObject>("[1]").unwrap_err();
    }
}
