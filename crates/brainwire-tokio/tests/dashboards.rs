//! The dashboard clients against scripted servers on loopback: messages in order across
//! reconnects, subscriptions replayed, a refused token stops, closing says 1000.
#![cfg(all(feature = "run", feature = "channel"))]

use std::collections::BTreeSet;
use std::time::Duration;

use brainwire_channel::{decode_client, encode_server, ChannelId, ClientMessage, ServerMessage};
use brainwire_close::Backoff;
use brainwire_tokio::{ChannelClient, RunStream, WatchError, WatchOptions};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

const WAIT: Duration = Duration::from_secs(20);

fn options(url: String) -> WatchOptions {
    let mut options = WatchOptions::new(url);
    options.backoff = Backoff::new(Duration::from_millis(20), Duration::from_millis(200));
    options
}

async fn accept(listener: &TcpListener) -> WebSocketStream<TcpStream> {
    let (stream, _) = listener.accept().await.unwrap();
    tokio_tungstenite::accept_async(stream).await.unwrap()
}

fn run_message(kind: &str, id: &str) -> Message {
    Message::text(format!(
        r#"{{"type":"{kind}","data":{{"id":"{id}","status":"queued"}},"timestamp":"2026-02-06T01:30:00.000Z"}}"#
    ))
}

/// The close code the client sends, once it sends one.
async fn close_code(socket: &mut WebSocketStream<TcpStream>) -> Option<u16> {
    loop {
        match socket.next().await {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => {}
            _ => return None,
        }
    }
}

#[tokio::test]
async fn the_run_stream_follows_across_a_restart_and_closes_with_1000() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let mut first = accept(&listener).await;
        first.send(run_message("run_update", "a")).await.unwrap();
        first.send(run_message("run_update", "b")).await.unwrap();
        let restart = CloseFrame {
            code: CloseCode::Restart,
            reason: "restart".into(),
        };
        first.send(Message::Close(Some(restart))).await.unwrap();
        let mut second = accept(&listener).await;
        second.send(run_message("run_update", "c")).await.unwrap();
        close_code(&mut second).await
    });
    let mut stream = RunStream::spawn(options(url));
    let mut ids = Vec::new();
    while ids.len() < 3 {
        let message = timeout(WAIT, stream.next()).await.unwrap().unwrap();
        ids.extend(message.body.run_data().and_then(|d| d.id.clone()));
    }
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!(stream.stats().connections, 2);
    stream.close().await.unwrap();
    assert_eq!(timeout(WAIT, server).await.unwrap().unwrap(), Some(1000));
}

/// What a channel server connection received: the channels subscribed.
async fn subscriptions(socket: &mut WebSocketStream<TcpStream>, count: usize) -> BTreeSet<String> {
    let mut channels = BTreeSet::new();
    while channels.len() < count {
        let Some(Ok(Message::Text(text))) = socket.next().await else {
            panic!("the client went away")
        };
        if let Ok(ClientMessage::Subscribe(channel)) = decode_client(text.as_bytes()) {
            let reply = encode_server(&ServerMessage::Subscribed(channel.clone()));
            socket
                .send(Message::text(String::from_utf8(reply.to_vec()).unwrap()))
                .await
                .unwrap();
            channels.insert(channel.to_string());
        }
    }
    channels
}

#[tokio::test]
async fn channel_subscriptions_are_replayed_after_a_lost_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/api/ws?token=t", listener.local_addr().unwrap());
    let (first_seen, first_rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(async move {
        let mut first = accept(&listener).await;
        let _ = first_seen.send(subscriptions(&mut first, 3).await);
        // Lost without a close frame.
        drop(first);
        let mut second = accept(&listener).await;
        subscriptions(&mut second, 3).await
    });
    let channels: Vec<ChannelId> = ["project:p1", "agent:a1"]
        .iter()
        .map(|c| c.parse().unwrap())
        .collect();
    let mut client = ChannelClient::spawn(options(url), channels);
    client.subscribe("task:t1".parse().unwrap()).await.unwrap();
    let expected: BTreeSet<String> = ["project:p1", "agent:a1", "task:t1"]
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(timeout(WAIT, first_rx).await.unwrap().unwrap(), expected);
    assert_eq!(timeout(WAIT, server).await.unwrap().unwrap(), expected);
    // The client saw the brain's replies.
    let reply = timeout(WAIT, client.next()).await.unwrap().unwrap();
    assert!(matches!(reply, ServerMessage::Subscribed(_)), "{reply:?}");
}

#[tokio::test]
async fn a_refused_upgrade_stops_the_client_with_its_status() {
    use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/api/ws?token=wrong", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        #[allow(clippy::result_large_err)]
        let refuse = |_: &Request, _: Response| -> Result<Response, ErrorResponse> {
            let mut response = ErrorResponse::new(Some("bad token".into()));
            *response.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::UNAUTHORIZED;
            Err(response)
        };
        let _ = tokio_tungstenite::accept_hdr_async(stream, refuse).await;
    });
    let client = ChannelClient::spawn(options(url), Vec::new());
    let outcome = timeout(WAIT, client.close()).await.unwrap();
    assert!(
        matches!(outcome, Err(WatchError::Refused(401))),
        "{outcome:?}"
    );
}
