//! Frames the brain sends to an agent.

use brainwire_core::JsonObject;
use serde::{Deserialize, Serialize};

use crate::open_enum::open_string_enum;

/// A frame sent by the brain.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BrainFrame {
    /// `ack`
    Ack(Ack),
    /// `command`
    Command(Command),
    /// `error`
    Error(ErrorFrame),
}

impl BrainFrame {
    /// The wire `type`.
    pub const fn frame_type(&self) -> &'static str {
        match self {
            Self::Ack(_) => "ack",
            Self::Command(_) => "command",
            Self::Error(_) => "error",
        }
    }
}

/// `ack`: the brain took the `event_batch` with this `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Ack {
    /// The batch's `seq`.
    pub seq: u64,
}

impl Ack {
    /// An ack of batch `seq`.
    pub fn new(seq: u64) -> Self {
        Self { seq }
    }
}

open_string_enum! {
    /// What a command asks for; unknown verbs are kept.
    pub enum CommandVerb {
        RetryTask => "retry_task",
        CancelTask => "cancel_task",
        BulkRetry => "bulk_retry",
        PurgeQueue => "purge_queue",
        ScheduleCreate => "schedule_create",
        ScheduleUpdate => "schedule_update",
        ScheduleDelete => "schedule_delete",
        SchedulePause => "schedule_pause",
        ScheduleResume => "schedule_resume",
        RestartAgent => "restart_agent",
        QueryState => "query_state",
    }
}

/// `command`: an action for the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Command {
    /// The command's id (a UUID); `command_result` names it.
    pub cmd_id: String,
    /// What to do.
    pub cmd: CommandVerb,
    /// Its arguments.
    pub args: JsonObject,
}

impl Command {
    /// A command.
    pub fn new(cmd_id: impl Into<String>, cmd: CommandVerb, args: JsonObject) -> Self {
        Self {
            cmd_id: cmd_id.into(),
            cmd,
            args,
        }
    }
}

/// `error`: a fatal protocol error; the brain closes the socket after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorFrame {
    /// A code.
    pub code: String,
    /// A message.
    pub message: String,
}

impl ErrorFrame {
    /// An error.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}
