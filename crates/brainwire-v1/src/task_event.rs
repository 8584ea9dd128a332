//! `TaskEvent`, the unit of an `event_batch`.

use brainwire_core::{JsonObject, JsonValue, Timestamp};
use serde::{Deserialize, Serialize};

use crate::open_enum::open_string_enum;

open_string_enum! {
    /// What happened to a task; unknown kinds are kept.
    pub enum TaskEventType {
        Sent => "task_sent",
        Started => "task_started",
        Succeeded => "task_succeeded",
        Failed => "task_failed",
        Retry => "task_retry",
        Cancelled => "task_cancelled",
        Expired => "task_expired",
    }
}

/// One task lifecycle event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskEvent {
    /// What happened.
    pub event_type: TaskEventType,
    /// The task.
    pub task_id: String,
    /// The engine that ran it.
    pub engine: String,
    /// When (RFC 3339).
    pub ts: Timestamp,
    /// The task's name.
    pub name: String,
    /// Positional arguments, redacted by the agent.
    pub args_redacted: Vec<JsonValue>,
    /// Keyword arguments, redacted by the agent.
    pub kwargs_redacted: JsonObject,
    /// The queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// The routing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_key: Option<String>,
    /// What went wrong, for failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<TaskError>,
    /// The group the task belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// The task that started this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// The task this one retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_of: Option<String>,
}

impl TaskEvent {
    /// An event with no arguments and no optional fields.
    pub fn new(
        event_type: TaskEventType,
        task_id: impl Into<String>,
        engine: impl Into<String>,
        ts: Timestamp,
        name: impl Into<String>,
    ) -> Self {
        Self {
            event_type,
            task_id: task_id.into(),
            engine: engine.into(),
            ts,
            name: name.into(),
            args_redacted: Vec::new(),
            kwargs_redacted: JsonObject::empty(),
            queue: None,
            routing_key: None,
            error: None,
            group_id: None,
            parent_id: None,
            retry_of: None,
        }
    }
}

/// The exception of a failed task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskError {
    /// The exception's type.
    pub exc_type: String,
    /// Its message.
    pub exc_msg: String,
    /// The traceback, redacted.
    pub traceback_redacted: String,
}

impl TaskError {
    /// An error.
    pub fn new(
        exc_type: impl Into<String>,
        exc_msg: impl Into<String>,
        traceback_redacted: impl Into<String>,
    ) -> Self {
        Self {
            exc_type: exc_type.into(),
            exc_msg: exc_msg.into(),
            traceback_redacted: traceback_redacted.into(),
        }
    }
}
