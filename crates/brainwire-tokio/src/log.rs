//! Connection events through `tracing`: ids and codes, never tokens or secrets.

pub(crate) use tracing::{debug, warn as warn_event};
