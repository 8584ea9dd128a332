//! The probe against the example brain (every check passes) and against a lax brain that
//! refuses nothing (every refusal check fails): a probe that could not fail would pass
//! both.

use std::collections::{BTreeMap, HashSet};
use std::process::Command;
use std::time::Duration;

use brainwire_examples::brain::{serve, AgentAccount, BrainOptions};
use brainwire_examples::transcript::Transcript;
use brainwire_sign::{FrameSigner, Secret, SessionBinding};
use brainwire_v2::{encode, sign, EventBatchAck, Frame, HelloAck, Payload};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

const TOKEN: &str = "probe-test-token";

fn secret() -> Secret {
    Secret::new(b"probe-test-secret-0123456789abcdef".to_vec()).unwrap()
}

/// Runs the probe binary against `url`; gives each check's result, the exit status and
/// the HTML report.
async fn probe(url: String, deadline: &'static str) -> (BTreeMap<String, String>, bool, String) {
    let report = std::env::temp_dir().join(format!(
        "probe-report-{}.html",
        uuid::Uuid::new_v4().simple()
    ));
    let (output, html) = tokio::task::spawn_blocking(move || {
        let output = Command::new(env!("CARGO_BIN_EXE_brainwire-probe"))
            .args(["check", "--url", &url, "--token", TOKEN])
            .args(["--hmac-secret", &secret().to_urlsafe_base64()])
            .args(["--deadline", deadline])
            .arg("--report")
            .arg(&report)
            .output()
            .unwrap();
        let html = std::fs::read_to_string(&report).unwrap_or_default();
        let _ = std::fs::remove_file(&report);
        (output, html)
    })
    .await
    .unwrap();
    let results = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            Some((
                value["check"].as_str()?.to_owned(),
                value["result"].as_str()?.to_owned(),
            ))
        })
        .collect();
    (results, output.status.success(), html)
}

const REFUSALS: [&str; 12] = [
    "wrong_token",
    "first_frame_not_hello",
    "unsupported_version",
    "bad_mac",
    "replayed_frame",
    "reused_seq",
    "stale_ts",
    "future_ts",
    "other_session",
    "malformed_json",
    "oversized_frame",
    "second_connection",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_passes_against_the_example_brain() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws/agent", listener.local_addr().unwrap());
    // It sends a command after an agent's first batch.
    let options = BrainOptions::new(TOKEN, secret());
    tokio::spawn(serve(listener, options, Transcript::none()));
    let (results, success, html) = probe(url, "5").await;
    assert_eq!(results.len(), 19, "{results:?}");
    assert!(results.values().all(|r| r == "pass"), "{results:?}");
    assert!(success);
    // The report has a section per check, with what was sent and how the brain closed.
    for check in results.keys() {
        assert!(
            html.contains(&format!("<section id=\"{check}\" class=\"pass\">")),
            "{check}"
        );
    }
    let bad_mac = section(&html, "bad_mac");
    assert!(
        bad_mac.contains("&quot;type&quot;:&quot;heartbeat&quot;"),
        "{bad_mac}"
    );
    assert!(bad_mac.contains("= close 4403"), "{bad_mac}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_check_is_skipped_when_the_brain_sends_no_command() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws/agent", listener.local_addr().unwrap());
    let mut options = BrainOptions::new(TOKEN, secret());
    options.send_command = false;
    tokio::spawn(serve(listener, options, Transcript::none()));
    let (results, success, _) = probe(url, "1").await;
    assert_eq!(results["command_answered"], "skip", "{results:?}");
    assert_eq!(results.values().filter(|r| *r == "pass").count(), 18);
    // A skip is no failure.
    assert!(success);
}

/// How a fake brain behaves: it takes any token, answers any first frame with
/// `hello_ack`, and never refuses anything.
#[derive(Clone, Copy, PartialEq)]
enum Fake {
    /// Reads everything, never answers.
    Lax,
    /// Holds back the ack of every batch the first time it is sent, and acks it
    /// (signed) when the agent sends it again.
    Stingy,
    /// Sends a `heartbeat_ack` every 10 ms without end, and answers nothing else.
    Chatty,
    /// Sends one 5 MiB message, and answers nothing else.
    Flood,
}

