//! `registry_delta` and `error`.

use serde::{Deserialize, Serialize};

use crate::JsonObject;
use brainwire_core::check::{chars, entries};
use brainwire_core::ShapeError;

/// Payload of `registry_delta`: changes to the agent's known task registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RegistryDelta {
    /// Task definitions added, at most 10,000.
    #[serde(default)]
    pub added: Vec<JsonObject>,
    /// The engine, at most 40 characters.
    pub engine: String,
    /// Names removed, at most 10,000.
    #[serde(default)]
    pub removed: Vec<String>,
    /// Task definitions changed, at most 10,000.
    #[serde(default)]
    pub updated: Vec<JsonObject>,
}

impl RegistryDelta {
    /// An empty delta for `engine`.
    pub fn new(engine: impl Into<String>) -> Self {
        Self {
            engine: engine.into(),
            added: Vec::new(),
            removed: Vec::new(),
            updated: Vec::new(),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ShapeError> {
        chars("payload.engine", &self.engine, 0, 40)?;
        entries("payload.added", self.added.len(), 10_000)?;
        entries("payload.removed", self.removed.len(), 10_000)?;
        entries("payload.updated", self.updated.len(), 10_000)
    }
}

/// Payload of `error`: an error report from one peer to the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorReport {
    /// The error code, at most 80 characters.
    pub code: String,
    /// Whether the sender closes the connection after it.
    #[serde(default)]
    pub fatal: bool,
    /// The message, at most 8192 characters.
    pub message: String,
}

impl ErrorReport {
    /// A non-fatal error report.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            fatal: false,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ShapeError> {
        chars("payload.code", &self.code, 0, 80)?;
        chars("payload.message", &self.message, 0, 8192)
    }
}
