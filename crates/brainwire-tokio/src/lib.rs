//! Drives brainwire's sans-IO v2 sessions over tokio and WebSocket, as `quinn` drives
//! `quinn-proto`: the protocol stays in [`brainwire_v2`]'s `AgentSession` and
//! `BrainSession`; this crate owns the sockets, the timers, the queues and the limits.
//!
//! ```text
//!   application                 brainwire-tokio                     brainwire-v2
//!   Agent::send_event ──▶ bounded queue ─▶ driver task ── handle_*/poll_* ──▶ AgentSession
//!   Agent::next_update ◀── commands, connects            ◀── frames over WebSocket ──▶ brain
//!
//!   serve(listener) ─▶ accept_agent(stream) ─▶ driver task ─▶ BrainSession
//!                      AgentConnection::next_event / ack_batch / send_command
//! ```
//!
//! - [`Agent`]: connects with a bearer token and the project secret; [`Agent::send_event`]
//!   waits while the buffers are full (nothing dropped, nothing unbounded); commands
//!   arrive as [`IncomingCommand`] values answered once; reconnects per
//!   [`ReconnectPolicy`](brainwire_close::ReconnectPolicy), failing over between URLs and
//!   re-sending what was not acknowledged; [`Agent::shutdown`] waits for acknowledgements
//!   up to a deadline.
//! - [`accept_agent`]: the brain's side of one connection: upgrade within a deadline,
//!   bearer check (constant time with [`AgentTokens`]), message size capped at the
//!   session's `max_frame_size_bytes` (1009 past it), every write bounded by a timeout,
//!   small per-connection buffers.
//! - Legacy v1 agents (document 000): [`accept_any_agent`] and `any_agent_route` read
//!   the first frame and start a v1 or a v2 session accordingly
//!   ([`AnyAgentConnection`]), as a brain does while its fleet migrates; `v1_agent_route`
//!   takes v1 alone. A [`V1AgentConnection`] gives the session's events, `ack(seq)` and
//!   `send_command`, with the same limits and timeouts, and refuses with document 000's
//!   codes (4002 token, 4005 malformed, 4001 version).
//! - TLS (`wss://`) through rustls: agents trust the platform's roots unless given a
//!   [`rustls::ClientConfig`] ([`AgentOptions::tls`]); brains accept with
//!   [`accept_agent_tls`] and a [`TlsAcceptor`].
//! - Dashboard clients: `RunStream` (document 003) and `ChannelClient` (document 004,
//!   subscriptions replayed after every reconnect), each reconnecting per policy and
//!   reading into a bounded queue.
//! - Dashboard servers: `RunStreamServer` (document 003) and `ChannelServer` (document
//!   004): publications encoded once, an outbox per client counted in bytes, a ping to
//!   clients that fall quiet and a drop of those that do not answer ([`DashboardOptions`]).
//! - axum routes (feature `axum`): `agent_route`, `any_agent_route`, `v1_agent_route`,
//!   `RunStreamServer::route` and
//!   `status_route`, `ChannelServer::route`, with the same limits. Served through
//!   `axum::serve`, call its `tcp_nodelay(true)`: with Nagle on, a frame written after a
//!   large one waits for the peer's delayed ACK.
//! - [`FrameTap`]: every frame a connection sends and receives, for transcripts.
//! - [`serve`]: an accept loop with a connection cap that survives accept errors
//!   (EMFILE, ENFILE, ECONNABORTED), with `TCP_NODELAY` set on every connection.
//!
//! # Logging
//!
//! With the `tracing` feature (default), each connection runs in a span
//! (`agent_connection` on the brain, `brain_connection` on the agent) carrying the agent,
//! project and session ids, and its events (reconnects, refusals, timeouts) go through
//! `tracing`; never tokens or secrets.
//!
//! # Crate features
//!
//! - `run` (default): `RunStream` and `RunStreamServer`, the run status stream's client
//!   and server.
//! - `channel` (default): `ChannelClient` and `ChannelServer`, the channel endpoint's
//!   client and server.
//! - `axum`: axum routes for the agent, run stream and channel endpoints.
//! - `tracing` (default): spans and events through `tracing`; without it, nothing is
//!   logged and `tracing` is not built.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod agent;
#[cfg(feature = "axum")]
mod axum_socket;
mod brain;
mod brain_v1;
#[cfg(feature = "channel")]
mod channel_client;
#[cfg(feature = "channel")]
mod channel_server;
#[cfg(any(feature = "run", feature = "channel"))]
mod dashboard;
mod driver;
mod listener;
mod log;
#[cfg(feature = "run")]
mod run_server;
#[cfg(feature = "run")]
mod run_stream;
mod stats;
mod tap;
#[cfg(any(feature = "run", feature = "channel"))]
mod watch;
mod ws;

pub use agent::{
    Agent, AgentClosed, AgentError, AgentOptions, AgentReport, EventSender, IncomingCommand, Update,
};
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use brain::agent_route;
pub use brain::{
    accept_agent, accept_agent_tls, AcceptError, AgentConnection, AgentTokens, BrainOptions,
    CommandError, ConnectionClosed, ConnectionReport,
};
pub use brain_v1::{accept_any_agent, AnyAgentConnection, V1AgentConnection};
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use brain_v1::{any_agent_route, v1_agent_route};
pub use listener::serve;
pub use stats::{Stats, StatsSnapshot};
pub use tap::{FrameDirection, FrameTap};
#[cfg(any(feature = "run", feature = "channel"))]
pub use watch::{WatchError, WatchOptions};

#[cfg(feature = "channel")]
#[cfg_attr(docsrs, doc(cfg(feature = "channel")))]
pub use channel_client::{ChannelClient, ClientClosed};
#[cfg(feature = "channel")]
#[cfg_attr(docsrs, doc(cfg(feature = "channel")))]
pub use channel_server::ChannelServer;
#[cfg(any(feature = "run", feature = "channel"))]
pub use dashboard::DashboardOptions;
#[cfg(feature = "run")]
#[cfg_attr(docsrs, doc(cfg(feature = "run")))]
pub use run_server::RunStreamServer;
#[cfg(feature = "run")]
#[cfg_attr(docsrs, doc(cfg(feature = "run")))]
pub use run_stream::RunStream;
/// The TLS library of `wss://` on both sides, for building a `ClientConfig` (agents) or
/// a [`TlsAcceptor`] (brains).
pub use tokio_rustls::rustls;
pub use tokio_rustls::TlsAcceptor;
/// The HTTP types of requests and upgrades (`Uri`, `HeaderMap`): the ones axum and
/// tungstenite use.
pub use tokio_tungstenite::tungstenite::http;

/// 16 random bytes as 32 hex digits: frame-id prefixes.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    // The OS's randomness failing is not recoverable here; a fixed prefix would still
    // be correct, only less unique across processes.
    let _ = getrandom::getrandom(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A version 4 UUID from the OS's randomness: session ids.
fn random_uuid() -> String {
    let mut bytes = [0u8; 16];
    let _ = getrandom::getrandom(&mut bytes);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}