/// Serves a fake brain behaving as `fake` on a loopback port; gives its agent URL.
async fn serve_fake(fake: Fake) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws/agent", listener.local_addr().unwrap());
    tokio::spawn(fake_brain(listener, fake));
    url
}

/// The report's section of `check`.
fn section<'a>(html: &'a str, check: &str) -> &'a str {
    let start = &html[html.find(&format!("<section id=\"{check}\"")).unwrap()..];
    &start[..start.find("</section>").unwrap()]
}

async fn fake_brain(listener: TcpListener, fake: Fake) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            if socket.next().await.is_none() {
                return;
            }
            let ack = HelloAck::new("lax/1", "agent-1", "project-1", "session-1");
            let ack = encode(&Frame::new("ack-1", Payload::HelloAck(ack)));
            let _ = socket
                .send(Message::text(String::from_utf8_lossy(&ack).into_owned()))
                .await;
            if fake == Fake::Flood {
                let text = format!(
                    r#"{{"type":"heartbeat_ack","pad":"{}"}}"#,
                    "x".repeat(5 << 20)
                );
                let _ = socket.send(Message::text(text)).await;
            }
            let binding = SessionBinding::new("agent-1", "project-1", "session-1");
            let mut signer = FrameSigner::new(secret(), binding);
            let mut seen = HashSet::new();
            let mut chatter = tokio::time::interval(Duration::from_millis(10));
            loop {
                let message = tokio::select! {
                    message = socket.next() => message,
                    _ = chatter.tick(), if fake == Fake::Chatty => {
                        let text = r#"{"v":2,"id":"hb","type":"heartbeat_ack","payload":{}}"#;
                        if socket.send(Message::text(text)).await.is_err() {
                            return;
                        }
                        continue;
                    }
                };
                let Some(Ok(message)) = message else {
                    return;
                };
                let Ok(frame) = serde_json::from_slice::<serde_json::Value>(&message.into_data())
                else {
                    continue;
                };
                if fake != Fake::Stingy || frame["type"] != "event_batch" {
                    continue;
                }
                let id = frame["id"].as_str().unwrap_or_default().to_owned();
                if seen.insert(id.clone()) {
                    continue;
                }
                let n = frame["payload"]["events"].as_array().map_or(0, Vec::len) as u64;
                let ack = Payload::EventBatchAck(EventBatchAck::new(id.clone(), n, n, 0));
                let wire = sign(&mut signer, &format!("ack-{id}"), &ack).unwrap();
                let text = String::from_utf8_lossy(&wire).into_owned();
                if socket.send(Message::text(text)).await.is_err() {
                    return;
                }
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_check_fails_against_a_lax_brain() {
    let url = serve_fake(Fake::Lax).await;
    let (results, success, html) =
        tokio::time::timeout(Duration::from_secs(120), probe(url, "0.5"))
            .await
            .unwrap();
    for check in REFUSALS {
        assert_eq!(results[check], "fail", "{check}: {results:?}");
    }
    assert_eq!(results["handshake"], "pass");
    assert_eq!(results["batch_acknowledged"], "fail");
    assert_eq!(results["command_answered"], "skip");
    assert!(!success);
    for check in REFUSALS {
        assert!(
            html.contains(&format!("<section id=\"{check}\" class=\"fail\">")),
            "{check}"
        );
    }
}

/// Runs `brainwire-probe load` with `tokens`; gives its report and the exit status.
async fn load(
    url: String,
    tokens: &[String],
    events: &str,
    extra: &[&str],
) -> (serde_json::Value, bool) {
    let file = std::env::temp_dir().join(format!("probe-tokens-{}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, tokens.join("\n")).unwrap();
    let agents = tokens.len().to_string();
    let events = events.to_owned();
    let extra: Vec<String> = extra.iter().map(|&a| a.to_owned()).collect();
    let output = tokio::task::spawn_blocking(move || {
        let output = Command::new(env!("CARGO_BIN_EXE_brainwire-probe"))
            .args([
                "load", "--url", &url, "--agents", &agents, "--events", &events,
            ])
            .arg("--token-file")
            .arg(&file)
            .args(["--hmac-secret", &secret().to_urlsafe_base64()])
            .args(extra)
            .output();
        let _ = std::fs::remove_file(&file);
        output.unwrap()
    })
    .await
    .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    (report["load"].clone(), output.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_sees_every_event_of_every_agent_acknowledged_by_the_example_brain() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws/agent", listener.local_addr().unwrap());
    let mut options = BrainOptions::new(TOKEN, secret());
    options.send_command = false;
    options.agents.push(AgentAccount::new("probe-test-token-2"));
    options.agents.push(AgentAccount::new("probe-test-token-3"));
    let tokens: Vec<String> = options.agents.iter().map(|a| a.token.clone()).collect();
    tokio::spawn(serve(listener, options, Transcript::none()));
    let (report, success) = load(url, &tokens, "1200", &[]).await;
    assert_eq!(report["acked_events"], 3600, "{report}");
    assert_eq!(report["accepted_events"], 3600, "{report}");
    assert_eq!(report["unacked_events"], 0, "{report}");
    // At most 500 events a batch: at least three batches an agent.
    assert!(report["batches"].as_u64().unwrap() >= 9, "{report}");
    assert_eq!(report["reconnects"], 0, "{report}");
    assert_eq!(report["closes"], serde_json::json!({"1000": 3}), "{report}");
    assert!(
        report["events_per_second"].as_f64().unwrap() > 0.0,
        "{report}"
    );
    assert_eq!(report["result"], "pass");
    assert!(success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_sends_a_batch_again_when_its_ack_is_held_back() {
    let url = serve_fake(Fake::Stingy).await;
    let tokens = [TOKEN.to_owned()];
    let extra = ["--ack-deadline", "0.5", "--time-limit", "30"];
    let (report, success) = load(url, &tokens, "800", &extra).await;
    assert_eq!(report["acked_events"], 800, "{report}");
    assert_eq!(report["unacked_events"], 0, "{report}");
    // Every batch was acked only once sent again, about half a second later (the tap
    // sees a frame a little after the driver stamps its send time).
    let batches = report["batches"].as_u64().unwrap();
    assert!(batches >= 2, "{report}");
    assert_eq!(report["resent_batches"].as_u64(), Some(batches), "{report}");
    assert!(
        report["ack_latency_ms"]["p50"].as_f64().unwrap() >= 400.0,
        "{report}"
    );
    assert!(success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_fails_when_the_brain_acknowledges_nothing() {
    let url = serve_fake(Fake::Lax).await;
    let tokens = [TOKEN.to_owned()];
    let (report, success) = load(url, &tokens, "100", &["--time-limit", "2"]).await;
    assert_eq!(report["acked_events"], 0, "{report}");
    assert_eq!(report["unacked_events"], 100, "{report}");
    assert_eq!(report["result"], "fail");
    let errors = report["errors"].to_string();
    assert!(errors.contains("the time limit passed"), "{report}");
    assert!(!success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brain_chattering_without_end_cannot_hold_the_probe() {
    let url = serve_fake(Fake::Chatty).await;
    // Each check has one deadline, however many skipped frames come within it.
    let (results, success, _) = tokio::time::timeout(Duration::from_secs(120), probe(url, "0.5"))
        .await
        .expect("the probe finished");
    assert_eq!(results.len(), 19, "{results:?}");
    assert_eq!(results["bad_mac"], "fail");
    assert_eq!(results["command_answered"], "skip");
    assert!(!success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probe_refuses_a_message_past_its_cap() {
    let url = serve_fake(Fake::Flood).await;
    let (results, _, html) = tokio::time::timeout(Duration::from_secs(120), probe(url, "0.5"))
        .await
        .expect("the probe finished");
    assert_eq!(results["bad_mac"], "fail");
    // 5 MiB is past the probe's 4 MiB cap: the connection fails instead of the probe
    // reading it.
    let bad_mac = section(&html, "bad_mac");
    assert!(bad_mac.contains("<dd>connection failed: "), "{bad_mac}");
}
