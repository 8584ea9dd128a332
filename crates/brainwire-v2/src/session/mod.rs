//! Sans-IO sessions: the agent's and the brain's side of a v2 connection.
//!
//! Neither reads a clock, opens a socket or spawns a task: the caller feeds bytes and
//! time in (`handle_*`) and takes frames, events and close decisions out (`poll_*`), the
//! way `quinn-proto`'s `Connection` works. The same code runs under tokio, async-std, a
//! thread per connection, or a simulated clock in tests.

mod agent;
mod brain;

use brainwire_close::{v2::CloseCode, NamesCloseCode, StandardCode};
use brainwire_sign::VerifyError;

pub use agent::{AgentConfig, AgentEvent, AgentSession, QueueError};
pub use brain::{AgentAuthority, AgentGrant, BrainConfig, BrainEvent, BrainSession};

use crate::{DecodeError, EncodeError};

pub use brainwire_core::WallClock;

/// What a session draws from the world: the wall clock for its signer, and a prefix that
/// makes its frame ids unique across processes.
#[derive(Clone)]
pub struct Sources {
    /// The wall clock stamped into signed frames.
    pub wall: WallClock,
    /// Prefix of every frame id this session makes (at most 40 characters, so ids stay
    /// within the 64-character cap).
    pub frame_id_prefix: String,
}

impl Sources {
    /// The system clock and `prefix` (a UUID or another per-process unique string).
    pub fn system(prefix: impl Into<String>) -> Self {
        Self {
            wall: brainwire_core::system_clock(),
            frame_id_prefix: prefix.into().chars().take(40).collect(),
        }
    }
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources")
            .field("frame_id_prefix", &self.frame_id_prefix)
            .finish_non_exhaustive()
    }
}

/// An error that ends the connection. The close frame to send is in the session's
/// `poll_close`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// A frame that is not a valid v2 frame.
    #[error("frame refused")]
    Decode(#[source] DecodeError),
    /// A signed frame that failed its MAC, replay or schema checks.
    #[error("frame refused")]
    Verify(#[source] VerifyError),
    /// A valid frame this side must never receive (a `command` at the brain, a second
    /// `hello`, anything but `hello` first).
    #[error("unexpected {frame_type} frame")]
    Unexpected {
        /// Its type.
        frame_type: &'static str,
    },
    /// The handshake did not complete in time.
    #[error("handshake timed out")]
    HandshakeTimeout,
    /// No frame from the agent within the idle timeout.
    #[error("idle timeout: no frame from the agent")]
    IdleTimeout,
    /// The bearer token was missing or refused.
    #[error("bearer token refused")]
    Unauthorized,
    /// `hello` asked for a protocol version this side does not speak.
    #[error("protocol version {version:?} not supported")]
    UnsupportedProtocol {
        /// The version asked for (cut to 40 characters).
        version: String,
    },
    /// A frame was fed while no connection is open (a caller bug).
    #[error("no connection is open")]
    NotConnected,
    /// A reply could not be signed (a bug: the session makes its own frames).
    #[error("reply could not be sent")]
    Send(#[source] SendError),
}

impl NamesCloseCode for SessionError {
    type Code = CloseCode;

    /// The deployed brain's codes: 4401 bearer, 4400 malformed or late handshake, 4426
    /// version, 4403 MAC or replay, 4408 idle; 1011 for this side's own faults.
    fn close_code(&self) -> CloseCode {
        match self {
            Self::Decode(e) => e.close_code(),
            Self::Verify(e) => e.close_code(),
            Self::Unexpected { .. } | Self::HandshakeTimeout => CloseCode::MalformedHandshake,
            Self::IdleTimeout => CloseCode::IdleTimeout,
            Self::Unauthorized => CloseCode::BearerRejected,
            Self::UnsupportedProtocol { .. } => CloseCode::UnsupportedProtocol,
            Self::NotConnected | Self::Send(_) => CloseCode::Standard(StandardCode::InternalError),
        }
    }
}

/// Why the application's request could not be sent now.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// No session is established; try again after reconnecting.
    #[error("no session is established")]
    NotEstablished,
    /// The frame could not be signed.
    #[error("frame could not be signed")]
    Encode(#[source] EncodeError),
    /// Nothing is pending under that id.
    #[error("nothing pending under that id")]
    UnknownId,
    /// Too many commands wait for their result.
    #[error("{pending} commands are pending already")]
    TooManyPending {
        /// Commands pending.
        pending: usize,
    },
}
