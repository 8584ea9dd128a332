//! The one way every family decodes: check the document under [`Limits`], peek at its
//! `type`, then decode exactly one struct.

use serde::de::DeserializeOwned;

use crate::{JsonError, Limits, Value};

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

/// The parsed document and its `type`, after the limits (size, UTF-8, depth, duplicate
/// keys, non-finite numbers) were checked.
#[derive(Debug)]
pub struct Peeked<'a> {
    /// The document, borrowed from the input.
    pub root: Value<'a>,
    /// Its `type` member.
    pub message_type: String,
}

/// Parses `wire` under `limits` and reads its `type`.
///
/// # Errors
///
/// [`ShapeError`] when `wire` is not a JSON object with a string `type` within limits.
pub fn peek_type<'a>(wire: &'a [u8], limits: &Limits) -> Result<Peeked<'a>, ShapeError> {
    let root = Value::parse(wire, limits).map_err(ShapeError::Json)?;
    if root.as_object().is_none() {
        return Err(ShapeError::NotObject);
    }
    let message_type = root
        .get("type")
        .and_then(Value::as_str)
        .ok_or(ShapeError::MissingType)?
        .to_owned();
    Ok(Peeked { root, message_type })
}

/// Decodes `wire` into exactly one `T` with serde_json, with serde_json's own depth limit
/// (128) lifted.
///
/// Call it only on bytes that [`peek_type`] (or [`Value::parse`]) accepted: their depth is
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
