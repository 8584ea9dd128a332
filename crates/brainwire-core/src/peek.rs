//! The one way every family decodes: parse the document once under [`Limits`], read its
//! `type`, then decode exactly one struct from the same parse.

use crate::{Kind, Limits, Node, ShapeError, Tape};

/// Parses `wire` under `limits` and returns its `type`.
///
/// # Errors
///
/// [`ShapeError`] when `wire` is not a JSON object with a string `type` within limits.
pub fn peek_type(wire: &[u8], limits: &Limits) -> Result<String, ShapeError> {
    decode_by_type(wire, limits, |message_type, _| Ok(message_type.to_owned()))
}

/// Parses `wire` under `limits` once, reads its `type`, and hands both to `decode`, which
/// picks the struct the type calls for and reads it from the same parse
/// ([`Node::decode`]).
///
/// ```
/// use brainwire_core::{check, decode_by_type, Limits, ShapeError};
///
/// #[derive(serde::Deserialize)]
/// struct Ack { seq: u64 }
///
/// let seq = decode_by_type(br#"{"type":"ack","seq":3}"#, &Limits::default(), |t, root| match t {
///     "ack" => check::one::<Ack>(root).map(|a| a.seq),
///     other => Err(ShapeError::unknown_type(other)),
/// })?;
/// assert_eq!(seq, 3);
/// # Ok::<(), ShapeError>(())
/// ```
///
/// # Errors
///
/// [`ShapeError`] (converted into `E`) when `wire` is not a JSON object with a string
/// `type` within limits; otherwise whatever `decode` returns.
pub fn decode_by_type<T, E: From<ShapeError>>(
    wire: &[u8],
    limits: &Limits,
    decode: impl FnOnce(&str, Node<'_>) -> Result<T, E>,
) -> Result<T, E> {
    let mut tape = Tape::new();
    let root = tape.parse(wire, limits).map_err(ShapeError::Json)?.root();
    if root.kind() != Kind::Object {
        return Err(ShapeError::NotObject.into());
    }
    let message_type = root
        .get("type")
        .and_then(|t| t.as_str())
        .ok_or(ShapeError::MissingType)?;
    decode(message_type, root)
}
