//! The run `TaskBoard` fold against a model: each task holds its last accepted state; a
//! `run_update` never revives a finished task; `connected` and id-less messages change
//! nothing; the board never holds more tasks than its limit.
#![no_main]

use std::collections::HashMap;

use brainwire_core::Timestamp;
use brainwire_run::{Applied, Body, RunData, RunMessage, RunStatus, TaskBoard};
use libfuzzer_sys::fuzz_target;

const MAX_TASKS: usize = 6;
const STATUSES: [&str; 5] = ["queued", "in_progress", "completed", "failed", "paused"];

fuzz_target!(|data: &[u8]| {
    let now = Timestamp::from_unix_micros(1_800_000_000_000_000).unwrap();
    let mut board = TaskBoard::new(MAX_TASKS);
    let mut model: HashMap<String, RunData> = HashMap::new();
    for pair in data.chunks(2) {
        let [op, which] = *pair else { return };
        let mut run = match which % 9 {
            8 => RunData::default(),
            id => RunData::new(
                format!("t{id}"),
                RunStatus::from(STATUSES[usize::from(op % 5)]),
            ),
        };
        if op & 0x80 != 0 {
            run.status = None;
        }
        let body = match (op >> 3) % 5 {
            0 => Body::RunUpdate(run.clone()),
            1 => Body::RunComplete(run.clone()),
            2 => Body::RunFailed(run.clone()),
            3 => Body::for_status(run.clone()),
            _ => Body::Connected(RunData::system_message("hi")),
        };
        let is_update = matches!(body, Body::RunUpdate(_));
        let is_run = !matches!(body, Body::Connected(_));
        let applied = board.apply(&RunMessage::new(body, now));
        let expected = match (&run.id, is_run) {
            (Some(id), true) => match model.get(id) {
                Some(current)
                    if is_update && current.status.as_ref().is_some_and(|s| s.is_terminal()) =>
                {
                    Applied::LateUpdate
                }
                None if model.len() >= MAX_TASKS => Applied::Full,
                _ => {
                    model.insert(id.clone(), run.clone());
                    Applied::Updated
                }
            },
            _ => Applied::NotARun,
        };
        assert_eq!(applied, expected);
        assert!(board.len() <= MAX_TASKS);
        assert_eq!(board.len(), model.len());
        for (id, state) in &model {
            assert_eq!(board.get(id), Some(state));
        }
    }
});
