//! Why a v2 frame could not be decoded.

use brainwire_close::{v2::CloseCode, NamesCloseCode};
use brainwire_core::ShapeError;

/// A frame that is not a valid v2 frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// What every family refuses: not JSON, not an object, no or an unknown `type`, a
    /// schema mismatch, a field out of the reference's caps.
    #[error(transparent)]
    Shape(ShapeError),
    /// `v` is not 2.
    #[error("unsupported frame version")]
    UnsupportedVersion,
}

impl DecodeError {
    /// A stable snake_case name for tools and logs. Schema and field errors are both
    /// `invalid_frame`.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Shape(ShapeError::Field { .. }) => "invalid_frame",
            Self::Shape(e) => e.kind(),
            Self::UnsupportedVersion => "unsupported_version",
        }
    }
}

impl NamesCloseCode for DecodeError {
    type Code = CloseCode;

    /// 4426 for another version, 4400 (malformed) for everything else.
    fn close_code(&self) -> CloseCode {
        match self {
            Self::UnsupportedVersion => CloseCode::UnsupportedProtocol,
            Self::Shape(_) => CloseCode::MalformedHandshake,
        }
    }
}

impl From<ShapeError> for DecodeError {
    fn from(error: ShapeError) -> Self {
        Self::Shape(error)
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
