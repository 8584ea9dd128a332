//! The `brain`, `agent-v1`, `agent` and `run-watch` examples as separate processes: a
//! legacy v1 agent and a v2 agent on one brain at once, both seen on one run stream; a
//! v1 agent cut off mid-stream that loses and duplicates nothing; a v1 agent with a
//! wrong token that stops; and a v1 agent written in Python from document 000 alone.

use std::time::Duration;

use crate::processes::{address_in, counter, cutting_proxy, http_get, Program};
use crate::reference::reference_python;
use crate::tests_dir;

const START: Duration = Duration::from_secs(30);
const RUN: Duration = Duration::from_secs(120);

/// A brain accepting two agents; gives it, its address and the two agent tokens, and
/// its HMAC secret (for the v2 agent).
fn brain() -> (Program, String, Vec<String>, String) {
    let tokens = std::env::temp_dir().join(format!("brainwire-tokens-{}", uuid::Uuid::new_v4()));
    let path = tokens.to_str().expect("a UTF-8 path").to_owned();
    let brain = Program::start(
        "brain",
        &[
            "--listen",
            "127.0.0.1:0",
            "--agents",
            "2",
            "--token-file",
            &path,
        ],
    );
    let addr = address_in(&brain.line("listening on ", START));
    let secret = brain.line("hmac secret: ", START)["hmac secret: ".len()..].to_owned();
    let tokens: Vec<String> = std::fs::read_to_string(&tokens)
        .expect("the token file")
        .lines()
        .map(str::to_owned)
        .collect();
    std::fs::remove_file(&path).expect("removed");
    (brain, addr, tokens, secret)
}

#[test]
fn a_v1_and_a_v2_agent_on_one_brain_are_both_seen_on_one_run_stream() {
    let (_brain, addr, tokens, secret) = brain();
    let run_stream = format!("ws://{addr}/ws");
    let mut watch = Program::start("run-watch", &["--url", &run_stream, "--runs", "80"]);
    watch.line("", START);
    // v1 on `/ws` with its bearer token (document 000), v2 on `/ws/agent`, at once.
    let mut v1 = Program::start(
        "agent-v1",
        &[
            "--url",
            &run_stream,
            "--token",
            &tokens[0],
            "--events",
            "40",
        ],
    );
    let agent_url = format!("ws://{addr}/ws/agent");
    let mut v2 = Program::start(
        "agent",
        &[
            "--url",
            &agent_url,
            "--token",
            &tokens[1],
            "--hmac-secret",
            &secret,
            "--events",
            "40",
        ],
    );
    assert!(v1.wait(RUN).success(), "{}", v1.output());
    assert!(v2.wait(RUN).success(), "{}", v2.output());
    assert!(watch.wait(RUN).success(), "{}", watch.output());
    assert!(
        v1.output().contains("done: 40 events acknowledged"),
        "{}",
        v1.output()
    );
    // Both agents' tasks reached the one run stream: 80 tasks, 40 of each prefix.
    assert!(watch.output().contains("\n80 tasks:"), "{}", watch.output());

    let status: serde_json::Value =
        serde_json::from_str(&http_get(&addr, "/api/brain/status/ws")).expect("JSON");
    let mut protocols: Vec<&str> = status["agents"]
        .as_object()
        .expect("agents")
        .values()
        .map(|agent| agent["protocol"].as_str().expect("a protocol"))
        .collect();
    protocols.sort_unstable();
    assert_eq!(protocols, ["v1", "v2"]);
    let v1_agent = status["agents"]
        .as_object()
        .unwrap()
        .values()
        .find(|a| a["protocol"] == "v1")
        .unwrap();
    assert_eq!(
        v1_agent["schedules"]["celery-beat"][0]["id"], "nightly-report",
        "the v1 agent's schedule snapshot is kept: {status}"
    );
    assert_eq!(counter(&addr, "brainwire_stored_events_total"), 80);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v1_agent_cut_off_mid_stream_loses_and_duplicates_nothing() {
    let (_brain, addr, tokens, _) = brain();
    // The first connection is cut once 100 KB went up: a few batches of the 2,000 events.
    let (proxy, cut) = cutting_proxy(addr.clone(), 100_000).await;
    let url = format!("ws://{proxy}/ws");
    let token = tokens[0].clone();
    let (status, output) = tokio::task::spawn_blocking(move || {
        let mut agent = Program::start(
            "agent-v1",
            &["--url", &url, "--token", &token, "--events", "2000"],
        );
        (agent.wait(RUN), agent.output())
    })
    .await
    .expect("joined");
    assert!(status.success(), "{output}");
    assert!(
        cut.load(std::sync::atomic::Ordering::SeqCst),
        "the proxy cut the first connection"
    );
    assert!(output.contains("connection lost"), "{output}");
    assert!(
        output.contains("done: 2000 events acknowledged over 2 connection(s)"),
        "{output}"
    );
    // Whatever was in flight at the cut was sent again; the brain stored each event once.
    let addr_for_http = addr.clone();
    let (stored, duplicates) = tokio::task::spawn_blocking(move || {
        (
            counter(&addr_for_http, "brainwire_stored_events_total"),
            counter(&addr_for_http, "brainwire_duplicate_events_total"),
        )
    })
    .await
    .expect("joined");
    assert_eq!(stored, 2000);
    let resent: u64 = output
        .lines()
        .find_map(|l| {
            l.strip_prefix("done: ")?
                .split(", ")
                .nth(1)?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .expect("the done line");
    assert!(
        duplicates <= resent * 100,
        "{duplicates} duplicates for {resent} re-sent batches"
    );
}

#[test]
fn a_v1_agent_with_a_wrong_token_stops_with_4002() {
    let (_brain, addr, _, _) = brain();
    let url = format!("ws://{addr}/ws");
    let mut agent = Program::start("agent-v1", &["--url", &url, "--token", "not-a-token"]);
    let status = agent.wait(RUN);
    assert!(!status.success());
    let output = agent.output();
    assert!(
        output.contains("stopped: the brain closed with invalid token (4002)"),
        "{output}"
    );
    assert_eq!(
        output.matches("connected (connection").count(),
        1,
        "no retry: {output}"
    );
}

#[test]
fn a_v1_agent_written_from_document_000_alone_works_against_the_example_brain() {
    let (_brain, addr, tokens, _) = brain();
    let output = std::process::Command::new(reference_python())
        .arg(tests_dir().join("reference/doc000_agent.py"))
        .args([&format!("ws://{addr}/ws"), &tokens[0], "200"])
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(report["acked"], serde_json::json!([1, 2, 3, 4]));
    assert_eq!(report["commands"], serde_json::json!(["cancel_task"]));
    assert_eq!(counter(&addr, "brainwire_stored_events_total"), 200);
    assert_eq!(counter(&addr, "brainwire_command_results_total"), 1);
    // Its schedule update (the one schedule removed) reached the status document.
    let status: serde_json::Value =
        serde_json::from_str(&http_get(&addr, "/api/brain/status/ws")).expect("JSON");
    let agent = status["agents"]
        .as_object()
        .unwrap()
        .values()
        .find(|a| a["name"] == "doc000-agent")
        .expect("the agent is listed");
    assert_eq!(agent["protocol"], "v1");
    assert_eq!(
        agent["schedules"]["celery-beat"],
        serde_json::json!([]),
        "{status}"
    );
}
