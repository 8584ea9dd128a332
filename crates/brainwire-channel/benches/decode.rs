//! Decode and encode of channel messages beside the parse floor (`serde_json` into
//! `IgnoredAny` over the same bytes).
//!
//! ```text
//! cargo bench -p brainwire-channel --bench decode
//! ```

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use brainwire_channel::{decode_client_with, decode_server_with, encode_client, encode_server};
use brainwire_core::Limits;
use criterion::{criterion_group, criterion_main, Criterion};

use brainwire_test_support::family_decode as family;

fn benches(c: &mut Criterion) {
    let limits = Limits::default();
    let mut group = c.benchmark_group("channel");
    family::decode_encode_floor(
        &mut group,
        "subscribe",
        br#"{"type":"subscribe","channelId":"agent:my-coder-agent"}"#,
        |wire| decode_client_with(wire, &limits).expect("valid"),
        encode_client,
    );
    family::decode_encode_floor(
        &mut group,
        "agent.completed",
        br#"{"type":"agent.completed","payload":{"agentId":"a-7","agentName":"my-coder-agent","taskId":"t-42","result":{"files":3,"ok":true},"duration":1532.5,"timestamp":"2026-02-06T01:30:00Z"}}"#,
        |wire| decode_server_with(wire, &limits).expect("valid"),
        encode_server,
    );
    group.finish();
}

criterion_group!(decode_benches, benches);
criterion_main!(decode_benches);
