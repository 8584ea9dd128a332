//! Document 002 end to end: the `platform` and `orchestrator` examples as separate
//! processes, an agent below the orchestrator (a `brainwire_auth::Client` driven by the
//! examples' `link::drive`), and both client connections cut mid-stream by proxies.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use brainwire_auth::{AuthRequest, Client, Event, SessionConfig, Token};
use brainwire_examples::link::{drive, websocket_config, LinkEnd, LinkRequest};
use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::processes::{address_in, cutting_proxy, Program};

const START: Duration = Duration::from_secs(30);
const RUN: Duration = Duration::from_secs(90);

/// An agent connected to the orchestrator: requests in, events out.
struct TestAgent {
    requests: mpsc::Sender<LinkRequest>,
    events: mpsc::Receiver<Event>,
    driver: JoinHandle<LinkEnd>,
}

/// Connects to `url` and authenticates with `token`; `None` if the connection failed.
async fn connect(url: &str, token: &str) -> TestAgent {
    let (socket, _) =
        tokio_tungstenite::connect_async_with_config(url, Some(websocket_config()), false)
            .await
            .expect("the orchestrator accepts");
    let request = AuthRequest::new(Token::new(token).expect("a token"), 1);
    let client = Client::new(Instant::now(), request, SessionConfig::default());
    let (requests, requests_rx) = mpsc::channel(4096);
    let (events_tx, events) = mpsc::channel(4096);
    let driver = tokio::spawn(drive(client, socket, requests_rx, events_tx));
    TestAgent {
        requests,
        events,
        driver,
    }
}

