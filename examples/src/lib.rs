//! The programs behind the examples: a v2 brain (WebSocket server, also serving the run
//! status stream and channel events) and a v2 agent (WebSocket client) built on the
//! sans-IO sessions of `brainwire-v2`, and the two dashboard clients, `dashboard`
//! (channels) and `run-watch` (run stream); tokio and tokio-tungstenite do the I/O.
//! `demo` runs the brain and an agent in one process; the end-to-end tests in `tests/`
//! run them all.

pub mod agent;
pub mod brain;
pub mod dashboard;
pub mod run_watch;
pub mod transcript;
