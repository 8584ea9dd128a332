//! Why a v1 frame was refused.

use brainwire_close::{v1::CloseCode, NamesCloseCode};
use brainwire_core::ShapeError;

/// A frame that is not a valid v1 frame. All of them close with 4005 (malformed frame),
/// except a `hello` for another protocol version (4001).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// What every family refuses: not JSON, not an object, no or an unknown `type`, a
    /// schema mismatch, a list or string over its cap.
    #[error(transparent)]
    Shape(ShapeError),
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
}

impl DecodeError {
    /// A stable snake_case name for tools and logs.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Shape(e) => e.kind(),
            Self::WrongDirection { .. } => "wrong_direction",
            Self::ProtocolMismatch { .. } => "protocol_mismatch",
        }
    }
}

impl NamesCloseCode for DecodeError {
    type Code = CloseCode;

    fn close_code(&self) -> CloseCode {
        match self {
            Self::ProtocolMismatch { .. } => CloseCode::ProtocolVersionMismatch,
            Self::Shape(_) | Self::WrongDirection { .. } => CloseCode::MalformedFrame,
        }
    }
}

impl From<ShapeError> for DecodeError {
    fn from(error: ShapeError) -> Self {
        Self::Shape(error)
    }
}
