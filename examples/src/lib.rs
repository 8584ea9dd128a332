//! The programs behind the examples: a brain (WebSocket server for v2 and legacy v1
//! agents, also serving the run status stream and channel events); a v2 agent built on
//! the sans-IO sessions of `brainwire-v2`; a v1 agent written from document 000; the two
//! dashboard clients, `dashboard` (channels) and `run-watch` (run stream); and the
//! platform and orchestrator of document 002 on the sans-IO `Client` and `Server` of
//! `brainwire-auth`, driven by [`link`]. tokio and tokio-tungstenite do the I/O. `demo`
//! runs the brain and an agent in one process; the end-to-end tests in `tests/` run them
//! all.

pub mod agent;
pub mod agent_v1;
pub mod brain;
pub mod dashboard;
pub mod link;
pub mod orchestrator;
pub mod platform;
pub mod run_watch;
pub mod transcript;
