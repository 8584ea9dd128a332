//! The orchestrator of document 002, both layers at once: a client of the platform above
//! (it authenticates with its capabilities, heartbeats, reconnects with backoff) and a
//! server for agents below, with the same message set. Each application message an
//! agent sends with a `messageId` is relayed up; the platform's `ack` or `nack` of it
//! is relayed back down to that agent. What the platform has not answered when its
//! connection drops is sent again on the next one.
//!
//! One task, the relay, owns the state; every connection runs
//! [`link::drive`] on its own task and talks to the relay through
//! bounded channels.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use brainwire_auth::{AuthRequest, Client, Event, OrchCapabilities, SessionConfig, Token};
use brainwire_close::{Backoff, Reconnect, ReconnectPolicy, StandardCode};
use bytes::Bytes;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::link::{self, LinkEnd, LinkRequest};

/// The path agents connect to.
pub const AGENT_PATH: &str = "/ws/agent";
/// Most agent messages relayed and not yet answered by the platform; past it, an agent's
/// message is refused (`nack`) at once.
pub const MAX_RELAYED: usize = 1024;
/// Most agents connected at once.
const MAX_AGENTS: usize = 1_000;
/// How long connecting to the platform may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests waiting for one agent's connection; an agent that lets them pile up (it
/// stopped reading) is dropped rather than slowing the relay for everyone.
const AGENT_QUEUE: usize = 256;

/// What the orchestrator program is told on its command line.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OrchestratorOptions {
    /// The platform's endpoint, `ws://HOST:PORT/ws/orchestrator`.
    pub platform_url: String,
    /// The token it authenticates to the platform with.
    pub token: Token,
    /// The token agents authenticate to it with.
    pub agent_token: Token,
    /// What it declares to the platform (role, dashboard-write policy, other flags).
    pub capabilities: OrchCapabilities,
    /// Heartbeats, liveness, handshake deadline and limits of both layers.
    pub session: SessionConfig,
    /// Backoff between connections to the platform.
    pub backoff: Backoff,
}

impl OrchestratorOptions {
    /// Options with document 002's defaults and no capabilities.
    pub fn new(platform_url: impl Into<String>, token: Token, agent_token: Token) -> Self {
        Self {
            platform_url: platform_url.into(),
            token,
            agent_token,
            capabilities: OrchCapabilities::default(),
            session: SessionConfig::default(),
            backoff: Backoff::new(Duration::from_millis(200), Duration::from_secs(10))
                .with_max_attempts(20),
        }
    }
}

/// What reaches the relay.
enum Input {
    /// The platform accepted us; requests for that connection go to the sender.
    PlatformUp(mpsc::Sender<LinkRequest>),
    /// An event of the platform connection.
    Platform(Event),
    /// The platform connection ended.
    PlatformDown,
    /// An agent connected; requests for it go to the sender.
    AgentUp(u64, mpsc::Sender<LinkRequest>),
    /// An event of an agent's connection.
    Agent(u64, Event),
    /// An agent's connection ended.
    AgentDown(u64),
}

/// Runs the orchestrator: agents on `listener`, the platform at `options.platform_url`.
///
/// # Errors
///
/// When the platform refuses it for good (`auth.failure`: 1008) or the backoff gives up.
pub async fn run(
    listener: TcpListener,
    options: OrchestratorOptions,
    lines: mpsc::Sender<String>,
) -> anyhow::Result<()> {
    let (inputs, relay_inputs) = mpsc::channel(1024);
    let relay = tokio::spawn(relay(relay_inputs, lines.clone()));
    let agents = tokio::spawn(serve_agents(
        listener,
        options.clone(),
        inputs.clone(),
        lines.clone(),
    ));
    let result = upstream(&options, &inputs, &lines).await;
    agents.abort();
    relay.abort();
    result
}

/// The connection to the platform, reconnected per the close code until a close that
/// says to stop.
async fn upstream(
    options: &OrchestratorOptions,
    inputs: &mpsc::Sender<Input>,
    lines: &mpsc::Sender<String>,
) -> anyhow::Result<()> {
    let mut policy = ReconnectPolicy::new(options.backoff.clone());
    loop {
        let end = platform_connection(options, inputs, lines, &mut policy).await;
        let _ = inputs.send(Input::PlatformDown).await;
        let code = end.code.map_or("none".to_owned(), |c| c.to_string());
        let _ = lines
            .send(format!("platform connection ended ({code}) {}", end.reason))
            .await;
        let decision = match end.code.map(StandardCode::try_from) {
            Some(Ok(code)) => policy.on_close(code),
            // A code outside RFC 6455, which document 002 never sends: retry.
            Some(Err(_)) | None => policy.on_connection_lost(),
        };
        match decision {
            Reconnect::RetryAfter(delay) => tokio::time::sleep(delay).await,
            Reconnect::Stop(reason) => bail!("stopped: {} ({reason:?})", end.reason),
        }
    }
}

