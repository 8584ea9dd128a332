//! The decode bench every family shares, run from each crate's
//! `benches/decode.rs`: decode, encode and the parse floor (`serde_json` into
//! `IgnoredAny`) of the same message.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Throughput};

/// Benches `decode` and `encode` of the message `wire` beside the parse floor.
pub fn decode_encode_floor<M>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    wire: &[u8],
    decode: impl Fn(&[u8]) -> M,
    encode: impl Fn(&M) -> bytes::Bytes,
) {
    group.throughput(Throughput::Bytes(wire.len() as u64));
    let message = decode(wire);
    group.bench_function(BenchmarkId::new("decode", name), |b| {
        b.iter(|| decode(wire))
    });
    group.bench_function(BenchmarkId::new("encode", name), |b| {
        b.iter(|| encode(&message))
    });
    group.bench_function(BenchmarkId::new("floor_parse", name), |b| {
        b.iter(|| serde_json::from_slice::<serde::de::IgnoredAny>(wire).expect("valid"))
    });
}
