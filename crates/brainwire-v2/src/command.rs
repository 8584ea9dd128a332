//! `command`, `command_ack` and `command_result`: actions the brain asks for.

use serde::{Deserialize, Serialize};

use crate::JsonObject;
use brainwire_core::check::{chars, opt_chars, range};
use brainwire_core::ShapeError;

/// Payload of `command`: an action the brain asks the agent to run.
///
/// Document 001 says `command_id/verb/args`; the reference sends
/// `action/target/parameters/timeout_seconds/issued_by/delivery_claim_token`, and those
/// bytes win.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Command {
    /// The action (`cancel_task`, `retry_task`, ...), at most 80 characters.
    pub action: String,
    /// Delivery correlation the agent echoes in its ack and result, at most 64.
    #[serde(default)]
    pub delivery_claim_token: Option<String>,
    /// Who issued it (a user UUID), at most 64 characters.
    #[serde(default)]
    pub issued_by: Option<String>,
    /// Action parameters.
    #[serde(default)]
    pub parameters: JsonObject,
    /// What the action applies to.
    #[serde(default)]
    pub target: JsonObject,
    /// How long the agent may take, 1 to 3600 s. Default 60.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u32,
}

fn default_timeout() -> u32 {
    60
}

impl Command {
    /// A command `action` on `target` with no parameters and the default timeout.
    pub fn new(action: impl Into<String>, target: JsonObject) -> Self {
        Self {
            action: action.into(),
            target,
            parameters: JsonObject::empty(),
            timeout_seconds: default_timeout(),
            issued_by: None,
            delivery_claim_token: None,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ShapeError> {
        chars("payload.action", &self.action, 0, 80)?;
        range("payload.timeout_seconds", self.timeout_seconds, 1, 3600)?;
        opt_chars("payload.issued_by", self.issued_by.as_deref(), 64)?;
        opt_chars(
            "payload.delivery_claim_token",
            self.delivery_claim_token.as_deref(),
            64,
        )
    }
}

/// Payload of `command_ack`: "I received the command".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CommandAck {
    /// The command's delivery token, echoed. At most 64 characters.
    #[serde(default)]
    pub delivery_claim_token: Option<String>,
}

impl CommandAck {
    /// An ack echoing `delivery_claim_token`.
    pub fn new(delivery_claim_token: Option<String>) -> Self {
        Self {
            delivery_claim_token,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ShapeError> {
        opt_chars(
            "payload.delivery_claim_token",
            self.delivery_claim_token.as_deref(),
            64,
        )
    }
}

/// How a command ended, as the agent reports it. A closed set: `timeout` is the brain's
/// own state, and the reference refuses it from an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandStatus {
    /// The command succeeded.
    Success,
    /// The command failed.
    Failed,
}

/// Payload of `command_result`: what running the command gave.
///
/// Document 001 says `command_id/ok/error{code,message}/result`; the reference sends
/// `status/result/error/delivery_claim_token`, and those bytes win.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CommandResult {
    /// The command's delivery token, echoed. At most 64 characters.
    #[serde(default)]
    pub delivery_claim_token: Option<String>,
    /// The error text, at most 8192 characters.
    #[serde(default)]
    pub error: Option<String>,
    /// The result object, if any.
    #[serde(default)]
    pub result: Option<JsonObject>,
    /// Success or failure.
    pub status: CommandStatus,
}

impl CommandResult {
    /// A successful result.
    pub fn success(result: Option<JsonObject>) -> Self {
        Self {
            status: CommandStatus::Success,
            result,
            error: None,
            delivery_claim_token: None,
        }
    }

    /// A failed result with `error`.
    pub fn failed(error: impl Into<String>) -> Self {
        Self {
            status: CommandStatus::Failed,
            result: None,
            error: Some(error.into()),
            delivery_claim_token: None,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ShapeError> {
        opt_chars("payload.error", self.error.as_deref(), 8192)?;
        opt_chars(
            "payload.delivery_claim_token",
            self.delivery_claim_token.as_deref(),
            64,
        )
    }
}
