//! The probe against the example brain (every check passes) and against a lax brain that
//! refuses nothing (every refusal check fails): a probe that could not fail would pass
//! both.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use brainwire_examples::brain::{serve, BrainOptions};
use brainwire_examples::transcript::Transcript;
use brainwire_sign::Secret;
use brainwire_v2::{encode, Frame, HelloAck, Payload};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

const TOKEN: &str = "probe-test-token";

fn secret() -> Secret {
    Secret::new(b"probe-test-secret-0123456789abcdef".to_vec()).unwrap()
}

/// Runs the probe binary against `url`; gives each check's result and the exit status.
async fn probe(url: String, deadline: &'static str) -> (BTreeMap<String, String>, bool) {
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_brainwire-probe"))
            .args(["check", "--url", &url, "--token", TOKEN])
            .args(["--hmac-secret", &secret().to_urlsafe_base64()])
            .args(["--deadline", deadline])
            .output()
            .unwrap()
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
    (results, output.status.success())
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
    let mut options = BrainOptions::new(TOKEN, secret());
    options.send_command = false;
    tokio::spawn(serve(listener, options, Transcript::none()));
    let (results, success) = probe(url, "5").await;
    assert_eq!(results.len(), 18, "{results:?}");
    assert!(results.values().all(|r| r == "pass"), "{results:?}");
    assert!(success);
}

/// A brain that takes any token, answers any first frame with `hello_ack`, and then
/// reads everything without ever refusing or answering.
async fn lax_brain(listener: TcpListener) {
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
            while let Some(Ok(_)) = socket.next().await {}
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_check_fails_against_a_lax_brain() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws/agent", listener.local_addr().unwrap());
    tokio::spawn(lax_brain(listener));
    let (results, success) = tokio::time::timeout(Duration::from_secs(120), probe(url, "0.5"))
        .await
        .unwrap();
    for check in REFUSALS {
        assert_eq!(results[check], "fail", "{check}: {results:?}");
    }
    assert_eq!(results["handshake"], "pass");
    assert_eq!(results["batch_acknowledged"], "fail");
    assert!(!success);
}
