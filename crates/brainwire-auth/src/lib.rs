//! The connection protocol of document 002, between orchestrators and a platform (and
//! agents and an orchestrator): the `auth.request` / `auth.success` / `auth.failure`
//! handshake, then traffic with message-level `ack` / `nack`, `heartbeat`s every 30 s and
//! protocol `error`s.
//!
//! This crate does no I/O: [`decode`] and [`encode`] for the [`Message`]s of document 002, and the
//! sans-IO [`Client`] and [`Server`] that run the handshake, heartbeats, liveness and the
//! ack tracker from bytes and instants you feed them (see their docs for examples).
//! Messages of the layer above pass through as [`Event::Message`].
//!
//! ```
//! use brainwire_auth::{decode, encode, AuthRequest, Message, OrchCapabilities, OrchRole, Token};
//!
//! let wire = br#"{"type":"auth.request","token":"k","protocolVersion":1,
//!   "capabilities":{"orchRole":"worker","dashboardWrites":{"deleteRun":false},"futureFlag":[1,2]}}"#;
//! let Message::AuthRequest(request) = decode(wire)? else { unreachable!() };
//! let caps = request.capabilities.as_ref().unwrap();
//! assert_eq!(caps.orch_role, Some(OrchRole::Worker));
//! assert!(!caps.dashboard_write_allowed("deleteRun"));
//! assert!(caps.dashboard_write_allowed("renameRun")); // a missing key means allowed
//! assert_eq!(format!("{:?}", request.token), "Token([REDACTED])");
//! // The unknown flag is kept and written back unchanged.
//! assert!(std::str::from_utf8(&encode(&Message::AuthRequest(request)))?.contains(r#""futureFlag":[1,2]"#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Close codes
//!
//! Document 002 names none, so errors map to RFC 6455 codes ([`brainwire_close::StandardCode`]):
//!
//! | error | code | client should |
//! |---|---|---|
//! | `auth.failure`, handshake timeout | 1008 policy violation | stop: fix the credentials |
//! | peer silent for `missed_heartbeats` intervals | 1001 going away | reconnect with backoff |
//! | malformed or out-of-order message | 1002 protocol error | stop |
//! | message over the size limit | 1009 message too big | stop |
//!
//! # Limits
//!
//! [`Limits`](brainwire_core::Limits) (1 MiB, depth 256) on every message, tokens up to
//! [`MAX_TOKEN_CHARS`], ids up to [`MAX_ID_CHARS`], reasons and messages up to
//! [`MAX_TEXT_CHARS`], [`MAX_CAPABILITIES`] capability flags, and
//! [`SessionConfig::max_pending_acks`] tracked messages.
//!
//! # Crate features
//!
//! None.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod capabilities;
mod client;
mod error;
mod link;
mod message;
mod server;
mod token;
mod zod;

pub use capabilities::{OrchCapabilities, OrchRole};
pub use client::Client;
pub use error::{DecodeError, SendError, SessionError};
pub use link::{Event, SessionConfig};
pub use message::{
    decode, decode_with, encode, is_defined, peek_type, Ack, AuthFailure, AuthRequest, AuthSuccess,
    ErrorMessage, Heartbeat, Message, Nack, MAX_CAPABILITIES, MAX_ID_CHARS, MAX_TEXT_CHARS,
    MAX_TOKEN_CHARS,
};
pub use server::{ConnectionIds, Grant, Server, TokenVerifier};
pub use token::Token;
