//! The example brain and agent over a loopback WebSocket, in this test process.

use std::sync::atomic::Ordering;
use std::time::Duration;

use brainwire_examples::agent::{run, AgentOptions, AgentReport};
use brainwire_examples::brain::{serve, BrainOptions, BrainStats};
use brainwire_examples::transcript::{Line, Side, Transcript};
use brainwire_sign::Secret;
use tokio::sync::mpsc;

fn secret(byte: u8) -> Secret {
    Secret::new(vec![byte; 32]).unwrap()
}

/// Runs a brain with `brain_secret` and an agent with `agent`'s options until the agent
/// finishes; returns the agent's result, the brain's counters and the transcript.
async fn converse(
    brain_secret: Secret,
    agent: impl FnOnce(String) -> AgentOptions,
) -> (
    anyhow::Result<AgentReport>,
    std::sync::Arc<BrainStats>,
    Vec<Line>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws/agent", listener.local_addr().unwrap());
    let (sender, mut receiver) = mpsc::channel(4096);
    let collector = tokio::spawn(async move {
        let mut lines = Vec::new();
        while let Some(line) = receiver.recv().await {
            lines.push(line);
        }
        lines
    });
    let mut brain = BrainOptions::new("the-token", brain_secret);
    brain.heartbeat_interval = Duration::from_secs(1);
    let stats = brain.stats.clone();
    let server = tokio::spawn(serve(listener, brain, Transcript::new(sender.clone())));
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        run(agent(url), Transcript::new(sender)),
    )
    .await
    .expect("the agent finishes");
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.abort();
    let _ = server.await;
    (result, stats, collector.await.unwrap())
}

fn frames(lines: &[Line], from: Side) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| match l {
            Line::Frame {
                from: f,
                frame_type,
                ..
            } if *f == from => Some(frame_type.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn the_whole_conversation_over_loopback() {
    let (result, stats, lines) = converse(secret(1), |url| {
        let mut agent = AgentOptions::new(url, "the-token", secret(1), 30);
        agent.events_per_batch = 10;
        agent.expect_commands = 1;
        agent.stay_connected = Duration::from_millis(1200);
        agent
    })
    .await;
    let report = result.unwrap();
    assert_eq!(
        (
            report.acked_events,
            report.connections,
            report.commands_answered
        ),
        (30, 1, 1)
    );
    assert_eq!(stats.stored_events.load(Ordering::SeqCst), 30);
    assert_eq!(stats.command_results.load(Ordering::SeqCst), 1);

    let agent_frames = frames(&lines, Side::Agent);
    let brain_frames = frames(&lines, Side::Brain);
    assert_eq!(agent_frames[0], "hello");
    assert_eq!(brain_frames[0], "hello_ack");
    for expected in ["event_batch", "command_ack", "command_result", "heartbeat"] {
        assert!(
            agent_frames.iter().any(|t| t == expected),
            "agent sent no {expected}: {agent_frames:?}"
        );
    }
    assert_eq!(
        agent_frames.iter().filter(|t| *t == "event_batch").count(),
        3
    );
    assert_eq!(
        brain_frames
            .iter()
            .filter(|t| *t == "event_batch_ack")
            .count(),
        3
    );
    assert_eq!(brain_frames.iter().filter(|t| *t == "command").count(), 1);
}

#[tokio::test]
async fn a_forced_disconnect_loses_and_duplicates_nothing() {
    let (result, stats, lines) = converse(secret(2), |url| {
        let mut agent = AgentOptions::new(url, "the-token", secret(2), 40);
        agent.events_per_batch = 5;
        agent.drop_after_batches = Some(3);
        agent
    })
    .await;
    let report = result.unwrap();
    assert_eq!((report.acked_events, report.connections), (40, 2));
    assert_eq!(
        stats.stored_events.load(Ordering::SeqCst),
        40,
        "each event stored once"
    );
    let hellos = frames(&lines, Side::Agent)
        .iter()
        .filter(|t| *t == "hello")
        .count();
    assert_eq!(hellos, 2);
}

#[tokio::test]
async fn a_wrong_token_stops_the_agent_with_4401() {
    let (result, stats, _) = converse(secret(3), |url| {
        AgentOptions::new(url, "stolen", secret(3), 5)
    })
    .await;
    let error = result.unwrap_err().to_string();
    assert!(error.contains("Configuration { code: 4401 }"), "{error}");
    assert_eq!(stats.stored_events.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_wrong_secret_is_closed_with_4403_and_stores_nothing() {
    let (result, stats, _) = converse(secret(4), |url| {
        AgentOptions::new(url, "the-token", secret(5), 5)
    })
    .await;
    let error = result.unwrap_err().to_string();
    assert!(error.contains("Configuration { code: 4403 }"), "{error}");
    assert_eq!(stats.stored_events.load(Ordering::SeqCst), 0);
}
