//! Frames an agent sends to the brain.

use brainwire_core::{JsonValue, Timestamp};
use serde::{Deserialize, Serialize};

use crate::{Hello, Schedule, TaskEvent};

/// A frame sent by an agent.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AgentFrame {
    /// `hello`
    Hello(Hello),
    /// `event_batch`
    EventBatch(EventBatch),
    /// `heartbeat`
    Heartbeat(Heartbeat),
    /// `command_result`
    CommandResult(CommandResult),
    /// `schedule_snapshot`
    ScheduleSnapshot(ScheduleSnapshot),
    /// `schedule_update`
    ScheduleUpdate(ScheduleUpdate),
}

impl AgentFrame {
    /// The wire `type`.
    pub const fn frame_type(&self) -> &'static str {
        match self {
            Self::Hello(_) => "hello",
            Self::EventBatch(_) => "event_batch",
            Self::Heartbeat(_) => "heartbeat",
            Self::CommandResult(_) => "command_result",
            Self::ScheduleSnapshot(_) => "schedule_snapshot",
            Self::ScheduleUpdate(_) => "schedule_update",
        }
    }
}

/// `event_batch`: task events, numbered by a `seq` monotonic per agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventBatch {
    /// The batch's number; the brain's `ack` names it.
    pub seq: u64,
    /// The events.
    pub events: Vec<TaskEvent>,
}

impl EventBatch {
    /// A batch.
    pub fn new(seq: u64, events: Vec<TaskEvent>) -> Self {
        Self { seq, events }
    }
}

/// `heartbeat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Heartbeat {
    /// When it was sent (RFC 3339).
    pub ts: Timestamp,
}

impl Heartbeat {
    /// A heartbeat at `ts`.
    pub fn new(ts: Timestamp) -> Self {
        Self { ts }
    }
}

/// `command_result`: how a command ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CommandResult {
    /// The command's `cmd_id`.
    pub cmd_id: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<CommandError>,
    /// What it returned, any JSON: `None` when absent, `Some(null)` for an explicit `null`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub result: Option<JsonValue>,
}

impl CommandResult {
    /// A success with an optional result.
    pub fn success(cmd_id: impl Into<String>, result: Option<JsonValue>) -> Self {
        Self {
            cmd_id: cmd_id.into(),
            ok: true,
            error: None,
            result,
        }
    }

    /// A failure.
    pub fn failure(cmd_id: impl Into<String>, error: CommandError) -> Self {
        Self {
            cmd_id: cmd_id.into(),
            ok: false,
            error: Some(error),
            result: None,
        }
    }
}

/// The error of a failed command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CommandError {
    /// A code.
    pub code: String,
    /// A message.
    pub message: String,
}

impl CommandError {
    /// An error.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// `schedule_snapshot`: the full schedule list (after `hello` and every 5 minutes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScheduleSnapshot {
    /// The scheduler.
    pub scheduler: String,
    /// Every schedule.
    pub schedules: Vec<Schedule>,
}

impl ScheduleSnapshot {
    /// A snapshot.
    pub fn new(scheduler: impl Into<String>, schedules: Vec<Schedule>) -> Self {
        Self {
            scheduler: scheduler.into(),
            schedules,
        }
    }
}

/// `schedule_update`: a delta.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScheduleUpdate {
    /// The scheduler.
    pub scheduler: String,
    /// Schedules added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added: Option<Vec<Schedule>>,
    /// Schedules changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<Vec<Schedule>>,
    /// Ids of schedules removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<Vec<String>>,
}

impl ScheduleUpdate {
    /// An empty update for `scheduler`.
    pub fn new(scheduler: impl Into<String>) -> Self {
        Self {
            scheduler: scheduler.into(),
            added: None,
            modified: None,
            removed: None,
        }
    }
}

/// A member that is present, `null` included (serde's `Option` would read `null` as absent).
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<JsonValue>, D::Error> {
    JsonValue::deserialize(deserializer).map(Some)
}
