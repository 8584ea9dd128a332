//! Decode and encode of the auth message set beside the parse floor (`serde_json` into
//! `IgnoredAny` over the same bytes).
//!
//! ```text
//! cargo bench -p brainwire-auth --bench decode
//! ```

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use brainwire_auth::{decode, encode};
use criterion::{criterion_group, criterion_main, Criterion};

use brainwire_test_support::family_decode as family;

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
