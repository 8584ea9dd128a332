//! Which batches each agent had stored, so that a batch re-sent after a reconnect is
//! acknowledged again but stored once; bounded per agent.

use std::collections::{HashMap, HashSet, VecDeque};

/// Batch ids remembered per agent. An agent re-sends only batches that were in flight
/// when its connection dropped (at most its in-flight window), so the latest few
/// thousand ids are plenty.
pub(crate) const MAX_BATCHES_PER_AGENT: usize = 4096;

/// The batch ids each agent had stored, the oldest forgotten first.
#[derive(Debug, Default)]
pub(crate) struct BatchLog {
    agents: HashMap<String, Remembered>,
}

#[derive(Debug, Default)]
struct Remembered {
    order: VecDeque<String>,
    ids: HashSet<String>,
}

impl BatchLog {
    /// Records `batch_id` of `agent_id`; `false` if it was stored already.
    pub(crate) fn insert(&mut self, agent_id: &str, batch_id: &str) -> bool {
        let remembered = self.agents.entry(agent_id.to_owned()).or_default();
        if remembered.ids.contains(batch_id) {
            return false;
        }
        if remembered.order.len() >= MAX_BATCHES_PER_AGENT {
            if let Some(oldest) = remembered.order.pop_front() {
                remembered.ids.remove(&oldest);
            }
        }
        remembered.order.push_back(batch_id.to_owned());
        remembered.ids.insert(batch_id.to_owned());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_per_agent_and_bounded() {
        let mut log = BatchLog::default();
        assert!(log.insert("a", "b-1"));
        assert!(!log.insert("a", "b-1"), "a re-sent batch is a duplicate");
        assert!(
            log.insert("other", "b-1"),
            "another agent's batch of the same id is new"
        );
        for i in 0..MAX_BATCHES_PER_AGENT {
            log.insert("a", &format!("x-{i}"));
        }
        let remembered = &log.agents["a"];
        assert_eq!(remembered.order.len(), MAX_BATCHES_PER_AGENT);
        assert_eq!(remembered.ids.len(), MAX_BATCHES_PER_AGENT);
        assert!(log.insert("a", "b-1"), "the oldest id was forgotten");
    }
}
