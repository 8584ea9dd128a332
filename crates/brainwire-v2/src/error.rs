//! Why a v2 frame could not be decoded.

use brainwire_close::{v2::CloseCode, NamesCloseCode};
use brainwire_core::JsonError;

/// A frame that is not a valid v2 frame.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes are not JSON brainwire accepts (see [`JsonError`]).
    #[error("frame is not acceptable JSON")]
    Json(#[source] JsonError),
    /// JSON, but not an object.
    #[error("frame is not a JSON object")]
    NotObject,
    /// No string `type`.
    #[error("frame has no type")]
    MissingType,
    /// A `type` v2 does not define.
    #[error("unknown frame type {found:?}")]
    UnknownType {
        /// The type sent (cut to 64 bytes).
        found: String,
    },
    /// `v` is not 2.
    #[error("unsupported frame version")]
    UnsupportedVersion,
    /// A field has the wrong JSON type, or a required field is missing.
    #[error("frame does not match its schema")]
    Schema(#[source] brainwire_core::NodeError),
    /// A field breaks a cap or bound of the reference's model.
    #[error("field {field} {problem}")]
    Field {
        /// The field, as `payload.events` or `id`.
        field: &'static str,
        /// What is wrong with it.
        problem: FieldProblem,
    },
}

/// What is wrong with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldProblem {
    /// Longer than allowed (characters for strings, entries for lists and maps).
    #[error("has {len} entries or characters, more than {max}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// Shorter than required.
    #[error("has {len} entries or characters, fewer than {min}")]
    TooShort {
        /// Its length.
        len: usize,
        /// The minimum.
        min: usize,
    },
    /// A number outside its bounds.
    #[error("is outside its bounds")]
    OutOfRange,
}

impl DecodeError {
    /// A stable snake_case name for tools and logs. Schema and field errors are both
    /// `invalid_frame`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Json(e) => e.kind(),
            Self::NotObject => "not_object",
            Self::MissingType => "missing_type",
            Self::UnknownType { .. } => "unknown_type",
            Self::UnsupportedVersion => "unsupported_version",
            Self::Schema(_) | Self::Field { .. } => "invalid_frame",
        }
    }
}

impl NamesCloseCode for DecodeError {
    type Code = CloseCode;

    /// 4426 for another version, 4400 (malformed) for everything else.
    fn close_code(&self) -> CloseCode {
        match self {
            Self::UnsupportedVersion => CloseCode::UnsupportedProtocol,
            _ => CloseCode::MalformedHandshake,
        }
    }
}

/// Why a frame could not be signed or encoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// `hello` and `hello_ack` are sent unsigned: use [`crate::encode`].
    #[error("{frame_type} is an unsigned handshake frame")]
    Unsigned {
        /// The frame type.
        frame_type: &'static str,
    },
    /// The frame breaks a cap the peer would refuse it for.
    #[error("frame would be refused")]
    Invalid(#[source] DecodeError),
    /// The signer refused the frame.
    #[error("signing failed")]
    Sign(#[source] brainwire_sign::SignError),
}
