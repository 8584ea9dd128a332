//! Prints the benchmark workloads as JSON lines.
//!
//! ```text
//! cargo run -q -p brainwire-test-support --bin bench_frames > target/bench-frames.jsonl
//! cargo run -q -p brainwire-test-support --bin bench_frames -- verify-lines event_batch_500 200
//! cargo run -q -p brainwire-test-support --bin bench_frames -- floor-lines < requests.jsonl
//! ```
//!
//! Without arguments: `{"workload", "frame"}` per workload (unsigned frames), for the
//! reference's timing script (`tests/reference/bench_reference.py`). With
//! `verify-lines WORKLOAD COUNT`: COUNT requests of `brainwire-conformance verify` for
//! that workload, signed now with seq 1 to COUNT, for `scripts/throughput.sh`. With
//! `floor-lines`: the floor of `brainwire-conformance verify` over such lines, a process
//! that only parses each request and its frame and MACs the frame's bytes (keyed once per
//! secret), answering `{"verdict":"ok"}`: what no verifier can beat.

use brainwire_core::Timestamp;
use brainwire_test_support::workloads;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => unsigned_workloads(),
        [mode, workload, count] if mode == "verify-lines" => {
            verify_lines(workload, count.parse().expect("COUNT is a number"))
        }
        [mode] if mode == "floor-lines" => floor_lines(),
        _ => panic!("usage: bench_frames [verify-lines WORKLOAD COUNT | floor-lines]"),
    }
}

fn unsigned_workloads() {
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

fn verify_lines(workload: &str, count: u64) {
    let (_, events) = workloads::WORKLOADS
        .into_iter()
        .find(|(name, _)| *name == workload)
        .expect("a workload of workloads.rs");
    let (secret, binding) = workloads::session();
    let now = Timestamp::now_utc();
    for seq in 1..=count {
        let wire = workloads::signed(events, now, seq);
        let request = serde_json::json!({
            "wire": std::str::from_utf8(&wire).expect("JSON is UTF-8"),
            "secret_b64": secret.to_urlsafe_base64(),
            "agent_id": binding.agent_id,
            "project_id": binding.project_id,
            "session_id": binding.session_id,
        });
        println!("{request}");
    }
}

/// The parse + MAC floor of a verify request line.
fn floor_lines() {
    use std::io::{BufRead, Write};
    #[derive(serde::Deserialize)]
    struct Request<'a> {
        #[serde(borrow)]
        wire: std::borrow::Cow<'a, str>,
        #[serde(borrow)]
        secret_b64: std::borrow::Cow<'a, str>,
    }
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let mut keyed: Option<(String, brainwire_test_support::floor::KeyedMac)> = None;
    for line in stdin.lines() {
        let line = line.expect("UTF-8 lines");
        let request: Request<'_> = serde_json::from_str(&line).expect("a request");
        let _: serde::de::IgnoredAny = serde_json::from_str(&request.wire).expect("a frame");
        let mac = match &keyed {
            Some((secret, mac)) if *secret == request.secret_b64 => mac,
            _ => {
                let secret = brainwire_sign::decode_agent_hmac_secret(&request.secret_b64)
                    .expect("a secret");
                let mac = brainwire_test_support::floor::KeyedMac::new(secret.expose());
                &keyed.insert((request.secret_b64.into_owned(), mac)).1
            }
        };
        std::hint::black_box(mac.tag(request.wire.as_bytes()));
        writeln!(stdout, r#"{{"verdict": "ok"}}"#).expect("stdout");
    }
    stdout.flush().expect("stdout");
}
