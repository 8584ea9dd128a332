//! `load`: N agents, each a [`brainwire_tokio::Agent`] (one connection per agent token),
//! send M events in batches as the reference agent does — batches of up to 500, at most
//! a few in flight, a batch whose ack is held back past the ack deadline sent again with
//! its id, what was not acknowledged re-sent after a reconnect — and the figures come
//! from the frames on the wire: events per second, batch-ack latency, reconnects and
//! close codes.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use brainwire_sign::Secret;
use brainwire_tokio::{Agent, AgentOptions, FrameDirection, FrameTap, StatsSnapshot, Update};
use brainwire_v2::CommandResult;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::checks::{hello, task_event};

/// What to load the brain with.
#[derive(Clone)]
pub struct Plan {
    /// The brain's agent endpoint, `ws://` or `wss://`.
    pub url: String,
    /// One bearer token per agent (a brain keeps one connection per agent).
    pub tokens: Vec<String>,
    /// The project secret the agents sign with.
    pub secret: Secret,
    /// Events each agent sends.
    pub events_per_agent: usize,
    /// How long an agent waits for a batch's ack before sending it again.
    pub ack_deadline: Duration,
    /// When the run gives up on what is still unacknowledged.
    pub time_limit: Duration,
}

/// Batch-ack latency, from a batch's first send to its first ack.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latency {
    /// The median.
    pub p50: Duration,
    /// The 99th percentile.
    pub p99: Duration,
    /// The slowest.
    pub max: Duration,
}

impl Latency {
    /// Nearest-rank percentiles of `samples` (zero when there are none).
    pub fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        let rank = |p: f64| -> Duration {
            if samples.is_empty() {
                return Duration::ZERO;
            }
            // Nearest rank: the smallest sample with at least p of them at or below it.
            let at = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
            samples[at - 1]
        };
        Self {
            p50: rank(0.50),
            p99: rank(0.99),
            max: samples.last().copied().unwrap_or_default(),
        }
    }
}

/// What a load run measured.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// Agents run.
    pub agents: usize,
    /// Events the plan sends (agents × events per agent).
    pub planned_events: u64,
    /// Events the brain acknowledged.
    pub acked_events: u64,
    /// Events the brain said it newly stored.
    pub accepted_events: u64,
    /// Events left unacknowledged when the run ended.
    pub unacked_events: u64,
    /// Batches acknowledged.
    pub batches: usize,
    /// Batches sent more than once (held-back acks, reconnects).
    pub resent_batches: usize,
    /// From the first agent's start to the last first ack.
    pub elapsed: Duration,
    /// Batch-ack latency.
    pub latency: Latency,
    /// Connections beyond each agent's first.
    pub reconnects: u64,
    /// Close codes the agents' connections ended with, and how often.
    pub closes: BTreeMap<u16, u64>,
    /// Why agents stopped early, or anything else that went wrong.
    pub errors: Vec<String>,
}

