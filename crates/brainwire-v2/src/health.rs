//! `heartbeat` and `agent_status`: liveness and self-reports.

use std::collections::BTreeMap;

use brainwire_core::Timestamp;
use serde::{Deserialize, Serialize};

use brainwire_core::check::{chars, entries, range};
use brainwire_core::ShapeError;

/// 2^53 - 1: the reference's bound on loss counters (exact in a JavaScript number).
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Cumulative telemetry loss of one buffer and one adapter runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TelemetryLoss {
    /// Per-adapter event counts, at most 32 keys of 1 to 64 characters.
    #[serde(default)]
    pub adapter_events: BTreeMap<String, u64>,
    /// The buffer, 1 to 64 characters.
    pub buffer_id: String,
    /// Frames evicted for capacity.
    #[serde(default)]
    pub capacity_evicted_frames: u64,
    /// Command results lost.
    #[serde(default)]
    pub command_results: u64,
    /// Frames refused for content.
    #[serde(default)]
    pub content_rejected_frames: u64,
    /// Event records inside valid batches (overlaps the frame counters).
    #[serde(default)]
    pub event_records: u64,
    /// Other frames lost.
    #[serde(default)]
    pub other_frames: u64,
    /// The adapter runtime, 1 to 64 characters.
    pub runtime_id: String,
    /// Frames lost for an unknown reason.
    #[serde(default)]
    pub unclassified_frames: u64,
}

impl TelemetryLoss {
    /// Loss counters for `buffer_id` and `runtime_id`, all zero.
    pub fn new(buffer_id: impl Into<String>, runtime_id: impl Into<String>) -> Self {
        Self {
            buffer_id: buffer_id.into(),
            runtime_id: runtime_id.into(),
            capacity_evicted_frames: 0,
            content_rejected_frames: 0,
            event_records: 0,
            command_results: 0,
            other_frames: 0,
            unclassified_frames: 0,
            adapter_events: BTreeMap::new(),
        }
    }

    fn validate(&self) -> Result<(), ShapeError> {
        chars("payload.telemetry_loss.buffer_id", &self.buffer_id, 1, 64)?;
        chars("payload.telemetry_loss.runtime_id", &self.runtime_id, 1, 64)?;
        for (field, value) in [
            (
                "payload.telemetry_loss.capacity_evicted_frames",
                self.capacity_evicted_frames,
            ),
            (
                "payload.telemetry_loss.content_rejected_frames",
                self.content_rejected_frames,
            ),
            ("payload.telemetry_loss.event_records", self.event_records),
            (
                "payload.telemetry_loss.command_results",
                self.command_results,
            ),
            ("payload.telemetry_loss.other_frames", self.other_frames),
            (
                "payload.telemetry_loss.unclassified_frames",
                self.unclassified_frames,
            ),
        ] {
            range(field, value, 0, MAX_SAFE_INTEGER)?;
        }
        entries(
            "payload.telemetry_loss.adapter_events",
            self.adapter_events.len(),
            32,
        )?;
        for (adapter, count) in &self.adapter_events {
            chars("payload.telemetry_loss.adapter_events", adapter, 1, 64)?;
            range(
                "payload.telemetry_loss.adapter_events",
                *count,
                0,
                MAX_SAFE_INTEGER,
            )?;
        }
        Ok(())
    }
}

/// Payload of `heartbeat`: liveness and buffer health.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Heartbeat {
    /// Health per adapter.
    #[serde(default)]
    pub adapter_health: BTreeMap<String, String>,
    /// Events waiting in the agent's buffer, at most 10,000,000.
    #[serde(default)]
    pub buffer_size: u64,
    /// Events dropped, at most 10,000,000.
    #[serde(default)]
    pub dropped_events: u64,
    /// When the buffer last flushed.
    #[serde(default)]
    pub last_flush_at: Option<Timestamp>,
    /// Loss accounting, when the agent supports it.
    #[serde(default)]
    pub telemetry_loss: Option<TelemetryLoss>,
}

impl Heartbeat {
    pub(crate) fn validate(&self) -> Result<(), ShapeError> {
        range("payload.buffer_size", self.buffer_size, 0, 10_000_000)?;
        range("payload.dropped_events", self.dropped_events, 0, 10_000_000)?;
        self.telemetry_loss
            .as_ref()
            .map_or(Ok(()), TelemetryLoss::validate)
    }
}

/// Payload of `agent_status`: the agent's periodic self-report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AgentStatus {
    /// The agent's version, at most 40 characters.
    #[serde(default)]
    pub agent_version: String,
    /// Consecutive authentication failures, at most 1,000,000.
    #[serde(default)]
    pub auth_failure_streak: u32,
    /// Buffer depth, at most 10,000,000.
    #[serde(default)]
    pub buffer_depth: u64,
    /// Age of the oldest buffered entry, 0 to 315,360,000 s.
    #[serde(default)]
    pub buffer_oldest_age_seconds: Option<f64>,
    /// Consecutive connection failures, at most 1,000,000.
    #[serde(default)]
    pub connection_failure_streak: u32,
    /// Age of the current session, 0 to 315,360,000 s (ten years).
    #[serde(default)]
    pub current_session_age_seconds: Option<f64>,
    /// Engines wired up, at most 32.
    #[serde(default)]
    pub engines: Vec<String>,
    /// When the last handshake completed.
    #[serde(default)]
    pub last_successful_connect_at: Option<Timestamp>,
    /// Consecutive protocol failures, at most 1,000,000.
    #[serde(default)]
    pub protocol_failure_streak: u32,
    /// The protocol version, at most 10 characters.
    #[serde(default)]
    pub protocol_version: String,
    /// Schedulers wired up, at most 32.
    #[serde(default)]
    pub schedulers: Vec<String>,
    /// Loss accounting, when the agent supports it.
    #[serde(default)]
    pub telemetry_loss: Option<TelemetryLoss>,
}

impl AgentStatus {
    pub(crate) fn validate(&self) -> Result<(), ShapeError> {
        self.telemetry_loss
            .as_ref()
            .map_or(Ok(()), TelemetryLoss::validate)?;
        range(
            "payload.auth_failure_streak",
            self.auth_failure_streak,
            0,
            1_000_000,
        )?;
        range(
            "payload.protocol_failure_streak",
            self.protocol_failure_streak,
            0,
            1_000_000,
        )?;
        range(
            "payload.connection_failure_streak",
            self.connection_failure_streak,
            0,
            1_000_000,
        )?;
        if let Some(age) = self.current_session_age_seconds {
            range(
                "payload.current_session_age_seconds",
                age,
                0.0,
                315_360_000.0,
            )?;
        }
        range("payload.buffer_depth", self.buffer_depth, 0, 10_000_000)?;
        if let Some(age) = self.buffer_oldest_age_seconds {
            range("payload.buffer_oldest_age_seconds", age, 0.0, 315_360_000.0)?;
        }
        chars("payload.agent_version", &self.agent_version, 0, 40)?;
        chars("payload.protocol_version", &self.protocol_version, 0, 10)?;
        entries("payload.engines", self.engines.len(), 32)?;
        entries("payload.schedulers", self.schedulers.len(), 32)
    }
}
