//! Live interop: frames brainwire signs are verified by the reference itself.
//!
//! Needs a Python with `z4j-core==1.13.0`: `$BRAINWIRE_REFERENCE_PYTHON`, or `.venv/bin/python`
//! at the repository root (`bash scripts/setup-reference.sh` makes it).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use brainwire_core::{canonicalize, JsonObject, Limits};
use brainwire_sign::{FrameSigner, Secret, SessionBinding};
use brainwire_v2::{
    sign, AgentStatus, Command as V2Command, CommandAck, CommandResult, ErrorReport, EventBatch,
    EventBatchAck, Heartbeat, Payload, RegistryDelta, TelemetryLoss,
};
use serde_json::{json, Value};

use crate::tests_dir;

/// The Python interpreter that has the reference installed.
pub fn reference_python() -> PathBuf {
    if let Some(path) = std::env::var_os("BRAINWIRE_REFERENCE_PYTHON") {
        return PathBuf::from(path);
    }
    let venv = tests_dir().join("../.venv/bin/python");
    assert!(
        venv.exists(),
        "the reference is not installed: run `bash scripts/setup-reference.sh` \
         (or set BRAINWIRE_REFERENCE_PYTHON to a python with z4j-core==1.13.0)"
    );
    venv
}

/// Runs a script of `tests/reference/` with `input` lines; returns its output lines.
pub fn run_reference(script: &str, input: &[Value]) -> Vec<Value> {
    let mut child = Command::new(reference_python())
        .arg(tests_dir().join("reference").join(script))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the reference python starts");
    let mut stdin = child.stdin.take().unwrap();
    let text: String = input.iter().map(|v| format!("{v}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success(), "{script} failed");
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), input.len(), "{script} answers every line");
    lines
}

fn obj(text: &str) -> JsonObject {
    JsonObject::from_text(text).unwrap()
}

fn payloads() -> Vec<Payload> {
    let mut hb = Heartbeat::default();
    hb.buffer_size = 3;
    hb.telemetry_loss = Some(TelemetryLoss::new("b", "r"));
    let mut status = AgentStatus::default();
    status.current_session_age_seconds = Some(1e-5);
    status.buffer_oldest_age_seconds = Some(315_359_999.123_456_7);
    let mut delta = RegistryDelta::new("celery");
    delta.added = vec![obj(r#"{"name":"t","big":123456789012345678901234567890}"#)];
    vec![
        Payload::EventBatch(EventBatch::new(vec![
            obj(
                r#"{"task_id":"t-1","ts":1746428308.9996243,"x":-0,"y":1E2,"s":"\u2028\ud83d\ude00\u0007"}"#,
            ),
            obj(r#"{"deep":[[[[[[[[[[{"k":4.567776956184722e-07}]]]]]]]]]]}"#),
        ])),
        // Canonical text past the signer's 16 KiB chunk goes to the MAC on its own.
        Payload::EventBatch(EventBatch::new(vec![obj(&format!(
            r#"{{"task_id":"t-big","blob":"{}"}}"#,
            "x\\\"\\u00e9\\n".repeat(4_000)
        ))])),
        Payload::EventBatchAck(EventBatchAck::new("eb-1", 2, 2, 0)),
        Payload::Heartbeat(hb),
        Payload::Command(V2Command::new("cancel_task", obj(r#"{"task_id":"t-1"}"#))),
        Payload::CommandAck(CommandAck::new(Some("c".into()))),
        Payload::CommandResult(CommandResult::success(Some(obj(r#"{"n":0.1}"#)))),
        Payload::CommandResult(CommandResult::failed("boom")),
        Payload::RegistryDelta(delta),
        Payload::Error(ErrorReport::new("e", "m")),
        Payload::AgentStatus(status),
    ]
}

#[test]
fn frames_brainwire_signs_are_accepted_by_the_reference() {
    let secret = Secret::new(b"interop-secret-0123456789abcdef!".to_vec()).unwrap();
    // Ids that need escaping: the MAC covers the binding as the reference writes it.
    let binding = SessionBinding::new(
        "agent-\"uuid\"\\",
        "project-\u{e9}-\u{1F600}",
        "session\u{7}",
    );
    let mut signer = FrameSigner::new(secret.clone(), binding.clone());
    let mut requests = Vec::new();
    let mut expected = Vec::new();
    for (i, payload) in payloads().into_iter().enumerate() {
        // Ids that need escaping too: the signer escapes each once for MAC and wire.
        let wire = sign(&mut signer, &format!("f-\"{i}\"\\"), &payload).unwrap();
        requests.push(json!({
            "wire": String::from_utf8(wire.to_vec()).unwrap(),
            "secret_b64": secret.to_urlsafe_base64(),
            "agent_id": binding.agent_id, "project_id": binding.project_id, "session_id": binding.session_id,
        }));
        expected.push((
            payload.frame_type().as_str(),
            canonicalize(&payload.to_json(), &Limits::default()).unwrap(),
        ));
    }
    for (answer, (frame_type, ours)) in run_reference("verify_frames.py", &requests)
        .iter()
        .zip(expected)
    {
        assert_eq!(answer["ok"], true, "{answer}");
        assert_eq!(answer["type"], frame_type);
        assert_eq!(
            answer["payload_canonical"].as_str().unwrap(),
            std::str::from_utf8(&ours).unwrap(),
            "{frame_type}"
        );
    }
}

#[test]
fn the_reference_refuses_what_brainwire_refuses() {
    let secret = Secret::new(vec![9u8; 32]).unwrap();
    let binding = SessionBinding::new("a", "p", "s");
    let mut signer = FrameSigner::new(secret.clone(), binding.clone());
    let wire = String::from_utf8(
        sign(&mut signer, "f", &Payload::Heartbeat(Heartbeat::default()))
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    let request = |wire: &str, secret: &Secret, session: &str| {
        json!({
            "wire": wire, "secret_b64": secret.to_urlsafe_base64(),
            "agent_id": "a", "project_id": "p", "session_id": session,
        })
    };
    let other = Secret::new(vec![8u8; 32]).unwrap();
    let answers = run_reference(
        "verify_frames.py",
        &[
            request(
                &wire.replace("\"buffer_size\":0", "\"buffer_size\":1"),
                &secret,
                "s",
            ),
            request(&wire, &other, "s"),
            request(&wire, &secret, "other-session"),
            request(&wire, &secret, "s"),
            request(&wire, &secret, "s"),
        ],
    );
    let errors: Vec<&str> = answers
        .iter()
        .map(|a| a["error"].as_str().unwrap_or("ok"))
        .collect();
    assert!(
        errors[0].starts_with("SignatureError"),
        "tampered: {}",
        errors[0]
    );
    assert!(
        errors[1].starts_with("SignatureError"),
        "wrong secret: {}",
        errors[1]
    );
    assert!(
        errors[2].starts_with("SignatureError"),
        "other session: {}",
        errors[2]
    );
    assert_eq!(errors[3], "ok");
    assert!(
        errors[4].starts_with("SignatureError"),
        "replay: {}",
        errors[4]
    );
}
