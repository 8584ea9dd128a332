//! The agent client and the brain driver against each other over loopback sockets:
//! delivery, commands, backpressure, reconnects, failover, refusals, limits, shutdown.

use std::collections::HashSet;
use std::time::Duration;

use brainwire_close::{Backoff, CloseFrame, StandardCode, StopReason};
use brainwire_core::JsonObject;
use brainwire_sign::{Keyring, Secret};
use brainwire_tokio::{
    accept_agent, serve, AcceptError, Agent, AgentConnection, AgentError, AgentOptions,
    AgentTokens, BrainOptions, Update,
};
use brainwire_v2::{AgentGrant, BrainConfig, BrainEvent, Command, CommandResult, Hello};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(20);

fn secret() -> Secret {
    Secret::new(b"loopback-test-secret-0123456789a".to_vec()).unwrap()
}

fn tokens() -> AgentTokens {
    AgentTokens::new().with(
        "good-token",
        AgentGrant {
            agent_id: "agent-1".into(),
            project_id: "project-1".into(),
            keys: Keyring::new(secret()),
        },
    )
}

fn agent_options(url: String, token: &str) -> AgentOptions {
    let mut options = AgentOptions::new(url, token, secret(), Hello::new("test/1.0", "bare"));
    options.backoff = Backoff::new(Duration::from_millis(20), Duration::from_millis(200));
    options
}

