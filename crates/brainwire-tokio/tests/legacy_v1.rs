//! Legacy v1 agents on the brain's side, over loopback: `any_agent_route` tells v1 from v2
//! by the first frame, acks by `seq`, matches a command to its result, and refuses with
//! document 000's codes; a client that sends nothing is cut off at the deadline.

use std::time::Duration;

use axum::Router;
use brainwire_core::JsonObject;
use brainwire_sign::{Keyring, Secret};
use brainwire_test_support::brain::acknowledge_every_batch;
use brainwire_tokio::{
    any_agent_route, v1_agent_route, Agent, AgentOptions, AgentTokens, AnyAgentConnection,
    BrainOptions,
};
use brainwire_v1::{BrainEvent, Command, CommandVerb};
use brainwire_v2::{AgentGrant, BrainConfig, Hello};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const WAIT: Duration = Duration::from_secs(20);

const HELLO: &str = r#"{"type":"hello","protocol":"v1","agent_name":"web-1","framework":"bare","framework_version":"1","engines":["celery"],"schedulers":[],"capabilities":{},"metadata":{"hostname":"h","pid":1}}"#;

fn secret() -> Secret {
    Secret::new(b"legacy-v1-test-secret-0123456789ab".to_vec()).unwrap()
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

/// A v1 brain application: acks every batch; after the first, sends one command and
/// reports its result on `results`.
async fn v1_brain(connection: AnyAgentConnection, results: tokio::sync::mpsc::Sender<String>) {
    let mut connection = match connection {
        AnyAgentConnection::V1(connection) => connection,
        AnyAgentConnection::V2(connection) => return acknowledge_every_batch(connection).await,
        _ => return,
    };
    let mut sent = false;
    while let Some(event) = connection.next_event().await {
        match event {
            BrainEvent::EventBatch(batch) => {
                connection.ack(batch.seq).await.unwrap();
                if !sent {
                    sent = true;
                    let command =
                        Command::new("cmd-1", CommandVerb::QueryState, JsonObject::default());
                    connection.send_command(command).await.unwrap();
                }
            }
            BrainEvent::CommandCompleted { command, result } => {
                let text = format!("{} {} {}", connection.agent_id(), command.cmd_id, result.ok);
                results.send(text).await.unwrap();
            }
            _ => {}
        }
    }
}

async fn serve(options: BrainOptions) -> (String, tokio::sync::mpsc::Receiver<String>) {
    let (results, received) = tokio::sync::mpsc::channel(8);
    let for_v1 = results.clone();
    let route = any_agent_route(tokens(), options.clone(), move |connection| {
        v1_brain(connection, results.clone())
    });
    let v1_only = v1_agent_route(tokens(), options, move |connection| {
        v1_brain(AnyAgentConnection::V1(connection), for_v1.clone())
    });
    let router = Router::new()
        .route("/ws/agent", route)
        .route("/ws", v1_only);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("ws://{addr}/ws/agent"), received)
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(url: &str, token: &str) -> Socket {
    let mut request = url.into_client_request().unwrap();
    let bearer = format!("Bearer {token}").parse().unwrap();
    request.headers_mut().insert("authorization", bearer);
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

/// The next text frame, or the close code as `close NNNN`.
async fn next(socket: &mut Socket) -> String {
    loop {
        match timeout(WAIT, socket.next()).await.unwrap() {
            Some(Ok(Message::Text(text))) => return text.to_string(),
            Some(Ok(Message::Close(frame))) => {
                return format!("close {}", frame.map_or(0, |f| u16::from(f.code)))
            }
            Some(Ok(_)) => {}
            other => return format!("ended {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_v1_agent_is_acked_by_seq_and_its_command_result_matched_while_v2_still_works() {
    let (url, mut results) = serve(BrainOptions::new(BrainConfig::new("test"))).await;
    let mut v1 = connect(&url, "good-token").await;
    v1.send(Message::text(HELLO)).await.unwrap();
    let batch = r#"{"type":"event_batch","seq":7,"events":[{"event_type":"task_started","task_id":"t-1","engine":"celery","ts":"2026-02-06T01:30:00Z","name":"app.add","args_redacted":[],"kwargs_redacted":{}}]}"#;
    v1.send(Message::text(batch)).await.unwrap();
    assert_eq!(next(&mut v1).await, r#"{"type":"ack","seq":7}"#);
    let command = next(&mut v1).await;
    assert!(
        command.starts_with(r#"{"type":"command","cmd_id":"cmd-1","cmd":"query_state""#),
        "{command}"
    );
    v1.send(Message::text(
        r#"{"type":"command_result","cmd_id":"cmd-1","ok":true,"result":{"workers":1}}"#,
    ))
    .await
    .unwrap();
    let result = timeout(WAIT, results.recv()).await.unwrap().unwrap();
    assert_eq!(result, "agent-1 cmd-1 true");

    // A v2 agent on the same endpoint is told apart by its first frame.
    let agent = Agent::spawn(AgentOptions::new(
        &url,
        "good-token",
        secret(),
        Hello::new("test/1.0", "bare"),
    ));
    for i in 0..50 {
        let event = format!(r#"{{"task_id":"t-{i}","kind":"task.succeeded"}}"#);
        agent
            .send_event(JsonObject::from_text(event).unwrap())
            .await
            .unwrap();
    }
    let report = timeout(WAIT, agent.shutdown(Duration::from_secs(10)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((report.acked_events, report.unacked_events), (50, 0));
}

#[tokio::test]
async fn v1_refusals_carry_document_000_codes() {
    let (url, _results) = serve(BrainOptions::new(BrainConfig::new("test"))).await;
    // A token the brain does not know: refused before the first frame, with v2's 4401
    // as on the deployed brain's `/ws/agent`.
    let mut stranger = connect(&url, "wrong-token").await;
    assert_eq!(next(&mut stranger).await, "close 4401");
    // The v1 endpoint of document 000 answers 4002 (a v1 agent stops on it).
    let v1_url = url.replace("/ws/agent", "/ws");
    let mut stranger = connect(&v1_url, "wrong-token").await;
    stranger.send(Message::text(HELLO)).await.unwrap();
    assert_eq!(next(&mut stranger).await, "close 4002");

    // A malformed frame after hello: an `error` frame, then 4005.
    let mut sloppy = connect(&url, "good-token").await;
    sloppy.send(Message::text(HELLO)).await.unwrap();
    sloppy
        .send(Message::text(
            r#"{"type":"event_batch","seq":"one","events":[]}"#,
        ))
        .await
        .unwrap();
    let error = next(&mut sloppy).await;
    assert!(error.starts_with(r#"{"type":"error","code":"#), "{error}");
    assert_eq!(next(&mut sloppy).await, "close 4005");
}

#[tokio::test]
async fn a_client_that_sends_no_first_frame_is_closed_at_the_hello_deadline() {
    let mut options = BrainOptions::new(BrainConfig::new("test"));
    options.v1.hello_timeout = Duration::from_millis(300);
    options.config.hello_timeout = Duration::from_millis(300);
    let (url, _results) = serve(options).await;
    let mut silent = connect(&url, "good-token").await;
    // Without the deadline, this read would wait for the test's 20 s and fail.
    let started = std::time::Instant::now();
    assert_eq!(next(&mut silent).await, "close 1001");
    assert!(started.elapsed() < Duration::from_secs(10));
}