/// One connection to the platform: connect, authenticate with the capabilities, relay
/// until it ends.
async fn platform_connection(
    options: &OrchestratorOptions,
    inputs: &mpsc::Sender<Input>,
    lines: &mpsc::Sender<String>,
    policy: &mut ReconnectPolicy,
) -> LinkEnd {
    let lost = |reason: String| LinkEnd { code: None, reason };
    let request = match options.platform_url.as_str().into_client_request() {
        Ok(request) => request,
        Err(e) => return lost(format!("bad url: {e}")),
    };
    let connect = tokio_tungstenite::connect_async_with_config(
        request,
        Some(link::websocket_config()),
        // Nagle off: a message held back waits for the platform's delayed ACK.
        true,
    );
    let socket = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok((socket, _))) => socket,
        Ok(Err(e)) => return lost(format!("connect: {e}")),
        Err(_) => return lost("connect timed out".into()),
    };
    let mut auth = AuthRequest::new(options.token.clone(), 1);
    auth.capabilities = Some(options.capabilities.clone());
    let client = Client::new(Instant::now(), auth, options.session.clone());
    let (requests, requests_rx) = mpsc::channel(2 * MAX_RELAYED);
    let (events_tx, mut events) = mpsc::channel(256);
    let driver = tokio::spawn(link::drive(client, socket, requests_rx, events_tx));
    let mut requests = Some(requests);
    while let Some(event) = events.recv().await {
        if let Event::Authenticated { connection_id, .. } = &event {
            policy.on_connected();
            let _ = lines
                .send(format!("connected to the platform as {connection_id}"))
                .await;
            if let Some(requests) = requests.take() {
                if inputs.send(Input::PlatformUp(requests)).await.is_err() {
                    break;
                }
            }
            continue;
        }
        if inputs.send(Input::Platform(event)).await.is_err() {
            break;
        }
    }
    drop(requests);
    driver
        .await
        .unwrap_or_else(|_| lost("the connection task failed".into()))
}

/// The agent endpoint: each connection authenticated with the agent token, its events
/// handed to the relay.
async fn serve_agents(
    listener: TcpListener,
    options: OrchestratorOptions,
    inputs: mpsc::Sender<Input>,
    lines: mpsc::Sender<String>,
) {
    let options = Arc::new(options);
    let next_id = Arc::new(std::sync::atomic::AtomicU64::new(1));
    let never = brainwire_tokio::serve(listener, MAX_AGENTS, move |stream, _peer| {
        let (options, inputs, lines) = (Arc::clone(&options), inputs.clone(), lines.clone());
        let id = next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        async move { agent_connection(id, stream, &options, &inputs, &lines).await }
    })
    .await;
    match never {}
}

async fn agent_connection(
    id: u64,
    stream: TcpStream,
    options: &OrchestratorOptions,
    inputs: &mpsc::Sender<Input>,
    lines: &mpsc::Sender<String>,
) {
    let token = options.agent_token.clone();
    let session = options.session.clone();
    let accepted = link::accept_server(stream, AGENT_PATH, token, "unknown agent token", session);
    let Some((socket, server)) = accepted.await else {
        return;
    };
    let (requests, requests_rx) = mpsc::channel(AGENT_QUEUE);
    let (events_tx, mut events) = mpsc::channel(64);
    if inputs.send(Input::AgentUp(id, requests)).await.is_err() {
        return;
    }
    let driver = tokio::spawn(link::drive(server, socket, requests_rx, events_tx));
    while let Some(event) = events.recv().await {
        if inputs.send(Input::Agent(id, event)).await.is_err() {
            break;
        }
    }
    let _ = inputs.send(Input::AgentDown(id)).await;
    if let Ok(end) = driver.await {
        let code = end.code.map_or("none".to_owned(), |c| c.to_string());
        let _ = lines
            .send(format!(
                "agent connection {id} ended ({code}) {}",
                end.reason
            ))
            .await;
    }
}

/// A message relayed up and not yet answered.
struct Relayed {
    agent: u64,
    bytes: Bytes,
}

/// The relay's state.
#[derive(Default)]
struct Relay {
    platform: Option<mpsc::Sender<LinkRequest>>,
    agents: HashMap<u64, mpsc::Sender<LinkRequest>>,
    relayed: HashMap<String, Relayed>,
    /// The ids of `relayed`, oldest first: the order to send them again in.
    order: VecDeque<String>,
}

async fn relay(mut inputs: mpsc::Receiver<Input>, lines: mpsc::Sender<String>) {
    let mut relay = Relay::default();
    while let Some(input) = inputs.recv().await {
        if let Some(line) = relay.handle(input) {
            let _ = lines.send(line).await;
        }
    }
}

