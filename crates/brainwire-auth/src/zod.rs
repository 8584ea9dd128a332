//! How document 002's zod schemas read what serde reads differently: `z.number().int()`
//! takes any JSON number with an integral value (`1`, `1.0`, `1e0`), and `.optional()`
//! allows a member to be absent but not `null`.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// An integer field as `z.number().int()` reads it: `1.0` and `1e0` are `1`; `1.5`, a
/// string, or a value `T` cannot hold is refused (zod would take integers beyond `T`, up
/// to 1.8e308: brainwire is stricter there).
pub(crate) fn integer<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128>,
{
    let value = deserializer.deserialize_any(Integral)?;
    T::try_from(value).map_err(|_| de::Error::custom(format_args!("integer {value} out of range")))
}

/// An optional member as `.optional()` reads it: absent is `None` (with
/// `#[serde(default)]`), `null` is refused like any other wrong type.
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Visits any JSON number with an integral value.
struct Integral;

impl Visitor<'_> for Integral {
    type Value = i128;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an integer")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i128, E> {
        Ok(i128::from(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i128, E> {
        Ok(i128::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i128, E> {
        // Integral and within i128 (2^127 ~ 1.7e38): `as` is then exact.
        if v.fract() == 0.0 && v.abs() < 1.0e38 {
            Ok(v as i128)
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }
}
