//! The agent connections live on this node: one per agent, the one accepted last.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use tokio::sync::mpsc;

use super::Control;

/// Requests a connection takes from its node before it stops reading them.
const CONTROL_QUEUE: usize = 64;

/// Each agent's live connection on this node.
#[derive(Debug, Default)]
pub(crate) struct LiveAgents {
    agents: Mutex<HashMap<String, Live>>,
    /// Numbers the connections.
    next_id: AtomicU64,
}

/// What the registry keeps of a live connection.
#[derive(Debug)]
struct Live {
    id: u64,
    accepted_at: Instant,
    control: mpsc::Sender<Control>,
}

/// A connection's place in the registry: its number (to unregister it) and what the
/// node asks of it.
#[derive(Debug)]
pub(crate) struct Registration {
    pub(crate) id: u64,
    pub(crate) control: mpsc::Receiver<Control>,
}

impl LiveAgents {
    /// Records the connection of `agent_id` accepted at `accepted_at` as its live one,
    /// and tells the one it replaces. `None` when a connection of the agent accepted
    /// later holds the place: its handler saw `hello` first, and this one is stale.
    pub(crate) fn register(&self, agent_id: &str, accepted_at: Instant) -> Option<Registration> {
        let mut agents = self.agents.lock().expect("not poisoned");
        if agents
            .get(agent_id)
            .is_some_and(|live| live.accepted_at > accepted_at)
        {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (control, controlled) = mpsc::channel(CONTROL_QUEUE);
        let live = Live {
            id,
            accepted_at,
            control,
        };
        if let Some(older) = agents.insert(agent_id.to_owned(), live) {
            let _ = older.control.try_send(Control::Replaced);
        }
        Some(Registration {
            id,
            control: controlled,
        })
    }

    /// Forgets connection `id` of `agent_id`; `false` when a newer one holds the place.
    pub(crate) fn unregister(&self, agent_id: &str, id: u64) -> bool {
        let mut agents = self.agents.lock().expect("not poisoned");
        let owner = agents.get(agent_id).is_some_and(|live| live.id == id);
        if owner {
            agents.remove(agent_id);
        }
        owner
    }

    /// Asks `agent_id`'s live connection, if any, for `control`.
    pub(crate) fn tell(&self, agent_id: &str, control: Control) {
        if let Some(live) = self.agents.lock().expect("not poisoned").get(agent_id) {
            let _ = live.control.try_send(control);
        }
    }

    /// The agents with a live connection.
    pub(crate) fn agent_ids(&self) -> Vec<String> {
        let agents = self.agents.lock().expect("not poisoned");
        agents.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_newer_connection_replaces_the_older_and_holds_the_place() {
        let live = LiveAgents::default();
        let first = Instant::now();
        let mut older = live.register("agent", first).expect("registered");
        let newer = live
            .register("agent", first + Duration::from_millis(5))
            .expect("registered");
        assert!(matches!(older.control.try_recv(), Ok(Control::Replaced)));
        // The older one's end leaves the newer one live.
        assert!(!live.unregister("agent", older.id));
        assert_eq!(live.agent_ids(), ["agent"]);
        assert!(live.unregister("agent", newer.id));
        assert!(live.agent_ids().is_empty());
    }

    #[test]
    fn a_connection_whose_handler_sees_hello_late_does_not_replace_a_newer_one() {
        let live = LiveAgents::default();
        let first = Instant::now();
        let mut newer = live
            .register("agent", first + Duration::from_millis(5))
            .expect("registered");
        assert!(live.register("agent", first).is_none());
        assert!(newer.control.try_recv().is_err(), "the newer one stays");
        live.tell("agent", Control::Revoke);
        assert!(matches!(newer.control.try_recv(), Ok(Control::Revoke)));
    }
}
