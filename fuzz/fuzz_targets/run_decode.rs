//! Run stream decode never panics; what decodes re-encodes to the same message; the task
//! board never lets a run_update overwrite a finished task and never exceeds its limit.
#![no_main]

use brainwire_run::{decode, encode, Applied, Body, TaskBoard};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut board = TaskBoard::new(16);
    for chunk in data.split(|b| *b == b'\n') {
        let Ok(message) = decode(chunk) else { continue };
        assert_eq!(
            decode(&encode(&message)).expect("encoded messages decode"),
            message
        );
        let before = message
            .body
            .run_data()
            .and_then(|d| d.id.as_ref())
            .and_then(|id| board.get(id))
            .cloned();
        let applied = board.apply(&message);
        if let (Some(before), Body::RunUpdate(_)) = (&before, &message.body) {
            if before.status.as_ref().is_some_and(|s| s.is_terminal()) {
                assert_eq!(applied, Applied::LateUpdate);
            }
        }
        assert!(board.len() <= 16);
    }
});
