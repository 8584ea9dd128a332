//! Decode and encode of run stream messages beside the parse floor (`serde_json` into
//! `IgnoredAny` over the same bytes).
//!
//! ```text
//! cargo bench -p brainwire-run --bench decode
//! ```

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use brainwire_run::{decode, encode};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

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
        let wire = wire.as_bytes();
        group.throughput(Throughput::Bytes(wire.len() as u64));
        let message = decode(wire).expect("valid");
        group.bench_function(BenchmarkId::new("decode", name), |b| {
            b.iter(|| decode(wire).expect("valid"))
        });
        group.bench_function(BenchmarkId::new("encode", name), |b| {
            b.iter(|| encode(&message))
        });
        group.bench_function(BenchmarkId::new("floor_parse", name), |b| {
            b.iter(|| serde_json::from_slice::<serde::de::IgnoredAny>(wire).expect("valid"))
        });
    }
    group.finish();
}

criterion_group!(decode_benches, benches);
criterion_main!(decode_benches);
