//! `decode` and `encode`: peek the `type`, decode exactly one struct, check the limits.

use brainwire_core::check::{chars, entries, one, opt_chars};
use brainwire_core::{decode_by_type, Limits, ShapeError};
use bytes::Bytes;
use serde::Serialize;

use crate::{
    AgentFrame, BrainFrame, CommandResult, DecodeError, EventBatch, Hello, ScheduleSnapshot,
    ScheduleUpdate, TaskEvent,
};

/// Most events in one `event_batch`. Document 000 sets none; this is the v2 reference's
/// cap, far above what agents batch (500).
pub const MAX_EVENTS_PER_BATCH: usize = 5000;
/// Most schedules in one snapshot or update list.
pub const MAX_SCHEDULES: usize = 10_000;
/// Longest name, id or short text field, in characters.
pub const MAX_NAME_CHARS: usize = 1024;
/// Longest message or traceback, in characters.
pub const MAX_TEXT_CHARS: usize = 65_536;
/// Most engines or schedulers named in `hello`.
pub const MAX_ADAPTERS: usize = 64;

/// Decodes a frame sent by an agent, under the default [`Limits`].
///
/// # Errors
///
/// [`DecodeError`]; each names close code 4005 (4001 for a `hello` of another version).
pub fn decode_agent(wire: &[u8]) -> Result<AgentFrame, DecodeError> {
    decode_agent_with(wire, &Limits::default())
}

/// [`decode_agent`] under `limits`.
///
/// # Errors
///
/// As [`decode_agent`].
pub fn decode_agent_with(wire: &[u8], limits: &Limits) -> Result<AgentFrame, DecodeError> {
    let frame = decode_by_type(wire, limits, |message_type, root| {
        Ok(match message_type {
            "hello" => {
                let hello: Hello = one(root)?;
                if hello.protocol != "v1" {
                    return Err(DecodeError::ProtocolMismatch {
                        found: hello.protocol.chars().take(16).collect(),
                    });
                }
                AgentFrame::Hello(hello)
            }
            "event_batch" => AgentFrame::EventBatch(one(root)?),
            "heartbeat" => AgentFrame::Heartbeat(one(root)?),
            "command_result" => AgentFrame::CommandResult(one(root)?),
            "schedule_snapshot" => AgentFrame::ScheduleSnapshot(one(root)?),
            "schedule_update" => AgentFrame::ScheduleUpdate(one(root)?),
            other => return Err(misdirected(other, &BRAIN_TYPES)),
        })
    })?;
    check_agent(&frame)?;
    Ok(frame)
}

/// Decodes a frame sent by the brain, under the default [`Limits`].
///
/// # Errors
///
/// [`DecodeError`]; each names close code 4005.
pub fn decode_brain(wire: &[u8]) -> Result<BrainFrame, DecodeError> {
    decode_brain_with(wire, &Limits::default())
}

/// [`decode_brain`] under `limits`.
///
/// # Errors
///
/// As [`decode_brain`].
pub fn decode_brain_with(wire: &[u8], limits: &Limits) -> Result<BrainFrame, DecodeError> {
    let frame = decode_by_type(wire, limits, |message_type, root| {
        Ok(match message_type {
            "ack" => BrainFrame::Ack(one(root)?),
            "command" => BrainFrame::Command(one(root)?),
            "error" => BrainFrame::Error(one(root)?),
            other => return Err(misdirected(other, &AGENT_TYPES)),
        })
    })?;
    match &frame {
        BrainFrame::Ack(_) => {}
        BrainFrame::Command(c) => name("cmd_id", &c.cmd_id)?,
        BrainFrame::Error(e) => {
            name("code", &e.code)?;
            text("message", &e.message)?;
        }
    }
    Ok(frame)
}

/// The types an agent sends, then those the brain sends.
const AGENT_TYPES: [&str; 6] = [
    "hello",
    "event_batch",
    "heartbeat",
    "command_result",
    "schedule_snapshot",
    "schedule_update",
];
const BRAIN_TYPES: [&str; 3] = ["ack", "command", "error"];

