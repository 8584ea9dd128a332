//! The run status stream of document 003: a brain pushes `{type, data, timestamp}`
//! messages (`connected`, `run_update`, `run_complete`, `run_failed`, `echo`) to every
//! dashboard connected to `/ws`.
//!
//! This crate does no I/O: [`decode`]/[`encode`] for [`RunMessage`], the
//! [`StatusDocument`] of `GET /api/brain/status/ws`, the server's [`Broadcaster`]
//! (encode once, send the same bytes to every client) and the client's [`TaskBoard`].
//! It pulls in no HMAC, SHA-2 or base64.
//!
//! ```
//! use brainwire_run::{decode, Body, RunStatus};
//!
//! let wire = br#"{"type":"run_failed","data":{"id":"task-123","status":"failed","progress":7,
//!   "task_id":"task-123","agent":"dev","started_at":"2026-02-06T01:30:00.000Z",
//!   "completed_at":null,"error":"Build failed: TypeScript compilation error"},
//!   "timestamp":"2026-02-06T01:35:00.000Z"}"#;
//! let message = decode(wire)?;
//! let Body::RunFailed(data) = &message.body else { unreachable!() };
//! assert_eq!(data.status, Some(RunStatus::Failed));
//! assert_eq!(message.timestamp.to_string(), "2026-02-06T01:35:00.000Z");
//! # Ok::<(), brainwire_run::DecodeError>(())
//! ```
//!
//! The [`Broadcaster`] and [`TaskBoard`] docs show a server and a client.
//!
//! # Close codes
//!
//! Document 003 names none; decode errors map to RFC 6455's 1002 (1009 past the size
//! limit). Clients reconnect with backoff: `brainwire_close::Backoff::default()
//! .with_max_attempts(5)` is the document's five retries.
//!
//! # Crate features
//!
//! None.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod broadcaster;
mod iso_millis;
mod message;
mod task_board;

pub use broadcaster::{Broadcaster, EchoError, Full};
pub use iso_millis::IsoMillis;
pub use message::{
    decode, decode_with, encode, Body, DecodeError, RunData, RunMessage, RunStatus, StatusDocument,
    WebSocketStatus,
};
pub use task_board::{Applied, TaskBoard};
