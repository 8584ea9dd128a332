//! What a reported task event means to dashboards: a `run_*` message for the run stream
//! and channel events for the task's agent, task and project channels.

use brainwire_channel::{
    AgentCompleted, AgentFailed, AgentSpawned, ChannelId, ChannelKind, Event, TaskStatusChanged,
};
use brainwire_core::JsonObject;
use brainwire_core::{JsonValue, Timestamp};
use brainwire_run::{Body, RunData, RunMessage, RunStatus, TaskBoard};
use serde::Deserialize;

/// Most tasks the brain remembers for the run stream.
const MAX_TASKS: usize = 100_000;

/// Who reported an event: the session's binding and the agent's framework.
#[derive(Debug, Clone)]
pub(crate) struct Reporter {
    /// The agent's id (`agent:<id>` channel).
    pub agent_id: String,
    /// The name dashboards show: the agent's framework.
    pub agent_name: String,
    /// The project's id (`project:<id>` channel).
    pub project_id: String,
}

/// What one event publishes.
#[derive(Debug)]
pub(crate) struct Update {
    /// For every run stream client.
    pub run: Body,
    /// For the subscribers of each channel.
    pub channel_events: Vec<(Event, ChannelId)>,
}

/// The fields of a `z4j_core.models.Event` the feed reads.
#[derive(Deserialize)]
struct Reported {
    #[serde(default)]
    task_id: String,
    kind: String,
    occurred_at: Option<Timestamp>,
    #[serde(default)]
    data: ReportedData,
}

#[derive(Deserialize, Default)]
struct ReportedData {
    exception: Option<String>,
    runtime: Option<serde_json::Number>,
    result: Option<serde_json::Value>,
}

/// The brain's view of every task, folded from what agents report.
#[derive(Debug)]
pub(crate) struct Feed {
    board: TaskBoard,
}

impl Default for Feed {
    fn default() -> Self {
        Self {
            board: TaskBoard::new(MAX_TASKS),
        }
    }
}

/// The run status a task event kind means; `None` for events about no task's run
/// (worker, queue and schedule reports).
fn run_status(kind: &str) -> Option<RunStatus> {
    Some(match kind {
        "task.sent" | "task.received" | "task.retried" => RunStatus::Queued,
        "task.started" => RunStatus::InProgress,
        "task.succeeded" => RunStatus::Completed,
        "task.failed" | "task.revoked" | "task.rejected" => RunStatus::Failed,
        _ => return None,
    })
}

impl Feed {
    /// What `event`, newly stored from `reporter`, publishes; `None` when it is about no
    /// task's run or does not read as a task event.
    pub fn observe(&mut self, reporter: &Reporter, event: &JsonObject) -> Option<Update> {
        let reported: Reported = event.deserialize_as().ok()?;
        self.apply(reporter, reported)
    }

    /// What a legacy v1 agent's `event`, newly stored from `reporter`, publishes: the same
    /// as the v2 event it stands for (`task_started` is `task.started`, and so on).
    pub fn observe_v1(
        &mut self,
        reporter: &Reporter,
        event: &brainwire_v1::TaskEvent,
    ) -> Option<Update> {
        use brainwire_v1::TaskEventType as V1;
        let kind = match &event.event_type {
            V1::Sent => "task.sent",
            V1::Started => "task.started",
            V1::Succeeded => "task.succeeded",
            V1::Failed => "task.failed",
            V1::Retry => "task.retried",
            V1::Cancelled => "task.revoked",
            V1::Expired => "task.rejected",
            _ => return None,
        };
        let exception = event
            .error
            .as_ref()
            .map(|e| format!("{}: {}", e.exc_type, e.exc_msg));
        let reported = Reported {
            task_id: event.task_id.clone(),
            kind: kind.to_owned(),
            occurred_at: Some(event.ts),
            data: ReportedData {
                exception,
                ..ReportedData::default()
            },
        };
        self.apply(reporter, reported)
    }

    fn apply(&mut self, reporter: &Reporter, reported: Reported) -> Option<Update> {
        let status = run_status(&reported.kind)?;
        if reported.task_id.is_empty() {
            return None;
        }
        let at = reported.occurred_at.unwrap_or_else(Timestamp::now_utc);
        let previous = self.board.get(&reported.task_id).cloned();
        let old_status = previous
            .as_ref()
            .and_then(|p| p.status.as_ref())
            .map_or("unknown", RunStatus::as_str)
            .to_owned();

        let mut data =
            previous.unwrap_or_else(|| RunData::new(reported.task_id.clone(), status.clone()));
        data.status = Some(status.clone());
        data.task_id = Some(reported.task_id.clone());
        data.agent = Some(reporter.agent_name.clone());
        // The exception when the agent sent one, else what happened: `failed`, `revoked`.
        let error = reported.data.exception.clone().unwrap_or_else(|| {
            let what = reported.kind.strip_prefix("task.");
            what.unwrap_or(&reported.kind).to_owned()
        });
        let run = match status {
            RunStatus::InProgress => {
                data.started_at = Some(at.into());
                Body::RunUpdate(data)
            }
            RunStatus::Completed => {
                data.completed_at = Some(at.into());
                Body::RunComplete(data)
            }
            RunStatus::Failed => {
                data.error = Some(error.clone());
                Body::RunFailed(data)
            }
            _ => Body::RunUpdate(data),
        };
        self.board.apply(&RunMessage::new(run.clone(), at));

        let stamp = JsonValue::from(at);
        let task = reported.task_id.clone();
        let (agent_id, agent_name) = (reporter.agent_id.clone(), reporter.agent_name.clone());
        let agent_event = match run {
            Body::RunComplete(_) => Some(Event::AgentCompleted(AgentCompleted {
                agent_id,
                agent_name,
                task_id: task.clone(),
                result: reported
                    .data
                    .result
                    .as_ref()
                    .map_or_else(|| json(&()), json),
                duration: reported.data.runtime.unwrap_or_else(|| 0.into()),
                timestamp: stamp.clone(),
            })),
            Body::RunFailed(_) => Some(Event::AgentFailed(AgentFailed {
                agent_id,
                agent_name,
                task_id: task.clone(),
                error: json(&error),
                timestamp: stamp.clone(),
            })),
            _ if reported.kind == "task.started" => Some(Event::AgentSpawned(AgentSpawned {
                agent_id,
                agent_name,
                task_id: task.clone(),
                timestamp: stamp.clone(),
            })),
            _ => None,
        };
        let changed = Event::TaskStatusChanged(TaskStatusChanged {
            task_id: task,
            old_status,
            new_status: status.as_str().to_owned(),
            timestamp: stamp,
        });

        let agent_channel = ChannelId::new(ChannelKind::Agent, &reporter.agent_id).ok();
        let task_channel = ChannelId::new(ChannelKind::Task, &reported.task_id).ok();
        let project_channel = ChannelId::new(ChannelKind::Project, &reporter.project_id).ok();
        let mut channel_events = Vec::new();
        if let Some(event) = agent_event {
            for channel in [&agent_channel, &project_channel].into_iter().flatten() {
                channel_events.push((event.clone(), channel.clone()));
            }
        }
        for channel in [&task_channel, &project_channel].into_iter().flatten() {
            channel_events.push((changed.clone(), channel.clone()));
        }
        Some(Update {
            run,
            channel_events,
        })
    }
}

/// A value as a JSON payload member.
fn json<T: serde::Serialize + ?Sized>(value: &T) -> JsonValue {
    JsonValue::from_serialize(value).expect("serializable")
}
