//! The programs behind the examples: a v2 brain (WebSocket server) and a v2 agent
//! (WebSocket client) built on the sans-IO sessions of `brainwire-v2`, with tokio and
//! tokio-tungstenite doing the I/O. `demo` runs both in one process; the end-to-end tests
//! in `tests/` run them too.

pub mod agent;
pub mod brain;
pub mod transcript;
mod ws;
