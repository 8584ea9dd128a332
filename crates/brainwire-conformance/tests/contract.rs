//! The conformance binary, driven through its JSON-lines contract with vectors the
//! reference produced (`tests/vectors/`).

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

/// The rows of a JSON-lines vector file under the workspace's `tests/vectors/`.
fn vector_rows(name: &str) -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|l| serde_json::from_str(l).expect("vector rows are JSON"))
        .collect()
}

/// Runs `brainwire-conformance MODE` over `lines` (raw text lines, so that bad input can
/// be sent too); returns one answer per line.
fn conformance(mode: &str, lines: &[String]) -> Vec<Value> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_brainwire-conformance"))
        .arg(mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success());
    let answers: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), lines.len(), "one answer per line");
    answers
}

#[test]
fn canonical_mode_answers_every_vector_in_order() {
    let rows = vector_rows("canonical.jsonl");
    let lines: Vec<String> = rows
        .iter()
        .map(|r| json!({"wire": r["wire"]}).to_string())
        .collect();
    for (row, answer) in rows.iter().zip(conformance("canonical", &lines)) {
        match row.get("canonical") {
            Some(expected) => assert_eq!(answer, json!({"canonical": expected})),
            None => assert_eq!(answer, json!({"error": row["brainwire_error"]})),
        }
    }
}

#[test]
fn verify_mode_accepts_reference_frames_and_names_refusals() {
    let rows = vector_rows("signed.jsonl");
    let mut lines: Vec<String> = rows
        .iter()
        .map(|r| {
            json!({"wire": r["wire"], "secret_b64": r["secret_b64"], "agent_id": r["agent_id"],
                   "project_id": r["project_id"], "session_id": r["session_id"]})
            .to_string()
        })
        .collect();
    let n = lines.len();
    let first = &rows[0];
    let tampered = first["wire"]
        .as_str()
        .unwrap()
        .replacen("\"id\":\"", "\"id\":\"x", 1);
    lines.push(
        json!({"wire": tampered, "secret_b64": first["secret_b64"], "agent_id": first["agent_id"],
                      "project_id": first["project_id"], "session_id": first["session_id"]})
        .to_string(),
    );
    lines.push(json!({"wire": first["wire"], "secret_b64": first["secret_b64"], "agent_id": first["agent_id"],
                      "project_id": first["project_id"], "session_id": "another"}).to_string());
    lines.push("{not json".into());
    let answers = conformance("verify", &lines);
    assert!(answers[..n].iter().all(|a| a == &json!({"verdict": "ok"})));
    assert_eq!(answers[n], json!({"verdict": "bad_signature"}));
    assert_eq!(answers[n + 1], json!({"verdict": "bad_signature"}));
    assert_eq!(answers[n + 2], json!({"error": "bad_request"}));
}

#[test]
fn sign_mode_reproduces_the_reference_wire_mac() {
    let rows = vector_rows("signed.jsonl");
    let lines: Vec<String> = rows
        .iter()
        .map(|r| {
            let wire: serde_json::Map<String, Value> =
                serde_json::from_str(r["wire"].as_str().unwrap()).unwrap();
            let frame =
                json!({"v": 2, "id": wire["id"], "type": wire["type"], "payload": wire["payload"]});
            json!({"frame": frame, "secret_b64": r["secret_b64"], "agent_id": r["agent_id"],
                   "project_id": r["project_id"], "session_id": r["session_id"],
                   "ts": wire["ts"], "nonce": wire["nonce"], "seq": wire["seq"]})
            .to_string()
        })
        .collect();
    for (row, answer) in rows.iter().zip(conformance("sign", &lines)) {
        let wire: Value = serde_json::from_str(answer["wire"].as_str().expect("signed")).unwrap();
        // serde_json::Value round-trips big integers as floats, so only frames without
        // them compare whole; the MAC is computed from the line's exact text either way.
        if !row["wire"].as_str().unwrap().contains("\"big\"") {
            assert_eq!(wire["hmac"], row["hmac"], "{}", row["wire"]);
        }
    }
}