fn message(message_type: &str, id: &str) -> LinkRequest {
    let text = format!(r#"{{"type":"{message_type}","messageId":"{id}","progress":0.5}}"#);
    LinkRequest::Send {
        message_id: Some(id.to_owned()),
        bytes: Bytes::from(text),
    }
}

/// The messages the agent sends: 300 the platform handles, 5 it refuses.
fn messages() -> Vec<(String, String)> {
    let handled = (0..300).map(|i| ("job.progress".to_owned(), format!("m-{i}")));
    let refused = (0..5).map(|i| ("job.unknown".to_owned(), format!("u-{i}")));
    handled.chain(refused).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_messages_reach_the_platform_through_the_orchestrator_across_cut_connections() {
    let platform = Program::start(
        "platform",
        &["--listen", "127.0.0.1:0", "--token", "p-token"],
    );
    let platform_addr = address_in(&platform.line("listening on ", START));
    // The orchestrator's first connection to the platform is cut after 6 KB.
    let (platform_proxy, platform_cut) = cutting_proxy(platform_addr, 6_000).await;
    let platform_url = format!("ws://{platform_proxy}/ws/orchestrator");
    let orchestrator = Program::start(
        "orchestrator",
        &[
            "--platform-url",
            &platform_url,
            "--token",
            "p-token",
            "--listen",
            "127.0.0.1:0",
            "--agent-token",
            "a-token",
            "--role",
            "worker",
            "--deny-dashboard-write",
            "deleteRun",
            "--capability",
            r#"futureFlag={"since":2}"#,
        ],
    );
    let orchestrator_addr = address_in(&orchestrator.line("listening on ", START));
    orchestrator.line("connected to the platform", START);
    // The agent's first connection to the orchestrator is cut after 4 KB.
    let (agent_proxy, agent_cut) = cutting_proxy(orchestrator_addr, 4_000).await;
    let url = format!("ws://{agent_proxy}/ws/agent");

    let all = messages();
    let mut acked = BTreeSet::new();
    let mut nacked = Vec::new();
    let mut connections = 0;
    let deadline = tokio::time::Instant::now() + RUN;
    while acked.len() + nacked.len() < all.len() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "acked {} nacked {}",
            acked.len(),
            nacked.len()
        );
        let mut agent = connect(&url, "a-token").await;
        connections += 1;
        // Everything not answered yet, again (the same ids) on each connection.
        let mut sent = false;
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, agent.events.recv()).await {
            match event {
                Event::Authenticated { .. } if !sent => {
                    sent = true;
                    let answered: BTreeSet<&String> = acked
                        .iter()
                        .chain(nacked.iter().map(|(id, _)| id))
                        .collect();
                    for (kind, id) in all.iter().filter(|(_, id)| !answered.contains(id)) {
                        agent.requests.send(message(kind, id)).await.expect("sent");
                    }
                }
                Event::Acked { message_id } => {
                    acked.insert(message_id);
                }
                Event::Nacked { message_id, reason } => nacked.push((message_id, reason)),
                _ => {}
            }
            if acked.len() + nacked.len() == all.len() {
                break;
            }
        }
        drop(agent.requests);
        let _ = agent.driver.await;
    }
    assert!(agent_cut.load(std::sync::atomic::Ordering::SeqCst));
    assert!(platform_cut.load(std::sync::atomic::Ordering::SeqCst));
    assert!(connections >= 2, "the agent reconnected after its cut");
    let expected: BTreeSet<String> = (0..300).map(|i| format!("m-{i}")).collect();
    assert_eq!(acked, expected);
    nacked.sort();
    let nacked_ids: Vec<&str> = nacked.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(nacked_ids, ["u-0", "u-1", "u-2", "u-3", "u-4"]);
    assert_eq!(nacked[0].1, "platform: unhandled message type job.unknown");

    // The orchestrator reconnected and passed its capabilities up each time, the flag
    // this version does not know included; the platform saw every message.
    let platform_output = platform.output();
    let authenticated: Vec<&str> = platform_output
        .lines()
        .filter(|l| l.contains(" authenticated, capabilities "))
        .collect();
    assert!(authenticated.len() >= 2, "{platform_output}");
    for line in &authenticated {
        assert!(
            line.ends_with(r#"{"orchRole":"worker","dashboardWrites":{"deleteRun":false},"futureFlag":{"since":2}}"#),
            "{line}"
        );
    }
    let seen: BTreeSet<&str> = platform_output
        .lines()
        .filter_map(|l| {
            l.strip_prefix("message job.progress ")?
                .strip_suffix(" acked")
        })
        .collect();
    assert_eq!(seen.len(), 300);
    assert!(
        orchestrator.output().contains("platform connection ended"),
        "{}",
        orchestrator.output()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_tokens_are_refused_at_both_layers_and_the_orchestrator_stops() {
    let platform = Program::start(
        "platform",
        &["--listen", "127.0.0.1:0", "--token", "p-token"],
    );
    let platform_url = format!(
        "ws://{}/ws/orchestrator",
        address_in(&platform.line("listening on ", START))
    );
    let orchestrator = Program::start(
        "orchestrator",
        &[
            "--platform-url",
            &platform_url,
            "--token",
            "p-token",
            "--listen",
            "127.0.0.1:0",
            "--agent-token",
            "a-token",
        ],
    );
    let url = format!(
        "ws://{}/ws/agent",
        address_in(&orchestrator.line("listening on ", START))
    );
    // An agent with the wrong token: `auth.failure`, then 1008.
    let agent = connect(&url, "not-the-token").await;
    let end = tokio::time::timeout(RUN, agent.driver)
        .await
        .expect("ended")
        .expect("joined");
    assert_eq!(end.code, Some(1008));
    assert!(end.reason.contains("unknown agent token"), "{end:?}");

    // An orchestrator with the wrong platform token stops at once, non-zero, saying why.
    let mut refused = Program::start(
        "orchestrator",
        &[
            "--platform-url",
            &platform_url,
            "--token",
            "wrong",
            "--listen",
            "127.0.0.1:0",
            "--agent-token",
            "a-token",
        ],
    );
    let status = tokio::task::spawn_blocking(move || {
        let status = refused.wait(RUN);
        (status, refused.output())
    })
    .await
    .expect("joined");
    assert!(!status.0.success());
    assert!(
        status
            .1
            .contains("stopped: authentication failed: unknown token"),
        "{}",
        status.1
    );
    assert_eq!(
        status.1.matches("platform connection ended").count(),
        1,
        "no retry: {}",
        status.1
    );
}