impl LoadReport {
    /// Acknowledged events per second of [`LoadReport::elapsed`].
    pub fn events_per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.acked_events as f64 / seconds
        } else {
            0.0
        }
    }

    /// Whether every planned event was acknowledged and nothing went wrong.
    pub fn passed(&self) -> bool {
        self.acked_events >= self.planned_events
            && self.unacked_events == 0
            && self.errors.is_empty()
    }

    /// The JSON line of this report.
    pub fn to_json(&self) -> Value {
        let ms = |d: Duration| (d.as_secs_f64() * 1e4).round() / 10.0;
        json!({"load": {
            "agents": self.agents,
            "planned_events": self.planned_events,
            "acked_events": self.acked_events,
            "accepted_events": self.accepted_events,
            "unacked_events": self.unacked_events,
            "batches": self.batches,
            "resent_batches": self.resent_batches,
            "seconds": (self.elapsed.as_secs_f64() * 1e3).round() / 1e3,
            "events_per_second": (self.events_per_second() * 10.0).round() / 10.0,
            "ack_latency_ms": {
                "p50": ms(self.latency.p50),
                "p99": ms(self.latency.p99),
                "max": ms(self.latency.max),
            },
            "reconnects": self.reconnects,
            "closes": self.closes.iter().map(|(code, n)| (code.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "errors": self.errors,
            "result": if self.passed() { "pass" } else { "fail" },
        }})
    }

    /// The human table of this report.
    pub fn to_table(&self) -> String {
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
        let closes = self
            .closes
            .iter()
            .map(|(code, n)| format!("{code}×{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut rows = vec![
            ("agents", self.agents.to_string()),
            (
                "events acked",
                format!("{} of {}", self.acked_events, self.planned_events),
            ),
            ("events stored", self.accepted_events.to_string()),
            ("unacked", self.unacked_events.to_string()),
            (
                "batches",
                format!("{} ({} re-sent)", self.batches, self.resent_batches),
            ),
            ("seconds", format!("{:.2}", self.elapsed.as_secs_f64())),
            ("events/s", format!("{:.1}", self.events_per_second())),
            ("ack p50", ms(self.latency.p50)),
            ("ack p99", ms(self.latency.p99)),
            ("ack max", ms(self.latency.max)),
            ("reconnects", self.reconnects.to_string()),
            ("closes", closes),
        ];
        rows.extend(self.errors.iter().map(|e| ("error", e.clone())));
        rows.push(("result", if self.passed() { "pass" } else { "fail" }.into()));
        rows.iter()
            .map(|(name, value)| format!("{name:<14} {value}\n"))
            .collect()
    }
}

/// Runs `plan`; `progress` is told how many events each first ack covers.
pub async fn run(plan: &Plan, progress: impl Fn(u64) + Send + Sync + 'static) -> LoadReport {
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let progress: Arc<dyn Fn(u64) + Send + Sync> = Arc::new(progress);
    let start = Instant::now();
    let until = start + plan.time_limit;
    let runs = plan.tokens.iter().enumerate().map(|(index, token)| {
        let (acked, acked_seen) = watch::channel(0u64);
        let tap = tap(index, ledger.clone(), acked, progress.clone());
        tokio::spawn(drive(plan.clone(), token.clone(), tap, acked_seen, until))
    });
    let runs: Vec<_> = runs.collect();
    let mut report = LoadReport {
        agents: plan.tokens.len(),
        planned_events: (plan.tokens.len() * plan.events_per_agent) as u64,
        ..LoadReport::default()
    };
    for (index, run) in runs.into_iter().enumerate() {
        let outcome = match run.await {
            Ok(outcome) => outcome,
            Err(e) => {
                report.errors.push(format!("agent {index}: {e}"));
                continue;
            }
        };
        report.acked_events += outcome.acked_events;
        report.accepted_events += outcome.accepted_events;
        report.unacked_events += outcome.unacked_events;
        report.reconnects += outcome.stats.connections.saturating_sub(1);
        for (code, n) in outcome.stats.closes {
            *report.closes.entry(code).or_default() += n;
        }
        report
            .errors
            .extend(outcome.error.map(|e| format!("agent {index}: {e}")));
    }
    let ledger = std::mem::take(&mut *ledger.lock().unwrap_or_else(PoisonError::into_inner));
    report.batches = ledger.latencies.len();
    report.resent_batches = ledger.resent.len();
    report.elapsed = ledger.last_ack.map_or(Duration::ZERO, |at| at - start);
    report.latency = Latency::of(ledger.latencies);
    report
}

/// What every agent's frames showed, across agents.
#[derive(Default)]
struct Ledger {
    /// Batches sent and not acknowledged yet, by agent and batch id: first sent when,
    /// with how many events.
    in_flight: HashMap<(usize, String), (Instant, u64)>,
    /// Batch ids sent more than once.
    resent: HashSet<(usize, String)>,
    /// Latency of each acknowledged batch.
    latencies: Vec<Duration>,
    /// When the last first ack came.
    last_ack: Option<Instant>,
}

/// The members of a frame the ledger reads; the rest is skipped, not built.
#[derive(Deserialize)]
struct TapFrame {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    payload: TapPayload,
}

#[derive(Deserialize, Default)]
struct TapPayload {
    #[serde(default)]
    events: Vec<IgnoredAny>,
    #[serde(default)]
    acked_id: String,
}

/// A tap recording agent `index`'s `event_batch` frames and the acks naming them.
fn tap(
    index: usize,
    ledger: Arc<Mutex<Ledger>>,
    acked: watch::Sender<u64>,
    progress: Arc<dyn Fn(u64) + Send + Sync>,
) -> FrameTap {
    FrameTap::new(move |direction, wire| {
        let Ok(frame) = serde_json::from_slice::<TapFrame>(wire) else {
            return;
        };
        let now = Instant::now();
        let mut ledger = ledger.lock().unwrap_or_else(PoisonError::into_inner);
        match (direction, frame.kind.as_str()) {
            (FrameDirection::Sent, "event_batch") => {
                let ledger = &mut *ledger;
                match ledger.in_flight.entry((index, frame.id)) {
                    Entry::Occupied(batch) => {
                        ledger.resent.insert(batch.key().clone());
                    }
                    Entry::Vacant(batch) => {
                        batch.insert((now, frame.payload.events.len() as u64));
                    }
                }
            }
            (FrameDirection::Received, "event_batch_ack") => {
                // Only the first ack of a batch counts; a re-sent batch's second ack
                // finds nothing in flight.
                if let Some((sent, events)) =
                    ledger.in_flight.remove(&(index, frame.payload.acked_id))
                {
                    ledger.latencies.push(now - sent);
                    ledger.last_ack = Some(now);
                    drop(ledger);
                    acked.send_modify(|n| *n += events);
                    progress(events);
                }
            }
            _ => {}
        }
    })
}

/// What one agent achieved.
struct AgentOutcome {
    acked_events: u64,
    accepted_events: u64,
    unacked_events: u64,
    stats: StatsSnapshot,
    error: Option<String>,
}

/// How long an agent whose events are all acknowledged has to close.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Runs one agent: queues its events, answers any command, and shuts down once its
/// tap saw every event acknowledged, or at `until`.
async fn drive(
    plan: Plan,
    token: String,
    tap: FrameTap,
    mut acked: watch::Receiver<u64>,
    until: Instant,
) -> AgentOutcome {
    let mut options = AgentOptions::new(&plan.url, token, plan.secret.clone(), hello());
    options.config.ack_deadline = plan.ack_deadline;
    options.frame_tap = Some(tap);
    let mut agent = Agent::spawn(options);
    let sender = agent.event_sender();
    let events = plan.events_per_agent;
    let feed = async move {
        for i in 0..events {
            let task = format!("load-{}-{i}", uuid::Uuid::new_v4().simple());
            if sender.send_event(task_event(task)).await.is_err() {
                break;
            }
        }
    };
    tokio::pin!(feed);
    let (mut fed, mut error) = (false, None);
    let mut grace = CLOSE_GRACE;
    while !(fed && *acked.borrow() >= events as u64) {
        tokio::select! {
            () = &mut feed, if !fed => fed = true,
            Ok(()) = acked.changed() => {}
            update = agent.next_update() => match update {
                // A brain may command a connected agent; answered so it is not left waiting.
                Some(Update::Command(command)) => {
                    let _ = command.complete(CommandResult::success(None)).await;
                }
                Some(Update::Refused { reason, .. }) => {
                    error.get_or_insert(format!("an event was refused: {reason}"));
                }
                Some(Update::Unsent { reason, .. }) => {
                    error.get_or_insert(format!("a batch could not be sent: {reason}"));
                }
                Some(_) => {}
                None => break,
            },
            () = tokio::time::sleep_until(until) => {
                error.get_or_insert_with(|| "the time limit passed".to_owned());
                grace = Duration::ZERO;
                break;
            }
        }
    }
    let stats = agent.stats();
    match agent.shutdown(grace).await {
        Ok(report) => AgentOutcome {
            acked_events: report.acked_events,
            accepted_events: report.accepted_events,
            unacked_events: report.unacked_events as u64,
            stats: report.stats,
            error,
        },
        Err(e) => AgentOutcome {
            acked_events: *acked.borrow(),
            accepted_events: 0,
            unacked_events: (events as u64).saturating_sub(*acked.borrow()),
            stats,
            error: Some(error.unwrap_or_else(|| format!("the agent stopped: {e}"))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let latency = Latency::of((1..=100).rev().map(ms).collect());
        assert_eq!(latency.p50, ms(50));
        assert_eq!(latency.p99, ms(99));
        assert_eq!(latency.max, ms(100));
        let one = Latency::of(vec![ms(7)]);
        assert_eq!((one.p50, one.p99, one.max), (ms(7), ms(7), ms(7)));
        assert_eq!(Latency::of(Vec::new()), Latency::default());
    }

    #[test]
    fn a_report_passes_only_when_every_planned_event_is_acknowledged() {
        let mut report = LoadReport {
            planned_events: 10,
            acked_events: 10,
            elapsed: Duration::from_secs(2),
            ..LoadReport::default()
        };
        assert!(report.passed());
        assert_eq!(report.events_per_second(), 5.0);
        assert_eq!(report.to_json()["load"]["result"], "pass");
        report.acked_events = 9;
        report.unacked_events = 1;
        assert!(!report.passed());
        assert_eq!(report.to_json()["load"]["result"], "fail");
        report.acked_events = 10;
        report.unacked_events = 0;
        report.errors.push("agent 0: the time limit passed".into());
        assert!(!report.passed());
        assert!(report.to_table().contains("agent 0: the time limit passed"));
    }
}
