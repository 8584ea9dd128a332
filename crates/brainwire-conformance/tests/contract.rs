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
