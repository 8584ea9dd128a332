//! Decode and encode of channel messages beside the parse floor (`serde_json` into
//! `IgnoredAny` over the same bytes).
//!
//! ```text
//! cargo bench -p brainwire-channel --bench decode
//! ```

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use brainwire_channel::{decode_client, decode_server, encode_client, encode_server};
use brainwire_core::Limits;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn benches(c: &mut Criterion) {
    let limits = Limits::default();
    let mut group = c.benchmark_group("channel");
    let subscribe = br#"{"type":"subscribe","channelId":"agent:my-coder-agent"}"#.as_slice();
    let event = br#"{"type":"agent.completed","payload":{"agentId":"a-7","agentName":"my-coder-agent","taskId":"t-42","result":{"files":3,"ok":true},"duration":1532.5,"timestamp":"2026-02-06T01:30:00Z"}}"#.as_slice();
    for (name, wire) in [("subscribe", subscribe), ("agent.completed", event)] {
        group.throughput(Throughput::Bytes(wire.len() as u64));
        group.bench_function(BenchmarkId::new("floor_parse", name), |b| {
            b.iter(|| serde_json::from_slice::<serde::de::IgnoredAny>(wire).expect("valid"))
        });
    }
    let client = decode_client(subscribe, &limits).expect("valid");
    group.bench_function(BenchmarkId::new("decode", "subscribe"), |b| {
        b.iter(|| decode_client(subscribe, &limits).expect("valid"))
    });
    group.bench_function(BenchmarkId::new("encode", "subscribe"), |b| {
        b.iter(|| encode_client(&client))
    });
    let server = decode_server(event, &limits).expect("valid");
    group.bench_function(BenchmarkId::new("decode", "agent.completed"), |b| {
        b.iter(|| decode_server(event, &limits).expect("valid"))
    });
    group.bench_function(BenchmarkId::new("encode", "agent.completed"), |b| {
        b.iter(|| encode_server(&server))
    });
    group.finish();
}

criterion_group!(decode_benches, benches);
criterion_main!(decode_benches);