impl Relay {
    /// Handles one input; gives a line worth printing.
    fn handle(&mut self, input: Input) -> Option<String> {
        match input {
            Input::PlatformUp(platform) => {
                self.platform = Some(platform);
                let relayed = &self.relayed;
                let pending: Vec<String> = self
                    .order
                    .iter()
                    .filter(|id| relayed.contains_key(*id))
                    .cloned()
                    .collect();
                for id in &pending {
                    self.send_up(id);
                }
                (!pending.is_empty())
                    .then(|| format!("sent {} unanswered message(s) again", pending.len()))
            }
            Input::PlatformDown => {
                self.platform = None;
                None
            }
            Input::Platform(Event::Acked { message_id }) => {
                self.answer(&message_id, LinkRequest::Ack(message_id.clone()))
            }
            Input::Platform(Event::Nacked { message_id, reason }) => {
                let nack = LinkRequest::Nack {
                    message_id: message_id.clone(),
                    reason: format!("platform: {reason}"),
                };
                self.answer(&message_id, nack)
            }
            Input::Platform(Event::Unanswered { message_id }) => {
                self.send_up(&message_id);
                None
            }
            Input::Platform(Event::PeerError(error)) => {
                Some(format!("platform error {}: {}", error.code, error.message))
            }
            Input::Platform(_) => None,
            Input::AgentUp(id, requests) => {
                self.agents.insert(id, requests);
                None
            }
            Input::AgentDown(id) => {
                self.agents.remove(&id);
                None
            }
            Input::Agent(id, Event::Accepted { connection_id, .. }) => {
                Some(format!("agent {id} authenticated as {connection_id}"))
            }
            Input::Agent(
                id,
                Event::Message {
                    message_type,
                    bytes,
                },
            ) => self.relay_up(id, &message_type, bytes),
            Input::Agent(_, _) => None,
        }
    }

    /// An agent's application message: relayed up, tracked by its `messageId`.
    fn relay_up(&mut self, agent: u64, message_type: &str, bytes: Bytes) -> Option<String> {
        let Some(message_id) = link::message_id(&bytes) else {
            // Untracked: relayed when the platform is there, else dropped.
            let platform = self.platform.as_ref()?;
            let send = LinkRequest::Send {
                message_id: None,
                bytes,
            };
            let _ = platform.try_send(send);
            return None;
        };
        if let Some(relayed) = self.relayed.get_mut(&message_id) {
            // Sent again on another connection: the agent reconnected (its old connection
            // may not even be seen as gone yet). The platform's answer, still to come,
            // goes to the newest connection.
            if relayed.agent != agent {
                relayed.agent = agent;
                return None;
            }
        }
        let refusal = if self.relayed.contains_key(&message_id) {
            Some("this messageId is in flight already")
        } else if self.relayed.len() >= MAX_RELAYED {
            Some("too many messages wait for the platform")
        } else {
            None
        };
        if let Some(reason) = refusal {
            let nack = LinkRequest::Nack {
                message_id,
                reason: reason.to_owned(),
            };
            self.answer_agent(agent, nack);
            return None;
        }
        self.relayed
            .insert(message_id.clone(), Relayed { agent, bytes });
        self.order.push_back(message_id.clone());
        self.send_up(&message_id);
        (self.platform.is_none())
            .then(|| format!("{message_type} {message_id} waits for the platform"))
    }

    /// Sends relayed message `id` to the platform, if it is connected.
    fn send_up(&mut self, id: &str) {
        let (Some(platform), Some(relayed)) = (&self.platform, self.relayed.get(id)) else {
            return;
        };
        let send = LinkRequest::Send {
            message_id: Some(id.to_owned()),
            bytes: relayed.bytes.clone(),
        };
        // The queue holds twice what may be relayed, so it is full only if the
        // connection is stuck; then its end resends everything anyway.
        let _ = platform.try_send(send);
    }

    /// The platform answered relayed message `id`: `answer` goes to its agent.
    fn answer(&mut self, id: &str, answer: LinkRequest) -> Option<String> {
        let relayed = self.relayed.remove(id)?;
        // Answered ids leave `order` lazily: from its front, and in one sweep when it
        // holds twice what may wait (so it stays bounded if the oldest is never answered).
        while self
            .order
            .front()
            .is_some_and(|front| !self.relayed.contains_key(front))
        {
            self.order.pop_front();
        }
        if self.order.len() > 2 * MAX_RELAYED {
            let relayed = &self.relayed;
            self.order.retain(|pending| relayed.contains_key(pending));
        }
        self.answer_agent(relayed.agent, answer);
        None
    }

