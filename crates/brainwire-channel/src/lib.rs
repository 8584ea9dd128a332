//! Channel-scoped events of document 004: clients `subscribe` to channels (`agent:<name>`,
//! `swarm:<id>`, `project:<id>`, `org:<id>`, `task:<id>`) and receive `{type, payload}`
//! events published to them.
//!
//! This crate does no I/O: [`ChannelId`], the client and server messages with their
//! codec, the event catalogue ([`Event`], unknown types kept), the server's
//! [`ChannelHub`] (authorization hook, per-connection limit, encode-once fan-out), and the
//! client's [`Subscriptions`] (replayed after a reconnect). Their docs show a server and a
//! client. It pulls in no HMAC, SHA-2 or base64.
//!
//! ```
//! use brainwire_channel::{decode_server, Event, ServerMessage};
//!
//! let wire = br#"{"type":"gate.failed","payload":{"taskId":"t-1","gate":"lint","reason":"2 errors","timestamp":"2026-02-06T01:30:00Z"}}"#;
//! let ServerMessage::Event(Event::GateFailed(gate)) = decode_server(wire)? else { unreachable!() };
//! assert_eq!((gate.gate.as_str(), gate.reason.as_str()), ("lint", "2 errors"));
//! # Ok::<(), brainwire_channel::DecodeError>(())
//! ```
//!
//! # Events
//!
//! Every event of the document's tables is in [`Event::CATALOGUE`], each with a typed
//! payload struct (camelCase on the wire). Fields the document leaves open are
//! [`JsonValue`](brainwire_core::JsonValue): `timestamp` (its format is not given),
//! `result`, `error`, `changes`, `tasks`, `results`; `duration` and `progress` are JSON
//! numbers kept exactly. A payload is built with its named fields; a `timestamp` is a
//! `Timestamp` or epoch milliseconds, `.into()`:
//!
//! ```
//! use brainwire_channel::{Event, TaskStatusChanged};
//! use brainwire_core::Timestamp;
//!
//! let event = Event::TaskStatusChanged(TaskStatusChanged {
//!     task_id: "t-1".into(),
//!     old_status: "running".into(),
//!     new_status: "done".into(),
//!     timestamp: Timestamp::parse("2026-02-06T01:30:00Z")?.into(),
//! });
//! assert_eq!(event.event_type(), "task.status_changed");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Close codes
//!
//! Document 004 names none; decode errors map to 1002 (1009 past the size limit). Clients
//! reconnect with `brainwire_close::Backoff::default()` (1 s doubling to 30 s, the
//! document's strategy) and [`Subscriptions::resubscribe`].
//!
//! # Crate features
//!
//! None.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod channel_id;
mod events;
mod hub;
mod message;
mod subscriptions;

pub use channel_id::{ChannelId, ChannelIdError, ChannelKind, MAX_ID_BYTES};
pub use events::*;
pub use hub::{ChannelHub, JoinError, Reply, SubscriptionPolicy};
pub use message::{
    decode_client, decode_client_with, decode_server, decode_server_with, encode_client,
    encode_event, encode_server, ClientMessage, DecodeError, ErrorReply, ServerMessage,
};
pub use subscriptions::Subscriptions;
