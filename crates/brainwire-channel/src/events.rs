//! The event catalogue of document 004: `{type, payload}` with camelCase payloads.

use brainwire_core::{JsonObject, JsonValue};
use serde::{Deserialize, Serialize};

/// Defines each event's payload struct, the [`Event`] enum and its type names from one
/// list, so that the catalogue, the decoder and the docs agree.
macro_rules! catalogue {
    ($( $variant:ident($payload:ident) = $wire:literal, $trigger:literal { $($field:ident: $ty:ty),* $(,)? } )*) => {
        $(
            #[doc = concat!("Payload of `", $wire, "` (", $trigger, ").")]
            ///
            /// Built with its named fields, so that two fields of one type cannot be swapped
            /// unnoticed; strings take `.into()`, and `timestamp` takes a
            /// [`Timestamp`](brainwire_core::Timestamp) or epoch milliseconds by `.into()`.
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            #[serde(rename_all = "camelCase")]
            pub struct $payload {
                $(
                    #[doc = concat!("`", stringify!($field), "` (camelCase on the wire).")]
                    pub $field: $ty,
                )*
            }
        )*

        /// An event: one of the catalogue, or an unknown type kept with its payload.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum Event {
            $(
                #[doc = concat!("`", $wire, "`: ", $trigger, ".")]
                $variant($payload),
            )*
            /// An event type this version does not know, kept, not refused.
            Other {
                /// Its `type`.
                event_type: String,
                /// Its payload, as exact text.
                payload: JsonObject,
            },
        }

        impl Event {
            /// Every type of the catalogue.
            pub const CATALOGUE: &'static [&'static str] = &[$($wire),*];

            /// The wire `type`.
            pub fn event_type(&self) -> &str {
                match self {
                    $(Self::$variant(_) => $wire,)*
                    Self::Other { event_type, .. } => event_type,
                }
            }

            /// The event as `{"type", "payload"}`, serialized once.
            pub(crate) fn encode(&self) -> bytes::Bytes {
                #[derive(Serialize)]
                struct Out<'a, P> {
                    payload: &'a P,
                }
                match self {
                    $(Self::$variant(p) => crate::message::tagged($wire, Out { payload: p }),)*
                    Self::Other { event_type, payload } => crate::message::tagged(event_type, Out { payload }),
                }
            }

            /// Decodes the event of `event_type` from the message's bytes.
            pub(crate) fn decode(event_type: &str, root: brainwire_core::Node<'_>) -> Result<Self, brainwire_core::ShapeError> {
                #[derive(Deserialize)]
                struct Wire<P> {
                    payload: P,
                }
                Ok(match event_type {
                    $($wire => Self::$variant(brainwire_core::check::one::<Wire<$payload>>(root)?.payload),)*
                    other => Self::Other {
                        event_type: other.to_owned(),
                        payload: brainwire_core::check::one::<Wire<JsonObject>>(root)?.payload,
                    },
                })
            }
        }
    };
}

catalogue! {
    AgentSpawned(AgentSpawned) = "agent.spawned", "agent execution started" {
        agent_id: String, agent_name: String, task_id: String, timestamp: JsonValue }
    AgentCompleted(AgentCompleted) = "agent.completed", "agent execution finished" {
        agent_id: String, agent_name: String, task_id: String, result: JsonValue, duration: brainwire_core::Number, timestamp: JsonValue }
    AgentFailed(AgentFailed) = "agent.failed", "agent execution errored" {
        agent_id: String, agent_name: String, task_id: String, error: JsonValue, timestamp: JsonValue }
    AgentStatus(AgentStatus) = "agent.status", "agent status changed (error or blocked only)" {
        agent_id: String, agent_name: String, status: String, message: String, timestamp: JsonValue }
    TaskCreated(TaskCreated) = "task.created", "new task created" {
        task_id: String, title: String, project_id: String, timestamp: JsonValue }
    TaskStatusChanged(TaskStatusChanged) = "task.status_changed", "task status updated" {
        task_id: String, old_status: String, new_status: String, timestamp: JsonValue }
    TaskUpdated(TaskUpdated) = "task.updated", "task details modified" {
        task_id: String, changes: JsonValue, timestamp: JsonValue }
    TaskDeleted(TaskDeleted) = "task.deleted", "task removed" {
        task_id: String, timestamp: JsonValue }
    ChiefPlanCreated(ChiefPlanCreated) = "chief.plan.created", "chief created an execution plan" {
        plan_id: String, tasks: JsonValue, timestamp: JsonValue }
    ChiefTaskAssigned(ChiefTaskAssigned) = "chief.task.assigned", "chief assigned a task to an agent" {
        task_id: String, agent_name: String, timestamp: JsonValue }
    ChiefTaskProgress(ChiefTaskProgress) = "chief.task.progress", "task progress update" {
        task_id: String, progress: brainwire_core::Number, message: String, timestamp: JsonValue }
    SwarmPhaseStarted(SwarmPhaseStarted) = "swarm.phase.started", "swarm entered a new phase" {
        swarm_id: String, phase: String, timestamp: JsonValue }
    SwarmPhaseCompleted(SwarmPhaseCompleted) = "swarm.phase.completed", "swarm phase finished" {
        swarm_id: String, phase: String, results: JsonValue, timestamp: JsonValue }
    GatePassed(GatePassed) = "gate.passed", "quality gate passed" {
        task_id: String, gate: String, timestamp: JsonValue }
    GateFailed(GateFailed) = "gate.failed", "quality gate failed" {
        task_id: String, gate: String, reason: String, timestamp: JsonValue }
    ChatMessage(ChatMessage) = "chat.message", "new chat message" {
        message_id: String, agent_id: String, content: String, timestamp: JsonValue }
}
