//! The one way every family decodes: check the document under [`Limits`], peek at its
//! `type`, then decode exactly one struct.

use serde::de::DeserializeOwned;

use crate::{JsonError, Kind, Limits, Tape};

/// Why a document is not a typed message at all: the errors every family shares before
/// it looks at the `type`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShapeError {
    /// Not JSON brainwire accepts, or over the limits.
    #[error("not acceptable JSON")]
    Json(#[source] JsonError),
    /// JSON, but not an object.
    #[error("not a JSON object")]
    NotObject,
    /// No string `type`.
    #[error("no string type")]
    MissingType,
}

/// Parses `wire` under `limits` and returns its `type`.
///
/// # Errors
///
/// [`ShapeError`] when `wire` is not a JSON object with a string `type` within limits.
pub fn peek_type(wire: &[u8], limits: &Limits) -> Result<String, ShapeError> {
    let mut tape = Tape::new();
    let root = tape.parse(wire, limits).map_err(ShapeError::Json)?.root();
    if root.kind() != Kind::Object {
        return Err(ShapeError::NotObject);
    }
    root.get("type")
        .and_then(|t| t.as_str())
        .map(str::to_owned)
        .ok_or(ShapeError::MissingType)
}

/// Decodes `wire` into exactly one `T` with serde_json, with serde_json's own depth limit
/// (128) lifted.
///
/// Call it only on bytes that [`peek_type`] (or [`Tape::parse`]) accepted: their depth is
/// then bounded by [`Limits::max_depth`], which may exceed 128 (the v2 reference emits
/// 254 levels).
///
/// # Errors
///
/// serde_json's error when `wire` does not match `T` or has trailing data.
pub fn decode_one<T: DeserializeOwned>(wire: &[u8]) -> Result<T, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(wire);
    de.disable_recursion_limit();
    let value = T::deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}
