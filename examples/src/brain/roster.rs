//! The agents the brain has seen, for the status document: which protocol each speaks,
//! whether it is connected, and (v1 agents) the schedules it reported.

use std::collections::{BTreeMap, HashMap};

use brainwire_v1::{Schedule, ScheduleSnapshot, ScheduleUpdate};
use serde_json::{json, Value};

/// Most schedulers kept per agent (as many as a v1 `hello` may name).
const MAX_SCHEDULERS: usize = brainwire_v1::MAX_ADAPTERS;
/// Most schedules kept per scheduler (as many as one snapshot may carry); additions past
/// it are dropped and counted.
const MAX_SCHEDULES: usize = brainwire_v1::MAX_SCHEDULES;

/// One agent as the status document shows it.
#[derive(Debug, Default)]
struct Seen {
    protocol: &'static str,
    name: String,
    connected: bool,
    /// Schedules by scheduler, then by id.
    schedules: BTreeMap<String, BTreeMap<String, Schedule>>,
    /// Schedules not kept because a cap was reached.
    schedules_dropped: u64,
}

/// Every agent seen, by id. Only configured agents connect, so this is bounded by the
/// brain's accounts.
#[derive(Debug, Default)]
pub(crate) struct Roster {
    agents: HashMap<String, Seen>,
}

impl Roster {
    /// `agent_id` connected, speaking `protocol`, named `name`.
    pub(crate) fn connected(&mut self, agent_id: &str, protocol: &'static str, name: &str) {
        let seen = self.agents.entry(agent_id.to_owned()).or_default();
        seen.protocol = protocol;
        seen.name = name.to_owned();
        seen.connected = true;
    }

    /// `agent_id`'s connection ended (its schedules are kept).
    pub(crate) fn disconnected(&mut self, agent_id: &str) {
        if let Some(seen) = self.agents.get_mut(agent_id) {
            seen.connected = false;
        }
    }

    /// `snapshot` replaces what `agent_id` reported for its scheduler.
    pub(crate) fn snapshot(&mut self, agent_id: &str, snapshot: ScheduleSnapshot) {
        let Some(seen) = self.agents.get_mut(agent_id) else {
            return;
        };
        let Some(kept) = scheduler(seen, &snapshot.scheduler) else {
            return;
        };
        kept.clear();
        for schedule in snapshot.schedules {
            kept.insert(schedule.id.clone(), schedule);
        }
    }

    /// Applies `update` to what `agent_id` reported for its scheduler.
    pub(crate) fn update(&mut self, agent_id: &str, update: ScheduleUpdate) {
        let Some(seen) = self.agents.get_mut(agent_id) else {
            return;
        };
        let Some(kept) = scheduler(seen, &update.scheduler) else {
            return;
        };
        for id in update.removed.unwrap_or_default() {
            kept.remove(&id);
        }
        let changed = [update.added, update.modified];
        let mut dropped = 0;
        for schedule in changed.into_iter().flatten().flatten() {
            if kept.len() < MAX_SCHEDULES || kept.contains_key(&schedule.id) {
                kept.insert(schedule.id.clone(), schedule);
            } else {
                dropped += 1;
            }
        }
        seen.schedules_dropped += dropped;
    }

    /// The roster as the status document's `agents` member, by agent id.
    pub(crate) fn to_json(&self) -> Value {
        let agents: serde_json::Map<String, Value> = self
            .agents
            .iter()
            .map(|(id, seen)| {
                let schedules: BTreeMap<&String, Vec<&Schedule>> = seen
                    .schedules
                    .iter()
                    .map(|(scheduler, kept)| (scheduler, kept.values().collect()))
                    .collect();
                let view = json!({
                    "protocol": seen.protocol,
                    "name": seen.name,
                    "connected": seen.connected,
                    "schedules": schedules,
                    "schedules_dropped": seen.schedules_dropped,
                });
                (id.clone(), view)
            })
            .collect();
        Value::Object(agents)
    }
}

/// The schedules kept for `name`, made if the agent has fewer than [`MAX_SCHEDULERS`].
fn scheduler<'a>(seen: &'a mut Seen, name: &str) -> Option<&'a mut BTreeMap<String, Schedule>> {
    if !seen.schedules.contains_key(name) && seen.schedules.len() >= MAX_SCHEDULERS {
        seen.schedules_dropped += 1;
        return None;
    }
    Some(seen.schedules.entry(name.to_owned()).or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(id: &str, every: u64) -> Schedule {
        Schedule::new(id).with("every", every.into())
    }

    #[test]
    fn snapshots_replace_and_updates_change_one_schedulers_schedules() {
        let mut roster = Roster::default();
        roster.connected("a-1", "v1", "web-1");
        let snapshot = ScheduleSnapshot::new("beat", vec![schedule("s1", 60), schedule("s2", 5)]);
        roster.snapshot("a-1", snapshot);
        let mut update = ScheduleUpdate::new("beat");
        update.removed = Some(vec!["s1".into()]);
        update.modified = Some(vec![schedule("s2", 10)]);
        update.added = Some(vec![schedule("s3", 1)]);
        roster.update("a-1", update);
        roster.disconnected("a-1");
        let view = roster.to_json();
        let agent = &view["a-1"];
        assert_eq!(agent["protocol"], "v1");
        assert_eq!(agent["connected"], false);
        let kept: Vec<(&str, u64)> = agent["schedules"]["beat"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["id"].as_str().unwrap(), s["every"].as_u64().unwrap()))
            .collect();
        assert_eq!(kept, [("s2", 10), ("s3", 1)]);
        // A snapshot replaces everything the scheduler had.
        roster.snapshot(
            "a-1",
            ScheduleSnapshot::new("beat", vec![schedule("s9", 2)]),
        );
        assert_eq!(roster.to_json()["a-1"]["schedules"]["beat"][0]["id"], "s9");
    }

    #[test]
    fn schedulers_per_agent_are_capped() {
        let mut roster = Roster::default();
        roster.connected("a-1", "v1", "web-1");
        for i in 0..=MAX_SCHEDULERS {
            roster.snapshot("a-1", ScheduleSnapshot::new(format!("s{i}"), vec![]));
        }
        let view = roster.to_json();
        assert_eq!(
            view["a-1"]["schedules"].as_object().unwrap().len(),
            MAX_SCHEDULERS
        );
        assert_eq!(view["a-1"]["schedules_dropped"], 1);
    }
}
