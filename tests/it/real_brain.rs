//! brainwire's agent (the example agent on `AgentSession`) against the real brain, z4j
//! 1.13.0 from PyPI, on loopback: events stored, a command issued through the brain's
//! REST API answered and recorded.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use brainwire_examples::agent::{run, AgentOptions};
use brainwire_examples::transcript::{Line, Side, Transcript};
use brainwire_sign::decode_agent_hmac_secret;
use serde_json::Value;

use crate::reference::reference_python;
use crate::tests_dir;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_brainwire_agent_talks_to_the_real_brain() {
    let mut brain = Command::new(reference_python())
        .arg(tests_dir().join("reference/real_brain.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the real brain starts");
    let mut to_brain = brain.stdin.take().unwrap();
    let mut from_brain = BufReader::new(brain.stdout.take().unwrap());
    let mut read = move || -> Value {
        let mut line = String::new();
        from_brain.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("brain helper answered {line:?}"))
    };
    // The first line comes unasked: the minted agent.
    let minted = read();
    let mut ask = move |request: &str| -> Value {
        writeln!(to_brain, "{request}").unwrap();
        to_brain.flush().unwrap();
        read()
    };
    let secret = decode_agent_hmac_secret(minted["hmac_secret"].as_str().unwrap())
        .expect("the brain's secret decodes");
    let url = minted["url"].as_str().unwrap().to_owned();
    let token = minted["token"].as_str().unwrap().to_owned();
    let mut options = AgentOptions::new(url.clone(), token.clone(), secret.clone(), 120);
    options.events_per_batch = 25;
    options.task_prefix = format!("e2e{}", std::process::id());
    let prefix = options.task_prefix.clone();
    options.expect_commands = 1;
    // The brain ingests frames in order on its own worker and drops what is still queued
    // when the connection closes; `command_ack` and `command_result` have no
    // acknowledgement to wait on, and a slow disk queues them behind seconds of batches.
    // So the agent stays, as a long-lived one would, until the test has seen the result
    // recorded.
    options.stay_connected = Duration::from_secs(90);
    let stop_staying = std::sync::Arc::new(tokio::sync::Notify::new());
    options.stop_staying = Some(stop_staying.clone());
    let (lines, mut seen) = tokio::sync::mpsc::channel(1024);
    let agent = tokio::spawn(run(options, Transcript::new(lines)));

    // Issue cancel-task once the agent has its session (the brain refuses a command for
    // an agent that is not connected), then let the transcript drain.
    loop {
        match tokio::time::timeout(Duration::from_secs(30), seen.recv())
            .await
            .expect("the agent connects")
        {
            Some(Line::Note {
                by: Side::Agent,
                text,
            }) if text.starts_with("session ") => break,
            Some(line) => println!("{line}"),
            None => panic!("the agent stopped before connecting"),
        }
    }
    // The agent's transcript goes to the test's output, which libtest shows on failure.
    tokio::spawn(async move {
        while let Some(line) = seen.recv().await {
            println!("{line}");
        }
    });
    let issued = tokio::task::block_in_place(|| ask("cancel celery task-to-cancel"));
    let command_id = issued["id"]
        .as_str()
        .unwrap_or_else(|| panic!("cancel-task refused: {issued}"))
        .to_owned();
    // The brain matched the agent's signed answer to its command (while connected).
    let mut state = Value::Null;
    for _ in 0..240 {
        state = tokio::task::block_in_place(|| ask(&format!("command {command_id}")));
        if state["status"] != "dispatched" && state["status"] != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(state["status"], "completed", "{state}");
    assert_eq!(state["result"]["cancelled"], true, "{state}");
    // The brain's REST API shows every event, with its kind, under its task (stored
    // before the command's result, which the brain ingested after them). SQLite behind
    // the brain answers 500 ("database is locked") while a worker holds the write lock:
    // such an answer is asked again.
    for i in (0..120).step_by(7) {
        let mut stored = Value::Null;
        for _ in 0..20 {
            stored =
                tokio::task::block_in_place(|| ask(&format!("events celery {prefix}-task-{i}")));
            if !stored["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("HTTP 5"))
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let expected = brainwire_examples::agent::KINDS[i % brainwire_examples::agent::KINDS.len()];
        assert_eq!(
            stored["kinds"],
            serde_json::json!([expected]),
            "task {i}: {stored}"
        );
    }
    // Everything checked: the agent may close.
    stop_staying.notify_one();
    let report = tokio::time::timeout(Duration::from_secs(60), agent)
        .await
        .expect("the agent finishes")
        .unwrap()
        .unwrap();
    assert_eq!(report.acked_events, 120);
    assert_eq!(
        report.accepted_events, 120,
        "the real brain stored every event once"
    );
    assert_eq!(report.commands_answered, 1);

    // Refusals stop the agent with what their close code means, instead of a reconnect
    // loop: a wrong token (4401), a wrong secret (the brain's MAC check), a version the
    // brain does not speak (4426).
    let wrong_secret = brainwire_sign::Secret::new(vec![9u8; 32]).unwrap();
    let mut wrong_version = AgentOptions::new(url.clone(), token.clone(), secret.clone(), 1);
    wrong_version.protocol_version = "1".into();
    for (options, expected) in [
        (
            AgentOptions::new(url.clone(), "not-a-token", secret.clone(), 1),
            "4401",
        ),
        (
            AgentOptions::new(url.clone(), token.clone(), wrong_secret, 1),
            "4403",
        ),
        (wrong_version, "4426"),
    ] {
        let outcome =
            tokio::time::timeout(Duration::from_secs(30), run(options, Transcript::none())).await;
        let error = outcome
            .expect("the agent stops instead of retrying")
            .expect_err("refused")
            .to_string();
        assert!(
            error.contains("Configuration") && error.contains(expected),
            "expected {expected}: {error}"
        );
    }

    // Closing the helper's stdin stops the brain.
    drop(ask);
    let _ = brain.wait();
}
