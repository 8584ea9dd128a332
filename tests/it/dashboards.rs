//! The example brain's run stream (`/ws`, document 003), its status endpoint and its
//! channel endpoint (`/api/ws?token=`, document 004), fed by the example agent, with the
//! `run-watch` and `dashboard` programs as clients, all on 127.0.0.1 in this process.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use brainwire_channel::{ChannelId, Event, ServerMessage};
use brainwire_examples::agent::{self, AgentOptions, KINDS};
use brainwire_examples::brain::{serve, BrainOptions, BrainStats};
use brainwire_examples::dashboard::{self, DashboardOptions};
use brainwire_examples::run_watch::{self, RunWatchOptions};
use brainwire_examples::transcript::Transcript;
use brainwire_run::{Body, RunMessage, RunStatus, StatusDocument};
use brainwire_sign::Secret;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

const TIMEOUT: Duration = Duration::from_secs(30);

struct Brain {
    addr: SocketAddr,
    options: BrainOptions,
    stats: Arc<BrainStats>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Drop for Brain {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn start_brain() -> Brain {
    start_brain_with(|_| {}).await
}

async fn start_brain_with(configure: impl FnOnce(&mut BrainOptions)) -> Brain {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut options = BrainOptions::new("the-token", Secret::new(vec![7; 32]).unwrap());
    options.send_command = false;
    configure(&mut options);
    let stats = options.stats.clone();
    let server = tokio::spawn(serve(listener, options.clone(), Transcript::none()));
    Brain {
        addr,
        options,
        stats,
        server,
    }
}

/// A plain HTTP/1.1 request; returns the status line and the body.
async fn http(addr: SocketAddr, method: &str, path: &str) -> (String, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8(response[..split].to_vec()).unwrap();
    let status = head.lines().next().unwrap().to_owned();
    (status, response[split + 4..].to_vec())
}

async fn status(addr: SocketAddr) -> StatusDocument {
    let (line, body) = http(addr, "GET", "/api/brain/status/ws").await;
    assert_eq!(line, "HTTP/1.1 200 OK");
    serde_json::from_slice(&body).unwrap()
}

/// Polls the status endpoint until the run stream has `clients` clients.
async fn wait_for_run_clients(addr: SocketAddr, clients: u64) {
    tokio::time::timeout(TIMEOUT, async {
        while status(addr).await.websocket.connected_clients != clients {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the run stream reaches the client count");
}

/// The run status and message type each kind the example agent reports becomes.
fn expected_run(kind: &str) -> (&'static str, RunStatus) {
    match kind {
        "task.started" => ("run_update", RunStatus::InProgress),
        "task.succeeded" => ("run_complete", RunStatus::Completed),
        "task.failed" => ("run_failed", RunStatus::Failed),
        "task.retried" => ("run_update", RunStatus::Queued),
        other => panic!("the example agent does not report {other}"),
    }
}

#[tokio::test]
async fn run_stream_and_channels_follow_what_the_agent_reports() {
    const EVENTS: usize = 12;
    let brain = start_brain().await;
    let (runs_in, mut runs) = mpsc::unbounded_channel();
    let mut watch = RunWatchOptions::new(format!("ws://{}/ws", brain.addr));
    watch.stop_after_runs = Some(EVENTS);
    let watcher = tokio::spawn(run_watch::run(watch, runs_in));

    let project: ChannelId = format!("project:{}", brain.options.project_id)
        .parse()
        .unwrap();
    let agent_channel: ChannelId = format!("agent:{}", brain.options.agents[0].agent_id)
        .parse()
        .unwrap();
    // Every event changes a task's status on the project channel; started, succeeded
    // and failed ones (three kinds in four) also reach the agent and project channels.
    let agent_events = (0..EVENTS)
        .filter(|i| KINDS[i % KINDS.len()] != "task.retried")
        .count();
    let expected_events = EVENTS + 2 * agent_events;
    let (channel_in, mut channel_messages) = mpsc::unbounded_channel();
    let mut options = DashboardOptions::new(
        format!("ws://{}/api/ws", brain.addr),
        brain.options.dashboard_token.clone(),
        vec![project.clone(), agent_channel.clone()],
    );
    options.stop_after_events = Some(expected_events);
    let dashboard = tokio::spawn(dashboard::run(options, channel_in));

    // Start the agent only once both dashboards are listening.
    let mut subscribed = Vec::new();
    while subscribed.len() < 2 {
        match tokio::time::timeout(TIMEOUT, channel_messages.recv()).await {
            Ok(Some(ServerMessage::Subscribed(channel))) => subscribed.push(channel),
            other => panic!("expected a subscription, got {other:?}"),
        }
    }
    subscribed.sort();
    let mut want = vec![project.clone(), agent_channel.clone()];
    want.sort();
    assert_eq!(subscribed, want);
    wait_for_run_clients(brain.addr, 1).await;

    // A forced disconnect after the first batch: the re-sent batch is stored once and
    // published once.
    let mut agent_options = AgentOptions::new(
        format!("ws://{}/ws/agent", brain.addr),
        "the-token",
        Secret::new(vec![7; 32]).unwrap(),
        EVENTS,
    );
    agent_options.events_per_batch = 4;
    agent_options.drop_after_batches = Some(1);
    let prefix = agent_options.task_prefix.clone();
    let report = tokio::time::timeout(TIMEOUT, agent::run(agent_options, Transcript::none()))
        .await
        .expect("the agent finishes")
        .unwrap();
    assert_eq!((report.acked_events, report.connections), (EVENTS, 2));

    let board = tokio::time::timeout(TIMEOUT, watcher)
        .await
        .expect("run-watch sees every run")
        .unwrap()
        .unwrap();
    let mut received = Vec::new();
    while let Ok(message) = runs.try_recv() {
        received.push(message);
    }
    let (greeting, updates): (Vec<RunMessage>, Vec<RunMessage>) = received
        .into_iter()
        .partition(|m| matches!(m.body, Body::Connected { .. }));
    assert_eq!(greeting.len(), 1, "one connection, one greeting");
    assert_eq!(updates.len(), EVENTS, "one run message per stored event");
    for (i, kind) in (0..EVENTS).map(|i| (i, KINDS[i % KINDS.len()])) {
        let task = format!("{prefix}-task-{i}");
        let message = updates
            .iter()
            .find(|m| m.body.run_data().and_then(|d| d.id.as_deref()) == Some(task.as_str()))
            .unwrap_or_else(|| panic!("no run message for {task}"));
        let (message_type, status) = expected_run(kind);
        assert_eq!(message.body.message_type(), message_type, "{task} ({kind})");
        let data = message.body.run_data().unwrap();
        assert_eq!(data.status.as_ref(), Some(&status), "{task}");
        assert_eq!(data.task_id.as_deref(), Some(task.as_str()));
        assert_eq!(board.get(&task).unwrap().status.as_ref(), Some(&status));
        match status {
            RunStatus::InProgress => assert!(data.started_at.is_some()),
            RunStatus::Completed => assert!(data.completed_at.is_some()),
            RunStatus::Failed => assert!(data.error.is_some()),
            _ => {}
        }
    }
    assert_eq!(board.len(), EVENTS);

    tokio::time::timeout(TIMEOUT, dashboard)
        .await
        .expect("the dashboard sees every event")
        .unwrap()
        .unwrap();
    let mut per_type = BTreeMap::<String, usize>::new();
    while let Ok(message) = channel_messages.try_recv() {
        let ServerMessage::Event(event) = message else {
            panic!("only events after the subscriptions: {message:?}");
        };
        if let Event::TaskStatusChanged(change) = &event {
            assert!(change.task_id.starts_with(&prefix));
            assert_eq!(change.old_status, "unknown", "each task reported once");
        }
        *per_type.entry(event.event_type().to_owned()).or_default() += 1;
    }
    let kind_count = |kind: &str| {
        (0..EVENTS)
            .filter(|i| KINDS[i % KINDS.len()] == kind)
            .count()
    };
    let expected: BTreeMap<String, usize> = [
        ("task.status_changed", EVENTS),
        ("agent.spawned", 2 * kind_count("task.started")),
        ("agent.completed", 2 * kind_count("task.succeeded")),
        ("agent.failed", 2 * kind_count("task.failed")),
    ]
    .into_iter()
    .map(|(t, n)| (t.to_owned(), n))
    .collect();
    assert_eq!(per_type, expected);

    // Published once per stored event, however often the batch came: the task channels
    // (no subscribers) count too.
    assert_eq!(brain.stats.stored_events.load(Ordering::SeqCst), EVENTS);
    assert_eq!(brain.stats.run_messages.load(Ordering::SeqCst), EVENTS);
    assert_eq!(
        brain.stats.channel_events.load(Ordering::SeqCst),
        2 * EVENTS + 2 * agent_events
    );
    // run-watch closed: the status endpoint counts it gone.
    wait_for_run_clients(brain.addr, 0).await;
}

async fn next_run_message<S>(socket: &mut S) -> RunMessage
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let message = tokio::time::timeout(TIMEOUT, socket.next()).await.unwrap();
    brainwire_run::decode(&message.unwrap().unwrap().into_data()).unwrap()
}

#[tokio::test]
async fn the_run_stream_greets_and_echoes_json_only() {
    let brain = start_brain().await;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", brain.addr))
        .await
        .unwrap();
    let greeting = next_run_message(&mut socket).await;
    assert!(matches!(greeting.body, Body::Connected { .. }));

    socket
        .send(Message::text(r#"{"test": "Hello Brain"}"#))
        .await
        .unwrap();
    // Not JSON: no echo. The next echo is the one for the valid message after it.
    socket.send(Message::text("{not json")).await.unwrap();
    socket.send(Message::text("[1, 2.50]")).await.unwrap();
    let mut echoes = Vec::new();
    for _ in 0..2 {
        let message = next_run_message(&mut socket).await;
        let Body::Echo(data) = message.body else {
            panic!("expected an echo, got {message:?}");
        };
        echoes.push(data.as_str().to_owned());
    }
    assert_eq!(echoes, [r#"{"test": "Hello Brain"}"#, "[1, 2.50]"]);
    assert_eq!(status(brain.addr).await.websocket.connected_clients, 1);
}

#[tokio::test]
async fn the_channel_endpoint_refuses_a_wrong_token() {
    let brain = start_brain().await;
    let (sink, _messages) = mpsc::unbounded_channel();
    let options = DashboardOptions::new(
        format!("ws://{}/api/ws", brain.addr),
        "not-the-token",
        vec!["task:t-1".parse().unwrap()],
    );
    let error = tokio::time::timeout(TIMEOUT, dashboard::run(options, sink))
        .await
        .unwrap()
        .unwrap_err()
        .to_string();
    assert!(error.contains("401"), "{error}");
}

#[tokio::test]
async fn plain_http_requests_get_plain_answers() {
    let brain = start_brain().await;
    let (line, body) = http(brain.addr, "GET", "/api/brain/status/ws").await;
    assert_eq!(line, "HTTP/1.1 200 OK");
    let status: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        status,
        serde_json::json!({"success": true, "websocket": {"active": true, "connected_clients": 0, "endpoint": "/ws"}, "agents": {}})
    );
    for (method, path, expected) in [
        ("POST", "/api/brain/status/ws", "405 Method Not Allowed"),
        ("GET", "/nowhere", "404 Not Found"),
        ("GET", "/ws", "426 Upgrade Required"),
        ("GET", "/ws/agent", "426 Upgrade Required"),
    ] {
        let (line, _) = http(brain.addr, method, path).await;
        assert_eq!(line, format!("HTTP/1.1 {expected}"), "{method} {path}");
    }
}

/// `run-watch` says goodbye with 1000 once it has seen what it waited for (not a bare
/// close frame, which a server reads as 1005, "no status").
#[tokio::test]
async fn run_watch_closes_with_1000_when_done() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        for message in [
            r#"{"type":"connected","data":{"message":"hi"},"timestamp":"2026-02-06T01:30:00.000Z"}"#,
            r#"{"type":"run_update","data":{"id":"t","status":"queued"},"timestamp":"2026-02-06T01:30:00.000Z"}"#,
        ] {
            ws.send(Message::text(message)).await.unwrap();
        }
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                _ => return None,
            }
        }
    });
    let mut watch = RunWatchOptions::new(format!("ws://{addr}/ws"));
    watch.stop_after_runs = Some(1);
    let (sink, _messages) = mpsc::unbounded_channel();
    let board = tokio::time::timeout(TIMEOUT, run_watch::run(watch, sink))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(board.len(), 1);
    let code = tokio::time::timeout(TIMEOUT, server)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(code, Some(1000));
}

/// With `--run-stream-token`, the run stream and its status document refuse a reader
/// without the token, and take it percent-encoded in the query or as a bearer token.
#[tokio::test]
async fn the_run_stream_token_guards_the_stream_and_the_status_document() {
    let brain = start_brain_with(|options| options.run_stream_token = Some("rs/t+1=".into())).await;
    let (status, _) = http(brain.addr, "GET", "/api/brain/status/ws").await;
    assert!(status.contains("401"), "{status}");
    let (status, _) = http(
        brain.addr,
        "GET",
        "/api/brain/status/ws?token=rs%2Ft%2B1%3D",
    )
    .await;
    assert!(status.contains("200"), "{status}");
    let (status, _) = http(brain.addr, "GET", "/metrics").await;
    assert!(status.contains("401"), "{status}");

    let refused = tokio_tungstenite::connect_async(format!("ws://{}/ws", brain.addr)).await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(response)) = refused else {
        panic!("an unauthenticated reader was let in");
    };
    assert_eq!(response.status().as_u16(), 401);
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{}/ws", brain.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", "Bearer rs/t+1=".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let greeting = tokio::time::timeout(TIMEOUT, socket.next()).await.unwrap();
    assert!(
        matches!(greeting, Some(Ok(Message::Text(_)))),
        "{greeting:?}"
    );
}

/// A dashboard token holding `+`, `/` and `=` arrives percent-encoded in `?token=`.
#[tokio::test]
async fn the_dashboard_token_is_percent_decoded() {
    let brain = start_brain_with(|options| options.dashboard_token = "d+t/1=".into()).await;
    let url = format!("ws://{}/api/ws?token=d%2Bt%2F1%3D", brain.addr);
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let channel = format!("project:{}", brain.options.project_id);
    let subscribe = format!(r#"{{"type":"subscribe","channelId":"{channel}"}}"#);
    socket.send(Message::text(subscribe)).await.unwrap();
    let reply = tokio::time::timeout(TIMEOUT, socket.next()).await.unwrap();
    let Some(Ok(Message::Text(reply))) = reply else {
        panic!("{reply:?}")
    };
    assert!(reply.contains(r#""type":"subscribed""#), "{reply}");
}

/// Three batches of 2,500 events fan out into thousands of channel messages at once: a
/// dashboard that reads promptly keeps up and is never closed as too slow (the outbox
/// is counted in bytes; a cap of a few hundred messages closed it with 1013).
#[tokio::test]
async fn a_prompt_dashboard_survives_a_burst_of_7500_events() {
    const EVENTS: usize = 7_500;
    let brain = start_brain().await;
    let project: ChannelId = format!("project:{}", brain.options.project_id)
        .parse()
        .unwrap();
    // Every event changes a task's status; three kinds in four also give an agent event.
    let agent_events = (0..EVENTS)
        .filter(|i| KINDS[i % KINDS.len()] != "task.retried")
        .count();
    let expected = EVENTS + agent_events;
    let (channel_in, mut channel_messages) = mpsc::unbounded_channel();
    let mut options = DashboardOptions::new(
        format!("ws://{}/api/ws", brain.addr),
        brain.options.dashboard_token.clone(),
        vec![project],
    );
    options.stop_after_events = Some(expected);
    let dashboard = tokio::spawn(dashboard::run(options, channel_in));
    match tokio::time::timeout(TIMEOUT, channel_messages.recv()).await {
        Ok(Some(ServerMessage::Subscribed(_))) => {}
        other => panic!("expected a subscription, got {other:?}"),
    }
    let mut agent_options = AgentOptions::new(
        format!("ws://{}/ws/agent", brain.addr),
        "the-token",
        Secret::new(vec![7; 32]).unwrap(),
        EVENTS,
    );
    agent_options.events_per_batch = 2_500;
    let report = tokio::time::timeout(
        Duration::from_secs(120),
        agent::run(agent_options, Transcript::none()),
    )
    .await
    .expect("the agent finishes")
    .unwrap();
    assert_eq!(report.acked_events, EVENTS);
    let connections = tokio::time::timeout(Duration::from_secs(120), dashboard)
        .await
        .expect("the dashboard sees every event")
        .unwrap()
        .unwrap();
    assert_eq!(connections, 1, "never dropped as too slow");
}

/// `GET /metrics` gives the brain's counters in the Prometheus text format.
#[tokio::test]
async fn metrics_count_what_the_agent_reported() {
    let brain = start_brain().await;
    let options = AgentOptions::new(
        format!("ws://{}/ws/agent", brain.addr),
        "the-token",
        Secret::new(vec![7; 32]).unwrap(),
        6,
    );
    let report = tokio::time::timeout(TIMEOUT, agent::run(options, Transcript::none()))
        .await
        .expect("the agent finishes")
        .unwrap();
    assert_eq!(report.acked_events, 6);
    let (status, body) = http(brain.addr, "GET", "/metrics").await;
    assert!(status.contains("200"), "{status}");
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains("# TYPE brainwire_stored_events_total counter"),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l == "brainwire_stored_events_total 6"),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l == "brainwire_sessions_total 1"),
        "{text}"
    );
}

/// A request head dripped a few bytes at a time is cut off at the brain's head deadline,
/// and one larger than the cap is refused: a slow or huge head cannot hold a connection.
#[tokio::test]
async fn a_dripped_request_head_is_cut_off_at_the_deadline() {
    let brain =
        start_brain_with(|options| options.head_deadline = Duration::from_millis(300)).await;
    let mut stream = tokio::net::TcpStream::connect(brain.addr).await.unwrap();
    stream.write_all(b"GET /ws HTTP/1.1\r\n").await.unwrap();
    let started = tokio::time::Instant::now();
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(5) {
        if stream.write_all(b"X-Drip: a\r\n").await.is_err() {
            closed = true;
            break;
        }
        let mut answer = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(50), stream.read(&mut answer)).await {
            Ok(Ok(0) | Err(_)) => {
                closed = true;
                break;
            }
            // 408, then the close.
            Ok(Ok(_)) => {}
            Err(_) => {}
        }
    }
    assert!(
        closed,
        "a dripping client still held its connection after 5 s"
    );
    assert!(started.elapsed() < Duration::from_secs(3));

    let mut stream = tokio::net::TcpStream::connect(brain.addr).await.unwrap();
    let huge = format!(
        "GET /ws HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(32 * 1024)
    );
    let _ = stream.write_all(huge.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(TIMEOUT, stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 431"),
        "a 32 KiB head was answered {answer:?}"
    );
}
