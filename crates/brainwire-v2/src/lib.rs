//! The v2 agent protocol: typed frames, wire-compatible with the deployed
//! reference, `z4j-core` 1.13.0 (`z4j_core.transport.frames`).
//!
//! This crate does no I/O. Frames come in as bytes and leave as [`Bytes`](bytes::Bytes):
//!
//! - [`FrameVerifier`] checks an inbound frame (MAC, replay rules, schema) and gives a
//!   typed [`Frame`]; [`decode`] reads one without checking a signature.
//! - [`sign`] signs an outbound payload with a [`brainwire_sign::FrameSigner`];
//!   [`encode`] writes the unsigned handshake frames.
//! - [`AgentSession`] and [`BrainSession`] run the whole protocol of one connection
//!   (handshake, batching and acks, commands, heartbeats, idle and replay closes) from
//!   bytes and time you feed them: see [Sessions](#sessions).
//!
//! ```
//! use brainwire_core::Timestamp;
//! use brainwire_sign::{FrameSigner, Secret, SessionBinding};
//! use brainwire_v2::{sign, FrameVerifier, Heartbeat, Payload};
//!
//! let secret = Secret::new(vec![7u8; 32])?;
//! let binding = SessionBinding::new("agent-1", "project-1", "session-1");
//! let mut signer = FrameSigner::new(secret.clone(), binding.clone());
//! let wire = sign(&mut signer, "hb-1", &Payload::Heartbeat(Heartbeat::default()))?;
//!
//! let mut verifier = FrameVerifier::new(secret, binding);
//! let frame = verifier.verify(&wire, Timestamp::now_utc())?.frame;
//! assert_eq!(frame.payload, Payload::Heartbeat(Heartbeat::default()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Frames
//!
//! [`FrameType`] lists every frame type with whether it is signed, its direction and its
//! payload struct; [`Payload`] has one variant per type. Both come from one table in the
//! source, with the decoder's dispatch.
//!
//! # Where document 001 and the reference differ
//!
//! The reference's bytes win. Each difference, and what brainwire does:
//!
//! | topic | document 001 | reference (brainwire) |
//! |---|---|---|
//! | `hmac` encoding | base64 | lowercase hex; base64 as [`brainwire_sign::MacEncoding::Base64`] |
//! | what the MAC covers | not said | canonical JSON of the frame minus `hmac`, plus `agent_id`, `project_id`, `session_id` of the session |
//! | `command` payload | `command_id`, `verb`, `args` | `action`, `target`, `parameters`, `timeout_seconds`, `issued_by`, `delivery_claim_token` |
//! | `command_result` payload | `command_id`, `ok`, `error{code,message}`, `result` | `status` (`success`/`failed`), `result`, `error` (string), `delivery_claim_token` |
//! | `command_ack`, `registry_delta`, `error`, `agent_status` payloads | not given | as the reference's models ([`CommandAck`], [`RegistryDelta`], [`ErrorReport`], [`AgentStatus`]) |
//! | `heartbeat` payload | `{}` | `buffer_size`, `last_flush_at`, `dropped_events`, `telemetry_loss`, `adapter_health` |
//! | `hello` | no `v`, `id` | `v` (defaults to 2 when absent), `id`; also `runtime_features` |
//! | `ts` | optional | required on signed frames (replay window), `null` allowed on the handshake |
//! | close codes | 1000, 1011, 4400, 4401, 4408, 4426, 4429 | also 4002, 4003, 4403, 4427 ([`brainwire_close::v2::CloseCode`]) |
//!
//! Unknown fields are ignored, as in the reference; unknown frame types are refused with
//! [`ShapeError::UnknownType`](brainwire_core::ShapeError::UnknownType).
//!
//! # Sessions
//!
//! [`AgentSession`] and [`BrainSession`] are the agent's and the brain's side of one
//! connection. Neither reads a clock, opens a socket or spawns a task: the caller feeds
//! bytes and time in (`handle_*`) and takes frames, events and close decisions out
//! (`poll_*`), the way `quinn-proto`'s `Connection` works, so the same code runs under
//! tokio, a thread per connection, or a simulated clock in tests. Wall-clock time and
//! nonces come only from [`Sources`] and the `wall` arguments, so a session on seeded
//! sources is deterministic.
//!
//! After any input, drain [`poll_transmit`](AgentSession::poll_transmit) (frames to send,
//! in order), `poll_event`, then `poll_close`: a fatal error surfaces there once, as a
//! [`Closing`](brainwire_close::Closing) holding the [`SessionError`] and the close frame
//! to send; `handle_*` return nothing. [`SessionError`] lists every code a session closes
//! with on its own and what a reconnect policy makes of it.
//!
//! # Security notes
//!
//! What the MAC does not bind, as in the reference: the direction. Both sides sign with
//! the same key and the same binding (`agent_id`, `project_id`, `session_id`), and each
//! side's replay guard tracks only the frames it receives. A frame the brain sent,
//! reflected back to the brain, therefore passes the MAC, and the replay check whenever
//! its `seq` is above the last one the agent used; it is then refused only because its
//! type is one the brain never receives (`command`, `event_batch_ack`:
//! [`SessionError::Unexpected`], 4400; tested). The one type both sides send,
//! `error`, would be accepted if reflected, and is reported, never acted on. Run the
//! transport over TLS, which keeps a third party from reflecting anything.
//!
//! A brain with several keys (a rotation, [`brainwire_sign::Keyring`]) signs each
//! session with the key its agent proved ([`BrainSession::proven_key`]).
//!
//! # Crate features
//!
//! None.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use brainwire_core::JsonObject;

mod command;
mod error;
mod events;
mod frame;
mod handshake;
mod health;
mod registry;
mod session;

pub use command::{Command, CommandAck, CommandResult, CommandStatus};
pub use error::{DecodeError, EncodeError};
pub use events::{EventBatch, EventBatchAck, MAX_EVENTS_PER_BATCH};
pub use frame::{
    decode, decode_with, encode, sign, sign_stamped, Frame, FrameType, Payload, Signature, V2,
};
pub use handshake::{Hello, HelloAck};
pub use health::{AgentStatus, Heartbeat, TelemetryLoss};
pub use registry::{ErrorReport, RegistryDelta};
pub use session::{
    AgentAuthority, AgentConfig, AgentEvent, AgentGrant, AgentSession, BrainConfig, BrainEvent,
    BrainSession, QueueError, SendError, SessionError, Sources,
};

/// The protocol version `hello` and `hello_ack` carry.
pub const PROTOCOL_VERSION: &str = "2";

/// Verifies inbound v2 frames of one session direction: see
/// [`brainwire_sign::FrameVerifier`].
pub type FrameVerifier = brainwire_sign::FrameVerifier<V2>;

/// Why [`FrameVerifier`] refused a v2 frame. Its close code is that of
/// [`SessionError::Verify`]: 4403 for a MAC or replay failure, 4426 for another version,
/// 4400 for anything malformed.
pub type VerifyError = brainwire_sign::VerifyError<DecodeError>;