/// The error for a type of the other direction, or an unknown one.
fn misdirected(frame_type: &str, other_side: &[&'static str]) -> DecodeError {
    match other_side.iter().find(|t| **t == frame_type) {
        Some(t) => DecodeError::WrongDirection { frame_type: t },
        None => ShapeError::unknown_type(frame_type).into(),
    }
}

fn name(field: &'static str, value: &str) -> Result<(), ShapeError> {
    chars(field, value, 0, MAX_NAME_CHARS)
}

fn text(field: &'static str, value: &str) -> Result<(), ShapeError> {
    chars(field, value, 0, MAX_TEXT_CHARS)
}

fn opt_name(field: &'static str, value: Option<&str>) -> Result<(), ShapeError> {
    opt_chars(field, value, MAX_NAME_CHARS)
}

fn check_event(event: &TaskEvent) -> Result<(), ShapeError> {
    name("events.task_id", &event.task_id)?;
    name("events.engine", &event.engine)?;
    name("events.name", &event.name)?;
    opt_name("events.queue", event.queue.as_deref())?;
    opt_name("events.routing_key", event.routing_key.as_deref())?;
    opt_name("events.group_id", event.group_id.as_deref())?;
    opt_name("events.parent_id", event.parent_id.as_deref())?;
    opt_name("events.retry_of", event.retry_of.as_deref())?;
    if let Some(error) = &event.error {
        name("events.error.exc_type", &error.exc_type)?;
        text("events.error.exc_msg", &error.exc_msg)?;
        text("events.error.traceback_redacted", &error.traceback_redacted)?;
    }
    Ok(())
}

fn check_agent(frame: &AgentFrame) -> Result<(), ShapeError> {
    match frame {
        AgentFrame::Hello(h) => {
            name("agent_name", &h.agent_name)?;
            name("framework_version", &h.framework_version)?;
            entries("engines", h.engines.len(), MAX_ADAPTERS)?;
            entries("schedulers", h.schedulers.len(), MAX_ADAPTERS)?;
            entries("capabilities", h.capabilities.len(), MAX_ADAPTERS * 2)?;
            name("metadata.hostname", &h.metadata.hostname)
        }
        AgentFrame::EventBatch(EventBatch { events, .. }) => {
            entries("events", events.len(), MAX_EVENTS_PER_BATCH)?;
            events.iter().try_for_each(check_event)
        }
        AgentFrame::Heartbeat(_) => Ok(()),
        AgentFrame::CommandResult(CommandResult { cmd_id, error, .. }) => {
            name("cmd_id", cmd_id)?;
            if let Some(e) = error {
                name("error.code", &e.code)?;
                text("error.message", &e.message)?;
            }
            Ok(())
        }
        AgentFrame::ScheduleSnapshot(ScheduleSnapshot {
            scheduler,
            schedules,
        }) => {
            name("scheduler", scheduler)?;
            entries("schedules", schedules.len(), MAX_SCHEDULES)
        }
        AgentFrame::ScheduleUpdate(ScheduleUpdate {
            scheduler,
            added,
            modified,
            removed,
        }) => {
            name("scheduler", scheduler)?;
            entries("added", added.as_ref().map_or(0, Vec::len), MAX_SCHEDULES)?;
            entries(
                "modified",
                modified.as_ref().map_or(0, Vec::len),
                MAX_SCHEDULES,
            )?;
            entries(
                "removed",
                removed.as_ref().map_or(0, Vec::len),
                MAX_SCHEDULES,
            )
        }
    }
}

/// A frame with its `type` first, as document 000 shows them.
#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(rename = "type")]
    frame_type: &'static str,
    #[serde(flatten)]
    frame: &'a T,
}

fn tagged<T: Serialize>(frame_type: &'static str, frame: &T) -> Bytes {
    Bytes::from(
        serde_json::to_vec(&Tagged { frame_type, frame }).expect("frames serialize to JSON"),
    )
}

/// Encodes a frame an agent sends.
pub fn encode_agent(frame: &AgentFrame) -> Bytes {
    let t = frame.frame_type();
    match frame {
        AgentFrame::Hello(f) => tagged(t, f),
        AgentFrame::EventBatch(f) => tagged(t, f),
        AgentFrame::Heartbeat(f) => tagged(t, f),
        AgentFrame::CommandResult(f) => tagged(t, f),
        AgentFrame::ScheduleSnapshot(f) => tagged(t, f),
        AgentFrame::ScheduleUpdate(f) => tagged(t, f),
    }
}

/// Encodes a frame the brain sends.
pub fn encode_brain(frame: &BrainFrame) -> Bytes {
    let t = frame.frame_type();
    match frame {
        BrainFrame::Ack(f) => tagged(t, f),
        BrainFrame::Command(f) => tagged(t, f),
        BrainFrame::Error(f) => tagged(t, f),
    }
}
