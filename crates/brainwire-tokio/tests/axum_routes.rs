//! The axum routes (feature `axum`) and the dashboard servers behind them, over loopback:
//! an agent served by `agent_route`, its connection cap, plain requests, and the run
//! stream's limits (a client that answers no ping, a client that stops reading).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use brainwire_close::StopReason;
use brainwire_core::{JsonObject, WallClock};
use brainwire_run::{Body, Broadcaster, RunData};
use brainwire_sign::{Keyring, Secret};
use brainwire_test_support::brain::acknowledge_every_batch;
use brainwire_tokio::http::{HeaderMap, Uri};
use brainwire_tokio::{
    agent_route, Agent, AgentError, AgentOptions, AgentTokens, BrainOptions, ChannelServer,
    DashboardOptions, RunStreamServer,
};
use brainwire_v2::{AgentGrant, BrainConfig, Hello};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(20);

fn secret() -> Secret {
    Secret::new(b"axum-routes-test-secret-0123456789".to_vec()).unwrap()
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

/// Serves `router` on a loopback port; gives its address.
async fn serve(router: Router) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

fn agents(options: BrainOptions) -> Router {
    Router::new().route(
        "/ws/agent",
        agent_route(tokens(), options, acknowledge_every_batch),
    )
}

fn event(i: usize) -> JsonObject {
    JsonObject::from_text(format!(r#"{{"task_id":"t-{i}","kind":"task.succeeded"}}"#)).unwrap()
}

/// A plain HTTP/1.1 request; gives the status line and the headers.
async fn plain_request(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn an_agent_served_by_the_route_is_acknowledged_and_a_wrong_token_gets_4401() {
    let addr = serve(agents(BrainOptions::new(BrainConfig::new("test")))).await;
    let url = format!("ws://{addr}/ws/agent");
    let hello = Hello::new("test/1.0", "bare");
    let agent = Agent::spawn(AgentOptions::new(
        &url,
        "good-token",
        secret(),
        hello.clone(),
    ));
    for i in 0..300 {
        agent.send_event(event(i)).await.unwrap();
    }
    let report = timeout(WAIT, agent.shutdown(Duration::from_secs(10)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((report.acked_events, report.unacked_events), (300, 0));

    let refused = Agent::spawn(AgentOptions::new(&url, "wrong-token", secret(), hello));
    let error = timeout(WAIT, refused.stopped()).await.unwrap().unwrap_err();
    assert!(
        matches!(
            error,
            AgentError::Stopped(StopReason::Configuration { code: 4401 })
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn past_max_connections_an_upgrade_gets_503() {
    let mut options = BrainOptions::new(BrainConfig::new("test"));
    options.max_connections = 1;
    let addr = serve(agents(options)).await;
    let url = format!("ws://{addr}/ws/agent");
    // An agent with a good token holds the one place (a refused one leaves at once).
    let mut request = url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", "Bearer good-token".parse().unwrap());
    let (_held, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    match tokio_tungstenite::connect_async(&url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503);
        }
        other => panic!("a second connection was not refused: {other:?}"),
    }
}

#[tokio::test]
async fn a_plain_request_to_a_websocket_route_gets_426_naming_websocket() {
    let addr = serve(agents(BrainOptions::new(BrainConfig::new("test")))).await;
    let response = plain_request(addr, "/ws/agent").await;
    assert!(
        response.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
        "{response}"
    );
    assert!(
        response.to_ascii_lowercase().contains("upgrade: websocket"),
        "{response}"
    );
}

fn run_stream(options: DashboardOptions) -> RunStreamServer {
    RunStreamServer::new(Broadcaster::new("hello", WallClock::system()), options)
}

fn run_router(server: &RunStreamServer) -> Router {
    Router::new()
        .route("/ws", server.route())
        .route("/api/brain/status/ws", server.status_route("/ws"))
}

#[tokio::test]
async fn a_run_stream_client_that_answers_no_ping_is_dropped_and_one_that_does_stays() {
    let mut options = DashboardOptions::default();
    options.ping_interval = Duration::from_millis(200);
    options.pong_timeout = Duration::from_millis(300);
    let server = run_stream(options);
    let addr = serve(run_router(&server)).await;
    let url = format!("ws://{addr}/ws");
    // Never polled, so it answers no ping (a vanished client).
    let (mut silent, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    // Reads all along, so tungstenite answers each ping.
    let (listening, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let (_sink, mut stream) = listening.split();
    let pings = tokio::spawn(async move {
        let mut pings = 0;
        while let Some(Ok(message)) = stream.next().await {
            if matches!(message, Message::Ping(_)) {
                pings += 1;
            }
        }
        pings
    });
    let deadline = tokio::time::Instant::now() + WAIT;
    while server.connected() != 2 {
        assert!(tokio::time::Instant::now() < deadline, "both never joined");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(server.connected(), 1, "the silent client is still served");
    // What the silent client was sent: the greeting, a ping, then 1001.
    let mut close_code = None;
    while let Ok(Some(Ok(message))) = timeout(Duration::from_secs(5), silent.next()).await {
        if let Message::Close(frame) = message {
            close_code = frame.map(|f| u16::from(f.code));
            break;
        }
    }
    assert_eq!(close_code, Some(1001));
    let document = plain_request(addr, "/api/brain/status/ws").await;
    assert!(document.contains(r#""connected_clients":1"#), "{document}");
    pings.abort();
}

#[tokio::test]
async fn a_run_stream_client_that_stops_reading_is_dropped_at_its_byte_limit() {
    let mut options = DashboardOptions::default();
    options.queue_bytes = 64 * 1024;
    let stats = Arc::clone(&options.stats);
    let server = run_stream(options);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepting = server.clone();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        accepting.accept(stream).await
    });
    let (mut client, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    // The greeting: the client has joined.
    assert!(matches!(
        client.next().await.unwrap().unwrap(),
        Message::Text(_)
    ));
    // Publications queue without the client reading (and, on this one-thread runtime,
    // without the server's task sending) until the client passes 64 KiB.
    let mut delivered = 0;
    for i in 0..10_000 {
        let body = Body::RunUpdate(RunData::system_message(format!("update {i:05}")));
        match server.publish(body) {
            1 => delivered += 1,
            0 => break,
            n => panic!("{n} recipients"),
        }
    }
    assert!(
        (100..10_000).contains(&delivered),
        "dropped after {delivered} messages"
    );
    assert_eq!(server.connected(), 0);
    // It gets what was queued, then 1013.
    let mut close_code = None;
    while let Ok(Some(Ok(message))) = timeout(WAIT, client.next()).await {
        if let Message::Close(frame) = message {
            close_code = frame.map(|f| u16::from(f.code));
            break;
        }
    }
    assert_eq!(close_code, Some(1013));
    assert_eq!(stats.snapshot().dropped, 1);
}

#[tokio::test]
async fn the_channel_route_answers_401_unless_the_request_names_a_user() {
    let hub =
        brainwire_channel::ChannelHub::new(|_: &str, _: &brainwire_channel::ChannelId| true, 8);
    let server = ChannelServer::new(hub, DashboardOptions::default());
    let authenticate = |uri: &Uri, _: &HeaderMap| {
        (uri.query() == Some("token=right")).then(|| "user-1".to_owned())
    };
    let addr = serve(Router::new().route("/api/ws", server.route(authenticate))).await;
    match tokio_tungstenite::connect_async(format!("ws://{addr}/api/ws?token=wrong")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401);
        }
        other => panic!("not refused: {other:?}"),
    }
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/api/ws?token=right"))
            .await
            .unwrap();
    use futures_util::SinkExt;
    socket
        .send(Message::text(
            r#"{"type":"subscribe","channelId":"agent:a-1"}"#,
        ))
        .await
        .unwrap();
    let reply = timeout(WAIT, socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        reply.to_text().unwrap(),
        r#"{"type":"subscribed","channelId":"agent:a-1"}"#
    );
    assert_eq!(
        server.subscribers(&"agent:a-1".parse::<brainwire_channel::ChannelId>().unwrap()),
        1
    );
}

#[tokio::test]
async fn a_run_stream_client_that_stops_reading_frees_its_connection_after_the_write_timeout() {
    let mut options = DashboardOptions::default();
    options.queue_bytes = 256 * 1024 * 1024;
    options.write_timeout = Duration::from_millis(200);
    let stats = Arc::clone(&options.stats);
    let server = run_stream(options);
    let addr = serve(run_router(&server)).await;
    let (mut client, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    assert!(matches!(
        client.next().await.unwrap().unwrap(),
        Message::Text(_)
    ));
    // 64 MiB for a client that reads nothing more: far past what the socket buffers
    // hold, well within its queue, so only the write timeout can end the connection.
    let text = "x".repeat(64 * 1024);
    for _ in 0..1024 {
        assert_eq!(
            server.publish(Body::RunUpdate(RunData::system_message(text.clone()))),
            1
        );
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while stats.snapshot().open_connections != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the connection is still held"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.connected(), 0);
    drop(client);
}