    /// Queues `request` for `agent`; an agent whose queue is full has stopped reading and
    /// is dropped (its connection closes with 1001) instead of holding up the relay.
    fn answer_agent(&mut self, agent: u64, request: LinkRequest) {
        let Some(requests) = self.agents.get(&agent) else {
            return;
        };
        if requests.try_send(request).is_err() {
            self.agents.remove(&agent);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str) -> Event {
        let text = format!(r#"{{"type":"job.progress","messageId":"{id}"}}"#);
        Event::Message {
            message_type: "job.progress".into(),
            bytes: Bytes::from(text),
        }
    }

    /// A relay with the platform up and agent 1 connected; gives both request queues.
    fn relay(
        agent_queue: usize,
    ) -> (
        Relay,
        mpsc::Receiver<LinkRequest>,
        mpsc::Receiver<LinkRequest>,
    ) {
        let mut relay = Relay::default();
        let (platform, platform_rx) = mpsc::channel(2 * MAX_RELAYED);
        let (agent, agent_rx) = mpsc::channel(agent_queue);
        relay.handle(Input::PlatformUp(platform));
        relay.handle(Input::AgentUp(1, agent));
        (relay, platform_rx, agent_rx)
    }

    #[test]
    fn past_max_relayed_an_agents_message_is_refused_at_once() {
        let (mut relay, mut platform, mut agent) = relay(AGENT_QUEUE);
        for i in 0..=MAX_RELAYED {
            relay.handle(Input::Agent(1, message(&format!("m-{i}"))));
        }
        let mut sent_up = 0;
        while platform.try_recv().is_ok() {
            sent_up += 1;
        }
        assert_eq!(sent_up, MAX_RELAYED);
        let Ok(LinkRequest::Nack { message_id, reason }) = agent.try_recv() else {
            panic!("a nack expected");
        };
        assert_eq!(message_id, format!("m-{MAX_RELAYED}"));
        assert_eq!(reason, "too many messages wait for the platform");
        // An answer makes room again.
        relay.handle(Input::Platform(Event::Acked {
            message_id: "m-0".into(),
        }));
        assert!(matches!(agent.try_recv(), Ok(LinkRequest::Ack(id)) if id == "m-0"));
        relay.handle(Input::Agent(1, message("m-new")));
        assert!(
            matches!(platform.try_recv(), Ok(LinkRequest::Send { message_id: Some(id), .. }) if id == "m-new")
        );
    }

    #[test]
    fn a_message_sent_again_on_a_new_connection_gets_its_answer_there() {
        let (mut relay, mut platform, mut first) = relay(AGENT_QUEUE);
        let (second_requests, mut second) = mpsc::channel(AGENT_QUEUE);
        relay.handle(Input::AgentUp(2, second_requests));
        relay.handle(Input::Agent(1, message("m-1")));
        assert!(platform.try_recv().is_ok(), "relayed up once");
        // The same connection again: refused, the first is in flight.
        relay.handle(Input::Agent(1, message("m-1")));
        assert!(matches!(first.try_recv(), Ok(LinkRequest::Nack { .. })));
        // The agent reconnected before its old connection is seen gone: not sent up
        // again, and the answer goes to the new connection.
        relay.handle(Input::Agent(2, message("m-1")));
        assert!(platform.try_recv().is_err());
        relay.handle(Input::Platform(Event::Acked {
            message_id: "m-1".into(),
        }));
        assert!(matches!(second.try_recv(), Ok(LinkRequest::Ack(id)) if id == "m-1"));
        assert!(first.try_recv().is_err());
    }

    #[test]
    fn an_agent_that_stops_reading_is_dropped_not_waited_for() {
        let (mut relay, _platform, agent) = relay(2);
        for i in 0..3 {
            relay.handle(Input::Agent(1, message(&format!("m-{i}"))));
        }
        for i in 0..3 {
            let acked = Event::Acked {
                message_id: format!("m-{i}"),
            };
            relay.handle(Input::Platform(acked));
        }
        // Two answers fit its queue; the third found it full, and the agent was dropped.
        assert!(!relay.agents.contains_key(&1));
        assert_eq!(agent.len(), 2);
    }

    #[test]
    fn unanswered_ids_stay_bounded_when_the_oldest_is_never_answered() {
        let (mut relay, mut platform, _agent) = relay(8 * MAX_RELAYED);
        relay.handle(Input::Agent(1, message("stuck")));
        for i in 0..10 * MAX_RELAYED {
            let id = format!("m-{i}");
            relay.handle(Input::Agent(1, message(&id)));
            relay.handle(Input::Platform(Event::Acked { message_id: id }));
            while platform.try_recv().is_ok() {}
        }
        assert_eq!(relay.relayed.len(), 1);
        assert!(
            relay.order.len() <= 2 * MAX_RELAYED + 1,
            "{}",
            relay.order.len()
        );
    }
}
