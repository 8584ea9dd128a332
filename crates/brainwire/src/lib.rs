//! brainwire: transport-agnostic Rust crates for the JSON-over-WebSocket protocols that
//! connect task control planes ("brains") with their agents, orchestrators and dashboards.
//!
//! This facade re-exports each family crate behind a feature of the same name, so a
//! project depends on `brainwire` alone and compiles only what it uses. No crate opens a
//! socket: they take bytes and time in and give typed frames, bytes to send and close
//! decisions out.
//!
//! Each family's own docs name its crate: `brainwire_v2::AgentSession` there is
//! `brainwire::v2::AgentSession` here, `brainwire_core::Timestamp` is
//! `brainwire::core::Timestamp`, and so on for every module below.
//!
//! # Crate features
//!
//! Modules of features that are off do not exist, so the table names them without links.
//!
//! | feature | module | brings | pulls in |
//! |---|---|---|---|
//! | (always) | [`core`], [`close`] | canonical JSON, `Timestamp`, `Limits`; close codes, `ReconnectPolicy`, `Backoff` | serde, serde_json, time |
//! | `v2` (default) | `v2`, `sign` | v2 frames, `FrameSigner`/`FrameVerifier`, `AgentSession`/`BrainSession` | hmac, sha2, base64 |
//! | `v1` | `v1` | the legacy v1 agent protocol, sniffing, `AckTracker` | |
//! | `auth` | `auth` | auth/ack/nack/heartbeat/error, client and server handshakes | |
//! | `run` | `run` | the run status stream, `Broadcaster`, `TaskBoard` | |
//! | `channel` | `channel` | channel events, `ChannelHub`, `Subscriptions` | |
//! | `full` | all of the above | | |
//!
//! ```toml
//! # an agent or a brain speaking v2
//! brainwire = "0.1"
//! # a dashboard client of the run stream and channel events, nothing signed
//! brainwire = { version = "0.1", default-features = false, features = ["run", "channel"] }
//! ```
//!
//! ```
//! use brainwire::close::{v2::CloseCode, CloseClass};
//! assert_eq!(CloseCode::from(4401).class(), CloseClass::Configuration);
//! # #[cfg(feature = "v2")]
//! # {
//! let secret = brainwire::sign::Secret::new(vec![1u8; 32]).unwrap();
//! let binding = brainwire::sign::SessionBinding::new("agent", "project", "session");
//! let mut signer = brainwire::sign::FrameSigner::new(secret, binding);
//! let heartbeat = brainwire::v2::Payload::Heartbeat(Default::default());
//! let wire = brainwire::v2::sign(&mut signer, "hb-1", &heartbeat).unwrap();
//! assert!(wire.starts_with(br#"{"v":2,"id":"hb-1","#));
//! # }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[doc(inline)]
pub use brainwire_close as close;
#[doc(inline)]
pub use brainwire_core as core;

#[cfg(feature = "auth")]
#[doc(inline)]
pub use brainwire_auth as auth;
#[cfg(feature = "channel")]
#[doc(inline)]
pub use brainwire_channel as channel;
#[cfg(feature = "run")]
#[doc(inline)]
pub use brainwire_run as run;
#[cfg(feature = "v2")]
#[doc(inline)]
pub use brainwire_sign as sign;
#[cfg(feature = "v1")]
#[doc(inline)]
pub use brainwire_v1 as v1;
#[cfg(feature = "v2")]
#[doc(inline)]
pub use brainwire_v2 as v2;
