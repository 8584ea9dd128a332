//! The agent's and the brain's side of a v2 connection, without I/O, and what they share.

mod agent;
mod brain;
mod link;

use brainwire_close::{v2::CloseCode, NamesCloseCode, StandardCode};
use brainwire_core::WallClock;
use brainwire_sign::{Refusal, SharedNonces};

pub use agent::{AgentConfig, AgentEvent, AgentSession, QueueError};
pub use brain::{AgentAuthority, AgentGrant, BrainConfig, BrainEvent, BrainSession};

use crate::{DecodeError, EncodeError, VerifyError};

/// Most characters of [`Sources::frame_id_prefix`] used, so that ids stay within the
/// 64-character cap.
const MAX_FRAME_ID_PREFIX_CHARS: usize = 40;

/// What a session draws from the world: the wall clock and the nonces of its signer, and
/// a prefix that makes its frame ids unique across processes. Seed both for a fully
/// deterministic session under test.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Sources {
    /// The wall clock stamped into signed frames.
    pub wall: WallClock,
    /// The random bytes of every nonce.
    pub nonces: SharedNonces,
    /// Prefix of every frame id this session makes (cut to 40 characters, so ids stay
    /// within the 64-character cap).
    pub frame_id_prefix: String,
}

impl Sources {
    /// `wall`, `nonces` and `prefix` (a UUID or another per-process unique string).
    pub fn new(prefix: impl Into<String>, wall: WallClock, nonces: SharedNonces) -> Self {
        Self {
            wall,
            nonces,
            frame_id_prefix: prefix
                .into()
                .chars()
                .take(MAX_FRAME_ID_PREFIX_CHARS)
                .collect(),
        }
    }

    /// The system clock, the operating system's randomness, and `prefix`.
    pub fn system(prefix: impl Into<String>) -> Self {
        Self::new(prefix, WallClock::system(), SharedNonces::os())
    }
}

/// An error that ends the connection. A session hands it out once, with the close frame
/// to send, from its `poll_close` ([`Closing`](brainwire_close::Closing)).
///
/// The codes a session closes with on its own, and what [`ReconnectPolicy`](brainwire_close::ReconnectPolicy)
/// makes of them:
///
/// | error | side | code | class |
/// |---|---|---|---|
/// | [`Decode`](Self::Decode), [`Unexpected`](Self::Unexpected), [`HandshakeTimeout`](Self::HandshakeTimeout) | both / brain | 4400 (4426 for `v`) | configuration |
/// | [`Verify`](Self::Verify) | both | 4403 (4400 for a schema error) | configuration |
/// | [`HelloAckTimeout`](Self::HelloAckTimeout) | agent | 1001 | transient: the brain is slow, not wrong |
/// | [`IdleTimeout`](Self::IdleTimeout) | brain | 4408 | transient |
/// | [`Unauthorized`](Self::Unauthorized) | brain | 4401 | configuration |
/// | [`UnsupportedProtocol`](Self::UnsupportedProtocol) | brain | 4426 | configuration |
/// | [`Send`](Self::Send) | both | 1011 | transient |
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
    /// The agent sent no `hello` in time (brain side).
    #[error("handshake timed out")]
    HandshakeTimeout,
    /// The brain sent no `hello_ack` in time (agent side): a slow brain, worth a retry.
    #[error("no hello_ack in time")]
    HelloAckTimeout,
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
            Self::Verify(e) => match e.refusal() {
                Refusal::Unauthenticated => CloseCode::Forbidden,
                Refusal::UnsupportedVersion => CloseCode::UnsupportedProtocol,
                Refusal::Malformed => CloseCode::MalformedHandshake,
            },
            Self::Unexpected { .. } | Self::HandshakeTimeout => CloseCode::MalformedHandshake,
            Self::HelloAckTimeout => CloseCode::Standard(StandardCode::GoingAway),
            Self::IdleTimeout => CloseCode::IdleTimeout,
            Self::Unauthorized => CloseCode::BearerRejected,
            Self::UnsupportedProtocol { .. } => CloseCode::UnsupportedProtocol,
            Self::Send(_) => CloseCode::Standard(StandardCode::InternalError),
        }
    }
}

/// A refusal of [`crate::FrameVerifier`] used directly, as the session would report it
/// (and so with its close code).
impl From<VerifyError> for SessionError {
    fn from(error: VerifyError) -> Self {
        Self::Verify(error)
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
    /// Too many commands wait for their result.
    #[error("{pending} commands are pending already")]
    TooManyPending {
        /// Commands pending.
        pending: usize,
    },
}
