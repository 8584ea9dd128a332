//! The frames the benchmarks measure, shared by the criterion benches, the allocation
//! count and the reference's timing script (through the `bench_frames` binary).

use brainwire_core::{JsonObject, Timestamp};
use brainwire_sign::{FrameSigner, Secret, SessionBinding, Stamp};
use brainwire_v2::{sign_stamped, EventBatch, Heartbeat, Payload};

/// The workloads: a heartbeat and event batches of 1, 50 and 500 task events.
pub const WORKLOADS: [(&str, usize); 4] = [
    ("heartbeat", 0),
    ("event_batch_1", 1),
    ("event_batch_50", 50),
    ("event_batch_500", 500),
];

/// A realistic task event: uuids, a dotted name, redacted args and kwargs, queue and
/// routing key, a few floats; every seventh one carries a ~1 KiB traceback.
pub fn task_event(i: usize) -> JsonObject {
    let traceback = if i % 7 == 3 {
        let frame = "  File \"/srv/app/tasks/billing.py\", line 214, in charge_customer\n    result = gateway.charge(amount=amount, currency=currency)\n";
        serde_json::Value::String(format!(
            "Traceback (most recent call last):\n{}ValueError: card declined",
            frame.repeat(8)
        ))
    } else {
        serde_json::Value::Null
    };
    let event = serde_json::json!({
        "event_type": if traceback.is_null() { "task_succeeded" } else { "task_failed" },
        "task_id": format!("6f1c2a4e-{:04x}-4b7a-9c1d-{:012x}", i % 65536, i * 7919),
        "engine": "celery",
        "name": "app.tasks.billing.charge_customer",
        "ts": 1_746_428_308.999_624_3 + i as f64 * 0.013,
        "runtime": 0.25 + (i % 13) as f64 / 1000.0,
        "args_redacted": [i, "***", {"currency": "EUR"}],
        "kwargs_redacted": {"customer_id": "***", "amount": 1999, "retry": i.is_multiple_of(3)},
        "queue": "billing",
        "routing_key": "billing.charge",
        "worker": "celery@worker-3",
        "error": traceback,
    });
    JsonObject::from_serialize(&event).expect("an object")
}

/// The payload of workload `events` (0 for the heartbeat).
pub fn payload(events: usize) -> Payload {
    if events == 0 {
        let mut heartbeat = Heartbeat::default();
        heartbeat.buffer_size = 12;
        heartbeat
            .adapter_health
            .insert("celery".into(), "ok".into());
        Payload::Heartbeat(heartbeat)
    } else {
        Payload::EventBatch(EventBatch::new((0..events).map(task_event).collect()))
    }
}

/// The session every workload is signed for.
pub fn session() -> (Secret, SessionBinding) {
    (
        Secret::new(b"benchmark-secret-0123456789abcdef".to_vec()).expect("32 bytes"),
        SessionBinding::new(
            "0b6f4c1e-5d0a-4c47-9a55-1f2c3d4e5f60",
            "7d1e2f30-4a5b-4c6d-8e9f-a0b1c2d3e4f5",
            "c0ffee00-1234-4abc-9def-001122334455",
        ),
    )
}

/// The signed wire of workload `events` at `ts`, with `seq`.
pub fn signed(events: usize, ts: Timestamp, seq: u64) -> bytes::Bytes {
    let (secret, binding) = session();
    let signer = FrameSigner::new(secret, binding);
    let stamp = Stamp {
        ts,
        nonce: format!("nonce-{seq}"),
        seq,
    };
    sign_stamped(&signer, &stamp, &format!("frame-{seq}"), &payload(events))
        .expect("workloads are valid")
}
