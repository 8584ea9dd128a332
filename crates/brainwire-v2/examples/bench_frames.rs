//! Prints the benchmark workloads as JSON lines `{"workload", "frame"}` (unsigned frames),
//! for the reference's timing script (`tests/reference/bench_reference.py`).
//!
//! ```text
//! cargo run -q -p brainwire-v2 --example bench_frames > target/bench-frames.jsonl
//! ```

// The example uses only the payload builders of the shared workloads.
#[allow(dead_code)]
#[path = "../benches/workloads.rs"]
mod workloads;

fn main() {
    for (name, events) in workloads::WORKLOADS {
        let payload = workloads::payload(events);
        let frame = format!(
            r#"{{"v":2,"id":"frame-1","type":"{}","payload":{}}}"#,
            payload.frame_type().as_str(),
            String::from_utf8(payload.to_json()).expect("JSON is UTF-8")
        );
        println!("{}", serde_json::json!({"workload": name, "frame": frame}));
    }
}
