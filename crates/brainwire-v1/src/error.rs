//! Why a v1 frame was refused.

use brainwire_close::{v1::CloseCode, NamesCloseCode};
use brainwire_core::JsonError;

/// A frame that is not a valid v1 frame. All of them close with 4005 (malformed frame),
/// except a `hello` for another protocol version (4001).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not JSON brainwire accepts, or over the size or depth limits.
    #[error("frame is not acceptable JSON")]
    Json(#[source] JsonError),
    /// JSON, but not an object.
    #[error("frame is not a JSON object")]
    NotObject,
    /// No string `type`.
    #[error("frame has no type")]
    MissingType,
    /// A `type` v1 does not define.
    #[error("unknown frame type {found:?}")]
    UnknownType {
        /// The type sent (cut to 64 characters).
        found: String,
    },
    /// A type v1 defines for the other direction (an `ack` sent by an agent).
    #[error("{frame_type} is not sent in this direction")]
    WrongDirection {
        /// The frame type.
        frame_type: &'static str,
    },
    /// `hello` for a protocol other than `"v1"`.
    #[error("hello for protocol {found:?}, not v1")]
    ProtocolMismatch {
        /// The protocol sent (cut to 16 characters).
        found: String,
    },
    /// A field has the wrong JSON type, or a required field is missing.
    #[error("frame does not match its schema")]
    Schema(#[source] brainwire_core::NodeError),
    /// A list or string longer than its limit.
    #[error("{field} has {len} entries or characters, more than {max}")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

impl DecodeError {
    /// A stable snake_case name for tools and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Json(e) => e.kind(),
            Self::NotObject => "not_object",
            Self::MissingType => "missing_type",
            Self::UnknownType { .. } => "unknown_type",
            Self::WrongDirection { .. } => "wrong_direction",
            Self::ProtocolMismatch { .. } => "protocol_mismatch",
            Self::Schema(_) => "invalid_frame",
            Self::TooLong { .. } => "too_long",
        }
    }
}

impl NamesCloseCode for DecodeError {
    type Code = CloseCode;

    fn close_code(&self) -> CloseCode {
        match self {
            Self::ProtocolMismatch { .. } => CloseCode::ProtocolVersionMismatch,
            _ => CloseCode::MalformedFrame,
        }
    }
}

impl From<brainwire_core::ShapeError> for DecodeError {
    fn from(error: brainwire_core::ShapeError) -> Self {
        match error {
            brainwire_core::ShapeError::Json(e) => Self::Json(e),
            brainwire_core::ShapeError::NotObject => Self::NotObject,
            _ => Self::MissingType,
        }
    }
}
