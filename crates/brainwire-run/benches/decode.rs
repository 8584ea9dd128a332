//! Decode and encode of run stream messages beside the parse floor (`serde_json` into
//! `IgnoredAny` over the same bytes).
//!
//! ```text
//! cargo bench -p brainwire-run --bench decode
//! ```

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use brainwire_run::{decode, encode};
use criterion::{criterion_group, criterion_main, Criterion};

use brainwire_test_support::family_decode as family;

fn benches(c: &mut Criterion) {
    let cases = [
        (
            "run_update",
            r#"{"type":"run_update","data":{"id":"task-123","status":"in_progress","progress":5,"task_id":"task-123","agent":"dev","started_at":"2026-02-06T01:30:00.000Z","completed_at":null,"error":null},"timestamp":"2026-02-06T01:30:15.000Z"}"#,
        ),
        (
            "run_failed",
            r#"{"type":"run_failed","data":{"id":"task-123","status":"failed","progress":7,"task_id":"task-123","agent":"dev","started_at":"2026-02-06T01:30:00.000Z","completed_at":null,"error":"Build failed: TypeScript compilation error"},"timestamp":"2026-02-06T01:35:00.000Z"}"#,
        ),
    ];
    let mut group = c.benchmark_group("run");
    for (name, wire) in cases {
        family::decode_encode_floor(
            &mut group,
            name,
            wire.as_bytes(),
            |wire| decode(wire).expect("valid"),
            encode,
        );
    }
    group.finish();
}

criterion_group!(decode_benches, benches);
criterion_main!(decode_benches);
