//! Decode and encode of legacy v1 frames beside the parse floor (`serde_json` into
//! `IgnoredAny` over the same bytes).
//!
//! ```text
//! cargo bench -p brainwire-v1 --bench decode
//! ```

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use brainwire_v1::{decode_agent, encode_agent};
use criterion::{criterion_group, criterion_main, Criterion};

use brainwire_test_support::family_decode as family;

/// One task event as a v1 agent sends it; every fifth one failed, with a traceback.
fn task_event(i: usize) -> String {
    let error = if i % 5 == 4 {
        r#"{"exc_type":"ValueError","exc_msg":"card declined","traceback_redacted":"Traceback (most recent call last):\n  File \"/srv/app/tasks.py\", line 214, in charge\nValueError: card declined"}"#
    } else {
        "null"
    };
    format!(
        r#"{{"event_type":"{}","task_id":"6f1c2a4e-{i:04x}-4b7a-9c1d-000000000000","engine":"celery","ts":"2026-02-06T01:30:{:02}.000Z","name":"app.tasks.billing.charge","args_redacted":[{i},"***"],"kwargs_redacted":{{"amount":1999,"currency":"EUR"}},"queue":"billing","routing_key":"billing.charge","error":{error}}}"#,
        if error == "null" {
            "task_succeeded"
        } else {
            "task_failed"
        },
        i % 60
    )
}

fn benches(c: &mut Criterion) {
    let batch = |n: usize| {
        let events: Vec<String> = (0..n).map(task_event).collect();
        format!(
            r#"{{"type":"event_batch","seq":7,"events":[{}]}}"#,
            events.join(",")
        )
    };
    let cases = [
        (
            "heartbeat",
            r#"{"type":"heartbeat","ts":"2026-02-06T01:30:00.000Z"}"#.to_owned(),
        ),
        ("event_batch_100", batch(100)),
    ];
    let mut group = c.benchmark_group("v1");
    for (name, wire) in &cases {
        family::decode_encode_floor(
            &mut group,
            name,
            wire.as_bytes(),
            |wire| decode_agent(wire).expect("valid"),
            encode_agent,
        );
    }
    group.finish();
}

criterion_group!(decode, benches);
criterion_main!(decode);
