//! `event_batch` and `event_batch_ack`: the ingestion hot path.

use serde::{Deserialize, Serialize};

use crate::JsonObject;
use brainwire_core::check::{chars, entries};
use brainwire_core::ShapeError;

/// The most events one `event_batch` may carry (the reference's cap; its agent batches
/// at most 500).
pub const MAX_EVENTS_PER_BATCH: usize = 5000;

/// Payload of `event_batch`: task lifecycle events from the agent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventBatch {
    /// The events, each an object kept as its exact text. At most 5000.
    #[serde(default)]
    pub events: Vec<JsonObject>,
}

impl EventBatch {
    /// A batch of `events`.
    pub fn new(events: Vec<JsonObject>) -> Self {
        Self { events }
    }

    pub(crate) fn validate(&self) -> Result<(), ShapeError> {
        entries("payload.events", self.events.len(), MAX_EVENTS_PER_BATCH)
    }
}

/// Payload of `event_batch_ack`: how many events of a batch the brain took.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventBatchAck {
    /// Events newly stored.
    pub accepted: u64,
    /// The `id` of the `event_batch` acknowledged. At most 64 characters.
    #[serde(default)]
    pub acked_id: String,
    /// Events received.
    pub received: u64,
    /// Events refused.
    pub rejected: u64,
}

impl EventBatchAck {
    /// An ack of the batch `acked_id`.
    pub fn new(acked_id: impl Into<String>, received: u64, accepted: u64, rejected: u64) -> Self {
        Self {
            acked_id: acked_id.into(),
            received,
            accepted,
            rejected,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ShapeError> {
        chars("payload.acked_id", &self.acked_id, 0, 64)
    }
}