fn event(i: usize) -> JsonObject {
    JsonObject::from_text(format!(r#"{{"task_id":"t-{i}","kind":"task.succeeded"}}"#)).unwrap()
}

/// What a brain application did, as the test sees it.
#[derive(Debug)]
enum Seen {
    Events(Vec<String>),
    Completed,
    Ended(Option<u16>),
}

/// How the test brain's application behaves on each connection (numbered from 1).
#[derive(Clone, Copy)]
struct Behaviour {
    ack: bool,
    command_on_hello: bool,
    /// Close this connection with 1011 after its first batch, unacknowledged.
    restart_first_connection: bool,
}

async fn start_brain(
    behaviour: Behaviour,
    options: BrainOptions,
) -> (String, mpsc::UnboundedReceiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws/agent", listener.local_addr().unwrap());
    let (seen, seen_rx) = mpsc::unbounded_channel();
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    tokio::spawn(serve(listener, 16, move |stream, _| {
        let (seen, options) = (seen.clone(), options.clone());
        let n = connections.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        async move {
            let Ok(connection) = accept_agent(stream, &tokens(), &options).await else {
                return;
            };
            let code = application(connection, behaviour, n == 1, &seen).await;
            let _ = seen.send(Seen::Ended(code));
        }
    }));
    (url, seen_rx)
}

async fn application(
    mut connection: AgentConnection,
    behaviour: Behaviour,
    first: bool,
    seen: &mpsc::UnboundedSender<Seen>,
) -> Option<u16> {
    while let Some(event) = connection.next_event().await {
        match event {
            BrainEvent::Hello { .. } if behaviour.command_on_hello => {
                let target = JsonObject::from_text(r#"{"task_id":"t-1"}"#).unwrap();
                connection
                    .send_command(Command::new("cancel_task", target))
                    .await
                    .unwrap();
            }
            BrainEvent::EventBatch { batch_id, events } => {
                let n = events.len() as u64;
                let texts = events.iter().map(|e| e.as_str().to_owned()).collect();
                let _ = seen.send(Seen::Events(texts));
                if first && behaviour.restart_first_connection {
                    let restart = CloseFrame::new(StandardCode::InternalError, "restart");
                    return connection.close(restart).await.close_code;
                }
                if behaviour.ack {
                    connection.ack_batch(batch_id, n, n, 0).await.unwrap();
                }
            }
            BrainEvent::CommandCompleted { .. } => {
                let _ = seen.send(Seen::Completed);
            }
            _ => {}
        }
    }
    connection.finished().await.close_code
}

const ACKING: Behaviour = Behaviour {
    ack: true,
    command_on_hello: false,
    restart_first_connection: false,
};

fn brain_options() -> BrainOptions {
    BrainOptions::new(BrainConfig::new("test-brain"))
}

/// Distinct events the brain saw, and whether a command completed.
fn drain(seen: &mut mpsc::UnboundedReceiver<Seen>) -> (HashSet<String>, usize, Vec<Option<u16>>) {
    let (mut events, mut completed, mut ends) = (HashSet::new(), 0, Vec::new());
    while let Ok(item) = seen.try_recv() {
        match item {
            Seen::Events(texts) => events.extend(texts),
            Seen::Completed => completed += 1,
            Seen::Ended(code) => ends.push(code),
        }
    }
    (events, completed, ends)
}

#[tokio::test]
async fn events_and_a_command_round_trip_and_shutdown_waits_for_every_ack() {
    let behaviour = Behaviour {
        command_on_hello: true,
        ..ACKING
    };
    let options = brain_options();
    let brain_stats = std::sync::Arc::clone(&options.stats);
    let (url, mut seen) = start_brain(behaviour, options).await;
    let mut agent = Agent::spawn(agent_options(url, "good-token"));
    for i in 0..1200 {
        agent.send_event(event(i)).await.unwrap();
    }
    let command = loop {
        match timeout(WAIT, agent.next_update()).await.unwrap().unwrap() {
            Update::Command(command) => break command,
            _ => continue,
        }
    };
    assert_eq!(command.command.action, "cancel_task");
    command
        .complete(CommandResult::success(None))
        .await
        .unwrap();
    let report = timeout(WAIT, agent.shutdown(Duration::from_secs(10)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((report.acked_events, report.unacked_events), (1200, 0));
    assert_eq!(report.stats.connections, 1);
    // Shutdown closed with 1000 after the last ack.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (events, completed, ends) = drain(&mut seen);
    assert_eq!(events.len(), 1200);
    assert_eq!(completed, 1, "the command's result reached the brain");
    assert_eq!(ends, [Some(1000)]);
    // Both sides counted the same traffic, and the close.
    let brain = brain_stats.snapshot();
    assert_eq!(
        (report.stats.frames_out, report.stats.bytes_out),
        (brain.frames_in, brain.bytes_in)
    );
    assert_eq!(
        (report.stats.frames_in, report.stats.bytes_in),
        (brain.frames_out, brain.bytes_out)
    );
    assert_eq!(report.stats.closes.get(&1000), Some(&1));
    assert_eq!((brain.connections, brain.open_connections), (1, 0));
    assert_eq!(brain.closes.get(&1000), Some(&1));
}

#[tokio::test]
async fn send_event_waits_while_the_brain_does_not_acknowledge() {
    let quiet = Behaviour {
        ack: false,
        ..ACKING
    };
    let (url, _seen) = start_brain(quiet, brain_options()).await;
    let mut options = agent_options(url, "good-token");
    options.config.max_buffered_events = 20;
    options.config.max_batches_in_flight = 1;
    options.event_queue = 5;
    let agent = Agent::spawn(options);
    let mut sent = 0;
    for i in 0..200 {
        match timeout(Duration::from_millis(300), agent.send_event(event(i))).await {
            Ok(result) => {
                result.unwrap();
                sent += 1;
            }
            Err(_) => break,
        }
    }
    // 20 held by the session, 5 in the queue, one in the driver's hands at most.
    assert!((20..=26).contains(&sent), "{sent} events taken");
}

#[tokio::test]
async fn a_restarted_brain_gets_again_what_it_did_not_acknowledge() {
    let behaviour = Behaviour {
        restart_first_connection: true,
        ..ACKING
    };
    let (url, mut seen) = start_brain(behaviour, brain_options()).await;
    let agent = Agent::spawn(agent_options(url, "good-token"));
    for i in 0..50 {
        agent.send_event(event(i)).await.unwrap();
    }
    let report = timeout(WAIT, agent.shutdown(Duration::from_secs(10)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.unacked_events, 0);
    assert_eq!(report.stats.connections, 2, "reconnected after the 1011");
    let (events, _, ends) = drain(&mut seen);
    assert_eq!(events.len(), 50);
    assert_eq!(ends.first(), Some(&Some(1011)));
}

#[tokio::test]
async fn a_refused_token_stops_the_agent_with_the_brains_code() {
    let (url, _seen) = start_brain(ACKING, brain_options()).await;
    let agent = Agent::spawn(agent_options(url, "wrong-token"));
    let error = timeout(WAIT, agent.stopped()).await.unwrap().unwrap_err();
    assert!(
        matches!(
            error,
            AgentError::Stopped(StopReason::Configuration { code: 4401 })
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_agent_fails_over_to_the_next_url() {
    let (url, _seen) = start_brain(ACKING, brain_options()).await;
    let dead = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("ws://{}/ws/agent", listener.local_addr().unwrap())
    };
    let options = agent_options(dead, "good-token").with_fallback(url.clone());
    let mut agent = Agent::spawn(options);
    let connected = loop {
        match timeout(WAIT, agent.next_update()).await.unwrap().unwrap() {
            Update::Connected { url, .. } => break url,
            _ => continue,
        }
    };
    assert_eq!(connected, url);
    agent.send_event(event(0)).await.unwrap();
    let report = timeout(WAIT, agent.shutdown(Duration::from_secs(5)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((report.stats.connections, report.unacked_events), (1, 0));
}

#[tokio::test]
async fn an_upgrade_that_never_comes_is_dropped_at_the_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (stream, _) = listener.accept().await.unwrap();
    let mut options = brain_options();
    options.handshake_timeout = Duration::from_millis(200);
    let outcome = timeout(WAIT, accept_agent(stream, &tokens(), &options))
        .await
        .unwrap();
    assert!(
        matches!(outcome, Err(AcceptError::HandshakeTimeout)),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_message_over_the_frame_size_is_closed_with_1009() {
    let mut config = BrainConfig::new("test-brain");
    config.max_frame_size_bytes = 64 * 1024;
    let (url, mut seen) = start_brain(ACKING, BrainOptions::new(config)).await;
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", "Bearer good-token".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
        .send(Message::text("x".repeat(100_000)))
        .await
        .unwrap();
    let code = loop {
        match timeout(WAIT, socket.next()).await.unwrap() {
            Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => continue,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(code, Some(1009));
    let ended = timeout(WAIT, seen.recv()).await.unwrap();
    assert!(matches!(ended, Some(Seen::Ended(Some(1009)))), "{ended:?}");
}

/// An agent that says hello and then never reads: the brain's writes time out and the
/// connection ends, instead of its task waiting in `send` for ever.
#[tokio::test]
async fn an_agent_that_stops_reading_is_dropped_at_the_write_timeout() {
    // Small socket buffers on both sides (accepted sockets inherit the listener's), so
    // that a few hundred commands fill them.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_send_buffer_size(4096).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(16).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = BrainConfig::new("test-brain");
    config.max_pending_commands = 100_000;
    let mut options = BrainOptions::new(config);
    options.write_timeout = Duration::from_millis(300);
    let brain = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut connection = accept_agent(stream, &tokens(), &options).await.unwrap();
        assert!(matches!(
            connection.next_event().await,
            Some(BrainEvent::Hello { .. })
        ));
        let target =
            JsonObject::from_text(format!(r#"{{"task_id":"{}"}}"#, "t".repeat(200))).unwrap();
        let mut sent = 0;
        while sent < 100_000 {
            if connection
                .send_command(Command::new("cancel_task", target.clone()))
                .await
                .is_err()
            {
                break;
            }
            sent += 1;
        }
        (sent, connection.finished().await)
    });

    let client = tokio::net::TcpSocket::new_v4().unwrap();
    client.set_recv_buffer_size(4096).unwrap();
    let stream = client.connect(addr).await.unwrap();
    let mut request = format!("ws://{addr}/ws/agent")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", "Bearer good-token".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap();
    let hello = brainwire_v2::Frame::new(
        "h-1",
        brainwire_v2::Payload::Hello(Hello::new("t/1", "bare")),
    );
    socket
        .send(Message::text(
            String::from_utf8(brainwire_v2::encode(&hello).to_vec()).unwrap(),
        ))
        .await
        .unwrap();
    // And never read again.
    let (sent, report) = timeout(WAIT, brain)
        .await
        .expect("the brain gave up")
        .unwrap();
    assert!(
        sent < 100_000,
        "the writes stalled and timed out after {sent} commands"
    );
    assert_eq!(
        report.close_code, None,
        "no close frame fits through a full socket"
    );
    drop(socket);
}

/// With the connection cap reached, a new client waits in the backlog and is served as
/// soon as a connection ends.
#[tokio::test]
async fn serve_holds_new_connections_at_the_cap() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, 2, |mut stream, _| async move {
        if stream.write_all(b"k").await.is_ok() {
            let mut byte = [0u8; 1];
            let _ = stream.read(&mut byte).await;
        }
    }));
    let greeted = |mut stream: tokio::net::TcpStream| async move {
        let mut byte = [0u8; 1];
        let read = timeout(Duration::from_millis(300), stream.read_exact(&mut byte)).await;
        (read.is_ok(), stream)
    };
    let (first_ok, first) = greeted(tokio::net::TcpStream::connect(addr).await.unwrap()).await;
    let (second_ok, _second) = greeted(tokio::net::TcpStream::connect(addr).await.unwrap()).await;
    let third = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (third_ok, third) = greeted(third).await;
    assert_eq!((first_ok, second_ok, third_ok), (true, true, false));
    drop(first);
    let (third_ok, _third) = greeted(third).await;
    assert!(third_ok, "served once a slot was free");
}

/// Every connection `serve` hands over has Nagle off: with it on, an ack written after a
/// batch waits for the agent's delayed ACK, and 10,000 events over loopback took 2.4
/// times as long (BENCHMARKS.md).
#[tokio::test]
async fn serve_turns_nagle_off_on_every_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (seen, mut nodelay) = mpsc::channel(4);
    tokio::spawn(serve(listener, 4, move |stream, _| {
        let seen = seen.clone();
        async move {
            let _ = seen.send(stream.nodelay().unwrap()).await;
        }
    }));
    for _ in 0..2 {
        let _client = tokio::net::TcpStream::connect(addr).await.unwrap();
        assert_eq!(timeout(WAIT, nodelay.recv()).await.unwrap(), Some(true));
    }
}

/// A brain that takes the TCP connection but never answers the upgrade: shutdown keeps
/// its grace period instead of waiting out the connect timeout, and reports what was
/// never acknowledged.
#[tokio::test]
async fn shutdown_while_connecting_keeps_its_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws/agent", listener.local_addr().unwrap());
    let mut options = agent_options(url, "good-token");
    options.connect_timeout = Duration::from_secs(60);
    let agent = Agent::spawn(options);
    for i in 0..3 {
        agent.send_event(event(i)).await.unwrap();
    }
    let started = std::time::Instant::now();
    let report = timeout(WAIT, agent.shutdown(Duration::from_millis(200)))
        .await
        .unwrap()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!((report.stats.connections, report.unacked_events), (0, 3));
    drop(listener);
}

#[tokio::test]
async fn an_agent_without_a_url_stops_with_a_typed_error() {
    let mut options = agent_options("ws://127.0.0.1:1/ws/agent".into(), "good-token");
    options.urls.clear();
    let error = timeout(WAIT, Agent::spawn(options).stopped())
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(error, AgentError::NoUrl), "{error:?}");
}

#[tokio::test]
async fn reconnect_closes_with_1001_and_re_sends_what_was_not_acknowledged() {
    let (url, mut seen) = start_brain(ACKING, brain_options()).await;
    let mut agent = Agent::spawn(agent_options(url, "good-token"));
    for i in 0..50 {
        agent.send_event(event(i)).await.unwrap();
    }
    let connected = |update: &Update| matches!(update, Update::Connected { .. });
    while !connected(&timeout(WAIT, agent.next_update()).await.unwrap().unwrap()) {}
    agent.reconnect();
    let mut disconnected = None;
    loop {
        match timeout(WAIT, agent.next_update()).await.unwrap().unwrap() {
            Update::Disconnected { code } => disconnected = Some(code),
            Update::Connected { .. } if disconnected.is_some() => break,
            _ => {}
        }
    }
    assert_eq!(disconnected, Some(Some(1001)));
    for i in 50..100 {
        agent.send_event(event(i)).await.unwrap();
    }
    let report = timeout(WAIT, agent.shutdown(Duration::from_secs(10)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((report.acked_events, report.unacked_events), (100, 0));
    assert_eq!(report.stats.connections, 2);
    assert_eq!(report.stats.closes.get(&1001), Some(&1));
    let (events, _, ends) = drain(&mut seen);
    assert_eq!(events.len(), 100);
    assert_eq!(ends.first(), Some(&Some(1001)), "{ends:?}");
}

/// A registry keeping one connection per agent orders them by `accepted_at`: here the
/// first connection's handler reads its `hello` only after the second connection exists,
/// as a busy runtime may have it, and the instants still say which is newer.
#[tokio::test]
async fn accepted_at_orders_connections_whatever_order_their_handlers_run_in() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws/agent", listener.local_addr().unwrap());
    let (accepted, mut connections) = mpsc::unbounded_channel();
    let options = brain_options();
    tokio::spawn(serve(listener, 16, move |stream, _| {
        let (accepted, options) = (accepted.clone(), options.clone());
        async move {
            if let Ok(connection) = accept_agent(stream, &tokens(), &options).await {
                // Handed over unread, kept open by the test.
                let _ = accepted.send(connection);
            }
        }
    }));
    let mut agent = Agent::spawn(agent_options(url, "good-token"));
    let connected = |update: &Update| matches!(update, Update::Connected { .. });
    while !connected(&timeout(WAIT, agent.next_update()).await.unwrap().unwrap()) {}
    let mut first = timeout(WAIT, connections.recv()).await.unwrap().unwrap();
    agent.reconnect();
    while !connected(&timeout(WAIT, agent.next_update()).await.unwrap().unwrap()) {}
    let second = timeout(WAIT, connections.recv()).await.unwrap().unwrap();
    // Asked of the newer one first: an instant taken when asked would order them wrong.
    let (newer, older) = (second.accepted_at(), first.accepted_at());
    assert!(newer > older, "{newer:?} after {older:?}");
    let late = timeout(WAIT, first.next_event()).await.unwrap();
    assert!(matches!(late, Some(BrainEvent::Hello { .. })), "{late:?}");
    drop(agent);
}
