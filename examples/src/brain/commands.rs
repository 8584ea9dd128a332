//! Commands of the HTTP API, on the connection that holds their agent: another node (or
//! this one) stored the command unsigned and announced it; this connection's session
//! signs and sends it, and what the agent answers becomes the command's status for every
//! node. The cluster's command id travels as the v2 `delivery_claim_token` (the v1
//! `cmd_id`), so the agent sees one id however many nodes it met.

use std::collections::{HashMap, HashSet};

use brainwire_core::JsonObject;
use brainwire_tokio::{AgentConnection, V1AgentConnection};
use serde_json::Value;

use super::cluster::CommandRecord;
use super::Shared;
use crate::transcript::Side;

/// The cluster's commands one connection sent, by the id its session gave each.
#[derive(Default)]
pub(super) struct SentCommands {
    /// Frame (or v1 `cmd_id`) id → the command.
    by_wire_id: HashMap<String, CommandRecord>,
    /// Cluster ids sent on this connection: offered again (by the sweeper), they are
    /// not sent twice.
    sent: HashSet<String>,
}

impl SentCommands {
    /// The stored command `command_id` for `agent_id`, if it is still open and this
    /// connection has not sent it.
    async fn take_open(
        &self,
        shared: &Shared,
        agent_id: &str,
        command_id: &str,
    ) -> Option<CommandRecord> {
        if self.sent.contains(command_id) {
            return None;
        }
        let record = shared.cluster.command(command_id).await.ok()??;
        (record.is_open() && record.agent_id == agent_id).then_some(record)
    }

    /// Sends command `command_id` to a v2 agent, signed by this connection's session.
    pub(super) async fn offer_v2(
        &mut self,
        connection: &AgentConnection,
        shared: &Shared,
        agent_id: &str,
        command_id: &str,
    ) {
        let Some(record) = self.take_open(shared, agent_id, command_id).await else {
            return;
        };
        let (Ok(target), Ok(parameters)) = (
            JsonObject::from_serialize(&record.target),
            JsonObject::from_serialize(&record.parameters),
        ) else {
            return;
        };
        let mut command = brainwire_v2::Command::new(record.action.clone(), target);
        command.parameters = parameters;
        command.delivery_claim_token = Some(record.command_id.clone());
        match connection.send_command(command).await {
            Ok(frame_id) => self.sent_as(shared, frame_id, record).await,
            Err(e) => note(shared, format!("command {command_id} not sent: {e}")).await,
        }
    }

    /// Sends command `command_id` to a v1 agent (`cmd_id` is the cluster's id; `args`
    /// are the target's members, then the parameters').
    pub(super) async fn offer_v1(
        &mut self,
        connection: &V1AgentConnection,
        shared: &Shared,
        agent_id: &str,
        command_id: &str,
    ) {
        let Some(record) = self.take_open(shared, agent_id, command_id).await else {
            return;
        };
        let mut args = serde_json::Map::new();
        for part in [&record.target, &record.parameters] {
            if let Value::Object(members) = part {
                args.extend(members.clone());
            }
        }
        let Ok(args) = JsonObject::from_serialize(&args) else {
            return;
        };
        let verb = brainwire_v1::CommandVerb::from(record.action.as_str());
        let command = brainwire_v1::Command::new(record.command_id.clone(), verb, args);
        match connection.send_command(command).await {
            Ok(()) => {
                self.sent_as(shared, record.command_id.clone(), record)
                    .await
            }
            Err(e) => note(shared, format!("command {command_id} not sent: {e}")).await,
        }
    }

    async fn sent_as(&mut self, shared: &Shared, wire_id: String, mut record: CommandRecord) {
        self.sent.insert(record.command_id.clone());
        if record.status == "pending" {
            record.status = "sent".into();
            let _ = shared.cluster.update_command(&record).await;
        }
        let text = format!(
            "sent {} as {} (wire id {wire_id})",
            record.action, record.command_id
        );
        note(shared, text).await;
        self.by_wire_id.insert(wire_id, record);
    }

    /// The agent acknowledged the command with wire id `wire_id`; `false` if it is not
    /// one of the cluster's.
    pub(super) async fn acked(&mut self, shared: &Shared, wire_id: &str) -> bool {
        let Some(record) = self.by_wire_id.get_mut(wire_id) else {
            return false;
        };
        record.status = "acked".into();
        let _ = shared.cluster.update_command(record).await;
        true
    }

    /// The agent finished the command with wire id `wire_id`: `completed` or `failed`,
    /// with its result or error. `false` if it is not one of the cluster's.
    pub(super) async fn finished(
        &mut self,
        shared: &Shared,
        wire_id: &str,
        ok: bool,
        result: Option<Value>,
        error: Option<String>,
    ) -> bool {
        let Some(mut record) = self.by_wire_id.remove(wire_id) else {
            return false;
        };
        self.sent.remove(&record.command_id);
        record.status = if ok { "completed" } else { "failed" }.into();
        record.result = result;
        record.error = error;
        let _ = shared.cluster.update_command(&record).await;
        note(
            shared,
            format!("command {} {}", record.command_id, record.status),
        )
        .await;
        true
    }
}

async fn note(shared: &Shared, text: String) {
    shared.transcript.note(Side::Brain, text).await;
}
