//! Publishing one event to 1, 100 and 10,000 subscribers, with a small and a 64 KiB event:
//! the event is serialized once, so the per-recipient cost must not grow with its size.
//!
//! ```text
//! cargo bench -p brainwire-channel --bench fanout
//! ```

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use brainwire_channel::{ChannelHub, ChannelId, Event, TaskUpdated};
use brainwire_core::JsonValue;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn hub(subscribers: u32, channel: &str) -> ChannelHub<u32> {
    let mut hub = ChannelHub::new(|_: &str, _: &ChannelId| true, 4).max_connections(100_000);
    let ask = format!(r#"{{"type":"subscribe","channelId":"{channel}"}}"#);
    for connection in 0..subscribers {
        hub.join(connection, "user").expect("room");
        hub.handle_message(&connection, ask.as_bytes());
    }
    hub
}

fn event(changes_bytes: usize) -> Event {
    let changes =
        JsonValue::from_serialize(&serde_json::json!({ "description": "x".repeat(changes_bytes) }))
            .expect("json");
    Event::TaskUpdated(TaskUpdated {
        task_id: "task-1".into(),
        changes,
        timestamp: 1_738_805_400_000_u64.into(),
    })
}

fn fanout(c: &mut Criterion) {
    let channel: ChannelId = "project:p1".parse().expect("valid");
    let mut group = c.benchmark_group("publish");
    for subscribers in [1u32, 100, 10_000] {
        let mut hub = hub(subscribers, "project:p1");
        for (name, size) in [("small", 64), ("64KiB", 64 * 1024)] {
            let event = event(size);
            group.throughput(Throughput::Elements(u64::from(subscribers)));
            group.bench_with_input(BenchmarkId::new(name, subscribers), &event, |b, event| {
                b.iter(|| {
                    let fanout = hub.publish(event, &channel);
                    // What a server does per recipient: take a handle on the shared bytes.
                    let handles: Vec<bytes::Bytes> = fanout
                        .recipients
                        .iter()
                        .map(|_| fanout.bytes.clone())
                        .collect();
                    handles.len()
                });
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = fanout
}
criterion_main!(benches);
