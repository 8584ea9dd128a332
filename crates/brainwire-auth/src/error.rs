//! Why a message or a connection was refused.

use brainwire_close::{NamesCloseCode, StandardCode};
use brainwire_core::ShapeError;

/// A message that is not a valid message of this family.
///
/// Document 002 gives no close codes, so brainwire uses RFC 6455's: 1009 for a message
/// over the size limit, 1002 (protocol error) for everything else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// What every family refuses: not JSON, not an object, no or an unknown `type`, a
    /// schema mismatch (a float or negative `protocolVersion` lands here), a string or
    /// map over its cap.
    #[error(transparent)]
    Shape(ShapeError),
    /// `auth.request` with an empty token.
    #[error("token is empty")]
    EmptyToken,
    /// `protocolVersion` 0: it must be a positive integer.
    #[error("protocolVersion must be a positive integer")]
    InvalidProtocolVersion,
}

impl DecodeError {
    /// A stable snake_case name for tools and logs; a schema mismatch is
    /// `invalid_message`.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Shape(ShapeError::Schema(_)) => "invalid_message",
            Self::Shape(e) => e.kind(),
            Self::EmptyToken => "empty_token",
            Self::InvalidProtocolVersion => "invalid_protocol_version",
        }
    }
}

impl NamesCloseCode for DecodeError {
    type Code = StandardCode;

    fn close_code(&self) -> StandardCode {
        match self {
            Self::Shape(e) if e.is_too_large() => StandardCode::MessageTooBig,
            _ => StandardCode::ProtocolError,
        }
    }
}

impl From<ShapeError> for DecodeError {
    fn from(error: ShapeError) -> Self {
        Self::Shape(error)
    }
}

/// An error that ends the connection; the close frame is in the session's `poll_close`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// A message that does not decode.
    #[error("message refused")]
    Decode(#[source] DecodeError),
    /// A valid message at the wrong time (anything but `auth.request` first, a second
    /// `auth.request`, an application message before authentication).
    #[error("unexpected {message_type} message")]
    Unexpected {
        /// Its type (cut to 64 characters).
        message_type: String,
    },
    /// The handshake did not complete in time.
    #[error("handshake timed out")]
    HandshakeTimeout,
    /// The server refused the token.
    #[error("authentication failed: {reason}")]
    AuthFailed {
        /// The server's reason.
        reason: String,
    },
    /// The peer was silent for too many heartbeat intervals.
    #[error("peer silent for {missed} heartbeat intervals")]
    PeerSilent {
        /// Intervals missed.
        missed: u32,
    },
}

impl NamesCloseCode for SessionError {
    type Code = StandardCode;

    /// 1008 (policy) for a failed or late authentication, 1001 (going away, so the
    /// client reconnects) for a silent peer, 1002 or 1009 for a bad message.
    fn close_code(&self) -> StandardCode {
        match self {
            Self::Decode(e) => e.close_code(),
            Self::Unexpected { .. } => StandardCode::ProtocolError,
            Self::HandshakeTimeout | Self::AuthFailed { .. } => StandardCode::PolicyViolation,
            Self::PeerSilent { .. } => StandardCode::GoingAway,
        }
    }
}

/// Why a message could not be sent now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// Not authenticated (yet, or any more).
    #[error("the connection is not authenticated")]
    NotAuthenticated,
    /// That message id is already waiting for its ack.
    #[error("message {message_id} is already waiting for its ack")]
    DuplicateId {
        /// The id.
        message_id: String,
    },
    /// Too many messages wait for their ack.
    #[error("{pending} messages wait for their ack")]
    TooManyPending {
        /// Messages waiting.
        pending: usize,
    },
}