#[test]
fn secret_mode_matches_the_reference() {
    let rows = vector_rows("secrets.jsonl");
    let lines: Vec<String> = rows
        .iter()
        .map(|r| {
            let mut request = r.as_object().unwrap().clone();
            for key in [
                "secret_hex",
                "reference",
                "reference_secret_hex",
                "brainwire_error",
            ] {
                request.remove(key);
            }
            Value::Object(request).to_string()
        })
        .collect();
    for (row, answer) in rows.iter().zip(conformance("secret", &lines)) {
        match row.get("secret_hex") {
            Some(hex) => assert_eq!(answer, json!({"secret_hex": hex})),
            None => assert_eq!(answer, json!({"error": row["brainwire_error"]})),
        }
    }
}

/// One request per line through `mode`, checked against the expected answer.
fn expect(mode: &str, cases: &[(Value, Value)]) {
    let lines: Vec<String> = cases
        .iter()
        .map(|(request, _)| request.to_string())
        .collect();
    for ((request, expected), answer) in cases.iter().zip(conformance(mode, &lines)) {
        assert_eq!(&answer, expected, "{mode} {request}");
    }
}

#[test]
fn decode_mode_covers_every_family_with_the_documents_examples() {
    let run_update = r#"{"type":"run_update","data":{"id":"task-123","status":"in_progress","progress":5,"task_id":"task-123","agent":"dev","started_at":"2026-02-06T01:30:00.000Z","completed_at":null,"error":null},"timestamp":"2026-02-06T01:30:15.000Z"}"#;
    let v1_batch = r#"{"type":"event_batch","seq":7,"events":[{"event_type":"task_sent","task_id":"t","engine":"celery","ts":"2026-02-06T01:30:00Z","name":"n","args_redacted":[123456789012345678901234567890],"kwargs_redacted":{}}]}"#;
    let lines: Vec<String> = [
        json!({"family": "run", "wire": run_update}),
        json!({"family": "v1", "wire": v1_batch}),
        json!({"family": "v1", "wire": r#"{"type":"command","cmd_id":"c","cmd":"cancel_task","args":{"task_id":"t"}}"#}),
        json!({"family": "auth", "wire": r#"{"type":"auth.request","token":"k","protocolVersion":1,"capabilities":{"orchRole":"worker","newFlag":true}}"#}),
        json!({"family": "channel", "wire": r#"{"type":"subscribe","channelId":"agent:my-coder-agent"}"#}),
        json!({"family": "channel", "wire": r#"{"type":"chat.message","payload":{"messageId":"m","agentId":"a","content":"hi","timestamp":1}}"#}),
        json!({"family": "v2", "wire": r#"{"v":2,"id":"h","ts":null,"type":"hello","payload":{"protocol_version":"2","agent_version":"1","framework":"bare"}}"#}),
    ]
    .iter()
    .map(Value::to_string)
    .collect();
    let answers = conformance("decode", &lines);
    assert_eq!(
        answers[0],
        json!({"type": "run_update", "frame": serde_json::from_str::<Value>(run_update).unwrap()})
    );
    assert_eq!(answers[1]["type"], "event_batch");
    assert_eq!(answers[2]["frame"]["cmd"], "cancel_task");
    assert_eq!(
        answers[3]["frame"]["capabilities"]["newFlag"], true,
        "auth capabilities keep unknown flags"
    );
    assert_eq!(
        answers[4],
        json!({"type": "subscribe", "frame": {"type": "subscribe", "channelId": "agent:my-coder-agent"}})
    );
    assert_eq!(answers[5]["frame"]["payload"]["content"], "hi");
    assert_eq!(answers[6]["frame"]["payload"]["framework"], "bare");
    // Integers beyond 64 bits come back as written (serde_json reads them as floats, so
    // compare the raw line).
    let raw = std::process::Command::new(env!("CARGO_BIN_EXE_brainwire-conformance"))
        .arg("decode")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("{}\n", lines[1]).as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(String::from_utf8(raw.stdout)
        .unwrap()
        .contains("[123456789012345678901234567890]"));
}

#[test]
fn decode_mode_names_the_error_and_close_code_of_bad_input() {
    let oversize_v2 = format!(
        r#"{{"v":2,"id":"e","type":"event_batch","payload":{{"events":[{}]}}}}"#,
        vec!["{}"; 5001].join(",")
    );
    let cases = [
        (
            json!({"family": "v1", "wire": r#"{"type":"event_batch","seq":-1,"events":[]}"#}),
            json!({"error": "invalid_frame", "close_code": 4005}),
        ),
        (
            json!({"family": "v1", "wire": r#"{"type":"hello","protocol":"v2"}"#}),
            json!({"error": "invalid_frame", "close_code": 4005}),
        ),
        (
            json!({"family": "v1", "wire": "not json"}),
            json!({"error": "malformed_json", "close_code": 4005}),
        ),
        (
            json!({"family": "v1", "wire": r#"{"type":"teleport"}"#}),
            json!({"error": "unknown_type", "close_code": 4005}),
        ),
        (
            json!({"family": "v2", "wire": r#"{"v":3,"type":"hello"}"#}),
            json!({"error": "unsupported_version", "close_code": 4426}),
        ),
        (
            json!({"family": "v2", "wire": r#"{"v":2,"id":"e","type":"heartbeat","payload":{"buffer_size":"big"}}"#}),
            json!({"error": "invalid_frame", "close_code": 4400}),
        ),
        (
            json!({"family": "v2", "wire": oversize_v2}),
            json!({"error": "invalid_frame", "close_code": 4400}),
        ),
        (
            json!({"family": "v2", "wire": r#"{"v":2,"type":"gossip"}"#}),
            json!({"error": "unknown_type", "close_code": 4400}),
        ),
        (
            json!({"family": "auth", "wire": r#"{"type":"auth.request","token":"","protocolVersion":1}"#}),
            json!({"error": "empty_token", "close_code": 1002}),
        ),
        (
            json!({"family": "auth", "wire": r#"{"type":"auth.request","token":"k","protocolVersion":1.5}"#}),
            json!({"error": "invalid_message", "close_code": 1002}),
        ),
        (
            json!({"family": "auth", "wire": r#"{"type":"auth.maybe"}"#}),
            json!({"error": "unknown_type", "close_code": 1002}),
        ),
        (
            json!({"family": "run", "wire": r#"{"type":"run_update","data":{}}"#}),
            json!({"error": "invalid_message", "close_code": 1002}),
        ),
        (
            json!({"family": "run", "wire": r#"{"type":"run_paused","data":{},"timestamp":"2026-02-06T01:30:00.000Z"}"#}),
            json!({"error": "unknown_type", "close_code": 1002}),
        ),
        (
            json!({"family": "channel", "wire": r#"{"type":"subscribe","channelId":"moon:x"}"#}),
            json!({"error": "unknown_kind", "close_code": 1002}),
        ),
        (
            json!({"family": "channel", "wire": "[]"}),
            json!({"error": "not_object", "close_code": 1002}),
        ),
        (
            json!({"family": "smoke-signals", "wire": "{}"}),
            json!({"error": "unknown_family", "close_code": null}),
        ),
    ];
    expect("decode", &cases);
}

#[test]
fn sniff_close_channel_id_and_backoff_modes() {
    expect(
        "sniff",
        &[
            (
                json!({"wire": r#"{"type":"hello","protocol":"v1","agent_name":"a"}"#}),
                json!({"version": "v1"}),
            ),
            (
                json!({"wire": r#"{"v":2,"type":"hello"}"#}),
                json!({"version": "v2"}),
            ),
            (json!({"wire": "hello?"}), json!({"version": "unknown"})),
        ],
    );
    expect(
        "close",
        &[
            (
                json!({"family": "v1", "code": 4005}),
                json!({"name": "malformed_frame", "class": "transient"}),
            ),
            (
                json!({"family": "v1", "code": 4002}),
                json!({"name": "invalid_token", "class": "configuration"}),
            ),
            (
                json!({"family": "v2", "code": 4002}),
                json!({"name": "replaced", "class": "replaced"}),
            ),
            (
                json!({"family": "v2", "code": 4408}),
                json!({"name": "idle_timeout", "class": "transient"}),
            ),
            (
                json!({"family": "v2", "code": 1000}),
                json!({"name": "normal", "class": "normal"}),
            ),
            (
                json!({"family": "dashboard", "code": 4403}),
                json!({"name": "insufficient_role", "class": "configuration"}),
            ),
            (
                json!({"family": "dashboard", "code": 4999}),
                json!({"name": "other", "class": "unknown"}),
            ),
            (
                json!({"family": "v3", "code": 1000}),
                json!({"error": "unknown_family"}),
            ),
        ],
    );
    expect(
        "channel-id",
        &[
            (
                json!({"channel_id": "swarm:s-1"}),
                json!({"kind": "swarm", "id": "s-1"}),
            ),
            (
                json!({"channel_id": "swarm"}),
                json!({"error": "missing_colon"}),
            ),
            (
                json!({"channel_id": "org:a b"}),
                json!({"error": "invalid_character"}),
            ),
        ],
    );
    expect(
        "backoff",
        &[
            (
                json!({"initial_ms": 1000, "max_ms": 30000, "attempt": 1}),
                json!({"delay_ms": 1000}),
            ),
            (
                json!({"initial_ms": 1000, "max_ms": 30000, "attempt": 5}),
                json!({"delay_ms": 16000}),
            ),
            (
                json!({"initial_ms": 1000, "max_ms": 30000, "attempt": 6}),
                json!({"delay_ms": 30000}),
            ),
            (
                json!({"initial_ms": 2000, "max_ms": 10000, "attempt": 0}),
                json!({"error": "attempt_starts_at_1"}),
            ),
        ],
    );
}

/// Lines of alternating sessions: the verifier kept for one session must not answer for
/// another (a frame of session A checked as session B fails, A again passes).
#[test]
fn verify_mode_answers_alternating_sessions_as_fresh_verifiers_would() {
    let rows = vector_rows("signed.jsonl");
    // Every row verifies under its own session (the test above).
    let a = &rows[0];
    let b = rows
        .iter()
        .find(|r| r["secret_b64"] != a["secret_b64"] || r["session_id"] != a["session_id"])
        .expect("vectors of two sessions");
    let line = |row: &Value, session: &Value| {
        json!({"wire": row["wire"], "secret_b64": session["secret_b64"], "agent_id": session["agent_id"],
               "project_id": session["project_id"], "session_id": session["session_id"]})
        .to_string()
    };
    let lines = [line(a, a), line(a, b), line(a, a), line(b, b), line(b, a)];
    let verdicts: Vec<Value> = conformance("verify", &lines)
        .into_iter()
        .map(|answer| answer["verdict"].clone())
        .collect();
    assert_eq!(
        verdicts,
        ["ok", "bad_signature", "ok", "ok", "bad_signature"].map(Value::from)
    );
}

/// A peer that sends one line and waits gets its answer while stdin stays open: answers
/// are buffered only while more input is already waiting.
#[test]
fn an_answer_comes_before_the_next_line_is_sent() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_brainwire-conformance"))
        .arg("canonical")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let (answers, answer) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = answers.send(line.unwrap());
        }
    });
    for (wire, canonical) in [(r#"{"b":1,"a":2}"#, r#"{"a":2,"b":1}"#), ("[ 1 ]", "[1]")] {
        writeln!(stdin, "{}", json!({ "wire": wire })).unwrap();
        stdin.flush().unwrap();
        let got = answer
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("an answer while stdin is still open");
        assert_eq!(got, json!({ "canonical": canonical }).to_string());
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}
