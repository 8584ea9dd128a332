//! Decode and encode of the auth message set beside the parse floor (`serde_json` into
//! `IgnoredAny` over the same bytes).
//!
//! ```text
//! cargo bench -p brainwire-auth --bench decode
//! ```

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use brainwire_auth::{decode, encode};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn benches(c: &mut Criterion) {
    let cases = [
        (
            "auth.request",
            r#"{"type":"auth.request","token":"oak_live_6f1c2a4e0b7a4c1d9e2f30a4b5c6d7e8","protocolVersion":1,"capabilities":{"webhooks":true,"streaming":false}}"#,
        ),
        (
            "heartbeat",
            r#"{"type":"heartbeat","timestamp":1738805400000}"#,
        ),
        ("ack", r#"{"type":"ack","messageId":"msg-000123"}"#),
    ];
    let mut group = c.benchmark_group("auth");
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
