//! The client side of the run stream: the latest state of every task.

use std::collections::HashMap;

use crate::{Body, RunData, RunMessage};

/// What [`TaskBoard::apply`] did with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Applied {
    /// The task's state was replaced.
    Updated,
    /// Not a `run_*` message, or one without `data.id`.
    NotARun,
    /// A `run_update` for a task already completed or failed: kept out, as a late
    /// message must not revive a finished task.
    LateUpdate,
    /// A new task past the board's limit.
    Full,
}

/// The latest state per task id, folded from the stream (what document 003's React hook
/// does), except that a late `run_update` never overwrites a finished task.
///
/// ```
/// use brainwire_core::Timestamp;
/// use brainwire_run::{Applied, Body, RunData, RunMessage, RunStatus, TaskBoard};
///
/// let now = Timestamp::now_utc();
/// let mut board = TaskBoard::new(1000);
/// board.apply(&RunMessage::new(Body::RunComplete(RunData::new("t", RunStatus::Completed)), now));
/// let late = RunMessage::new(Body::RunUpdate(RunData::new("t", RunStatus::InProgress)), now);
/// assert_eq!(board.apply(&late), Applied::LateUpdate);
/// assert_eq!(board.get("t").unwrap().status, Some(RunStatus::Completed));
/// ```
#[derive(Debug, Clone)]
pub struct TaskBoard {
    tasks: HashMap<String, RunData>,
    max_tasks: usize,
}

impl TaskBoard {
    /// A board holding at most `max_tasks` tasks.
    pub fn new(max_tasks: usize) -> Self {
        Self {
            tasks: HashMap::new(),
            max_tasks,
        }
    }

    /// Folds one message in.
    pub fn apply(&mut self, message: &RunMessage) -> Applied {
        let Some(data) = message.body.run_data() else {
            return Applied::NotARun;
        };
        let Some(id) = &data.id else {
            return Applied::NotARun;
        };
        match self.tasks.get_mut(id) {
            Some(current) => {
                let finished = current.status.as_ref().is_some_and(|s| s.is_terminal());
                if finished && matches!(message.body, Body::RunUpdate(_)) {
                    return Applied::LateUpdate;
                }
                *current = data.clone();
            }
            None => {
                if self.tasks.len() >= self.max_tasks {
                    return Applied::Full;
                }
                self.tasks.insert(id.clone(), data.clone());
            }
        }
        Applied::Updated
    }

    /// A task's latest state.
    pub fn get(&self, id: &str) -> Option<&RunData> {
        self.tasks.get(id)
    }

    /// Every task, in no particular order.
    pub fn tasks(&self) -> impl Iterator<Item = (&str, &RunData)> {
        self.tasks.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// How many tasks the board holds.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}
