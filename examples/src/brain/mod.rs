//! The brain program: one port serving
//!
//! - `/ws/agent`, the v2 agent endpoint: each connection runs a
//!   [`BrainSession`](brainwire_v2::BrainSession) (bearer token, signed traffic);
//! - `/ws`, the run status stream of document 003, and `GET /api/brain/status/ws`;
//! - `/api/ws?token=`, the channel endpoint of document 004.
//!
//! What agents report feeds the other two: each task event becomes a `run_*` message for
//! every `/ws` client and channel events for the subscribers of its agent, task and
//! project channels.

mod agents;
mod agents_v1;
mod api;
mod batch_log;
mod channels;
mod cluster;
mod commands;
mod feed;
mod http1;
mod live;
mod roster;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use brainwire_channel::ChannelHub;
use brainwire_core::WallClock;
use brainwire_run::Broadcaster;
use brainwire_sign::Secret;
use brainwire_tokio::{ChannelServer, DashboardOptions, RunStreamServer};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::transcript::{Side, Transcript};

/// The path of the agent endpoint, as on the deployed brain.
pub const AGENT_PATH: &str = "/ws/agent";
/// The path of the run status stream (document 003).
pub const RUN_PATH: &str = "/ws";
/// The path of the run stream's status document (document 003).
pub const STATUS_PATH: &str = "/api/brain/status/ws";
/// The path of the channel endpoint (document 004).
pub const CHANNEL_PATH: &str = "/api/ws";
/// The path of the brain's counters, in the Prometheus text format.
pub const METRICS_PATH: &str = "/metrics";

/// What the brain program is told on its command line.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BrainOptions {
    /// The agents this brain accepts (one connection each).
    pub agents: Vec<AgentAccount>,
    /// The project secret agents sign with.
    pub secret: Secret,
    /// The token dashboards pass as `?token=` on the channel endpoint.
    pub dashboard_token: String,
    /// When set, the run stream (`/ws`) and its status document require this token, as
    /// `?token=` or `Authorization: Bearer`.
    pub run_stream_token: Option<String>,
    /// The project's id, bound into every MAC.
    pub project_id: String,
    /// Whether to send the agent one `cancel_task` after its first `event_batch`.
    pub send_command: bool,
    /// Heartbeat cadence asked of agents.
    pub heartbeat_interval: Duration,
    /// How long a client may take to send its request head (default 10 s): a head
    /// dripped a byte at a time is cut off here.
    pub head_deadline: Duration,
    /// Counters the brain keeps, for whoever started it.
    pub stats: Arc<BrainStats>,
    /// The bearer token of the HTTP API (`/api/commands`, `/api/agents`, ...).
    pub admin_token: String,
    /// Redis shared with the brain's other nodes (`redis://HOST:PORT`); `None`: one node,
    /// everything in memory.
    pub redis: Option<String>,
    /// This node's name, unique among the brain's nodes.
    pub node: String,
}

/// What the brain counted.
#[derive(Debug, Default)]
pub struct BrainStats {
    /// Events stored (each batch id once).
    pub stored_events: AtomicUsize,
    /// Events received again in a re-sent batch, acknowledged but not stored.
    pub duplicate_events: AtomicUsize,
    /// Command results received.
    pub command_results: AtomicUsize,
    /// Handshakes completed.
    pub sessions: AtomicUsize,
    /// Signed heartbeats verified.
    pub heartbeats: AtomicUsize,
    /// Signed `agent_status` reports verified.
    pub agent_statuses: AtomicUsize,
    /// `run_*` messages published on the run stream.
    pub run_messages: AtomicUsize,
    /// Channel events published (once per channel, whatever the subscribers).
    pub channel_events: AtomicUsize,
    /// Messages from the bus (Redis) dropped because this node fell behind.
    pub bus_dropped: Arc<AtomicUsize>,
}

/// An agent the brain accepts: its bearer token and the id bound into its MACs.
#[derive(Debug, Clone)]
pub struct AgentAccount {
    /// The bearer token it connects with.
    pub token: String,
    /// Its id, bound into every MAC of its sessions.
    pub agent_id: String,
}

impl AgentAccount {
    /// An agent with `token`, its id derived from the token (the first 16 bytes of its
    /// SHA-256 as a UUID), so that every node of a brain given the same tokens names the
    /// same agents alike.
    pub fn new(token: impl Into<String>) -> Self {
        use sha2::Digest;
        let token = token.into();
        let digest = sha2::Sha256::digest(token.as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        let agent_id = uuid::Builder::from_custom_bytes(bytes)
            .into_uuid()
            .to_string();
        Self { token, agent_id }
    }
}

impl BrainOptions {
    /// Options accepting one agent, `agent_token`, with `secret`, sending the demo
    /// command, with a fresh dashboard token.
    pub fn new(agent_token: impl Into<String>, secret: Secret) -> Self {
        Self {
            agents: vec![AgentAccount::new(agent_token)],
            secret,
            dashboard_token: uuid::Uuid::new_v4().simple().to_string(),
            run_stream_token: None,
            project_id: uuid::Uuid::new_v4().to_string(),
            send_command: true,
            heartbeat_interval: Duration::from_secs(10),
            head_deadline: Duration::from_secs(10),
            stats: Arc::default(),
            admin_token: uuid::Uuid::new_v4().simple().to_string(),
            redis: None,
            node: "local".to_owned(),
        }
    }
}

/// What a node asks of one of its agent connections.
#[derive(Debug)]
pub(crate) enum Control {
    /// A newer connection of the same agent took over: close.
    Replaced,
    /// Send the stored command with this id (unless this connection sent it already).
    Command(String),
    /// The agent was revoked: close with 4003.
    Revoke,
}

/// What every connection of the brain shares.
struct Shared {
    options: BrainOptions,
    transcript: Transcript,
    /// The agents that acknowledged their one demo command. Until one does, each of its
    /// new sessions sends it again: a command in flight on a lost connection is not lost.
    command_acked: Mutex<HashSet<String>>,
    /// Every agent seen, its protocol and schedules, for the status document.
    roster: Mutex<roster::Roster>,
    /// Turns reported task events into run messages and channel events.
    feed: Mutex<feed::Feed>,
    run_stream: RunStreamServer,
    channels: ChannelServer,
    /// Each agent's live connection on this node.
    live_agents: live::LiveAgents,
    /// The state the brain's nodes share, and its bus.
    cluster: cluster::Cluster,
}

impl Shared {
    /// Publishes what one newly stored task event means to the run stream and channels
    /// of every node, as `observe` reads it from the feed: each message encoded once,
    /// here, and its bytes put on the bus.
    async fn publish_update(&self, observe: impl FnOnce(&mut feed::Feed) -> Option<feed::Update>) {
        let Some(update) = observe(&mut self.feed.lock().expect("not poisoned")) else {
            return;
        };
        let stats = &self.options.stats;
        let run = self.run_stream.encode(update.run);
        self.cluster.publish_run(run).await;
        stats.run_messages.fetch_add(1, Ordering::Relaxed);
        for (event, channel) in &update.channel_events {
            let bytes = self.channels.encode(event);
            self.cluster.publish_channel(channel, bytes).await;
            stats.channel_events.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Why [`Shared::admit`] refused a connection.
enum Refused {
    /// The agent is revoked.
    Revoked,
    /// A newer connection of the agent holds its registration.
    Replaced,
}

impl Shared {
    /// Admits the connection of `agent_id` accepted at `accepted_at`: records it as the
    /// agent's live one on this node and in the cluster, and tells an older connection
    /// of the same agent it was replaced. Refused when the agent is revoked, or when a
    /// newer connection of it registered first (this one's handler saw `hello` late);
    /// each protocol closes with its own code.
    async fn admit(
        &self,
        agent_id: &str,
        accepted_at: Instant,
    ) -> Result<live::Registration, Refused> {
        if self.cluster.is_revoked(agent_id).await.unwrap_or(false) {
            return Err(Refused::Revoked);
        }
        let registration = self
            .live_agents
            .register(agent_id, accepted_at)
            .ok_or(Refused::Replaced)?;
        if let Err(e) = self.cluster.agent_online(agent_id).await {
            let text = format!("cluster: agent {agent_id} online: {e:#}");
            self.transcript.note(Side::Brain, text).await;
        }
        Ok(registration)
    }

    /// Forgets connection `id` of `agent_id`, unless a newer one replaced it.
    async fn unregister(&self, agent_id: &str, id: u64) {
        if self.live_agents.unregister(agent_id, id) {
            self.roster
                .lock()
                .expect("not poisoned")
                .disconnected(agent_id);
            let _ = self.cluster.agent_offline(agent_id).await;
        }
    }

    /// Stores batch `key` of `agent_id` with its `events` (JSON texts), once across the
    /// cluster; `false` when it was stored already (a re-sent batch, acknowledged again
    /// but not stored twice).
    ///
    /// # Errors
    ///
    /// The store failed (Redis down): the batch is not acknowledged, and its agent sends
    /// it again.
    async fn store_batch(
        &self,
        agent_id: &str,
        key: &str,
        events: &[&str],
    ) -> anyhow::Result<bool> {
        let count = events.len();
        let new = self.cluster.store_batch(agent_id, key, events).await?;
        let stats = &self.options.stats;
        let counter = if new {
            &stats.stored_events
        } else {
            &stats.duplicate_events
        };
        counter.fetch_add(count, Ordering::SeqCst);
        Ok(new)
    }

    /// Whether a session of `agent_id` that has `sent` the demo command or not should
    /// send it now.
    fn wants_command(&self, agent_id: &str, sent: bool) -> bool {
        let acked = self
            .command_acked
            .lock()
            .expect("not poisoned")
            .contains(agent_id);
        self.options.send_command && !acked && !sent
    }

    /// `agent_id` acknowledged its demo command: no session of it sends another.
    fn command_done(&self, agent_id: &str) {
        self.command_acked
            .lock()
            .expect("not poisoned")
            .insert(agent_id.to_owned());
    }
}

/// Serves every endpoint on `listener` until the process ends.
///
/// # Errors
///
/// Never: accept errors (EMFILE, ...) are waited out.
pub async fn serve(
    listener: TcpListener,
    options: BrainOptions,
    transcript: Transcript,
) -> anyhow::Result<()> {
    let dashboards = DashboardOptions::default();
    let broadcaster = Broadcaster::new("Connected to brainwire example brain", WallClock::system());
    let hub = ChannelHub::new(
        channels::ProjectScope::new(&options.project_id),
        channels::MAX_SUBSCRIPTIONS,
    );
    let run_stream = RunStreamServer::new(broadcaster, dashboards.clone());
    let channels = ChannelServer::new(hub, dashboards);
    let (local, mut node_messages) = mpsc::channel(1024);
    let (cluster, mut tasks) = match &options.redis {
        None => (
            cluster::Cluster::memory(run_stream.clone(), channels.clone(), local),
            Vec::new(),
        ),
        Some(url) => {
            cluster::Cluster::redis(
                url,
                &options.node,
                &options.project_id,
                run_stream.clone(),
                channels.clone(),
                local,
                Arc::clone(&options.stats.bus_dropped),
            )
            .await?
        }
    };
    let shared = Arc::new(Shared {
        options,
        transcript,
        command_acked: Mutex::default(),
        roster: Mutex::default(),
        feed: Mutex::new(feed::Feed::default()),
        run_stream,
        channels,
        live_agents: live::LiveAgents::default(),
        cluster,
    });
    // What other nodes (or the API on this one) ask of this node's agents.
    let for_messages = Arc::clone(&shared);
    let messages = tokio::spawn(async move {
        while let Some(message) = node_messages.recv().await {
            match message {
                cluster::NodeMessage::Command {
                    agent_id,
                    command_id,
                } => for_messages
                    .live_agents
                    .tell(&agent_id, Control::Command(command_id)),
                cluster::NodeMessage::Revoke { agent_id } => {
                    for_messages.live_agents.tell(&agent_id, Control::Revoke)
                }
                // A node that took the agent back since the message was sent keeps it.
                cluster::NodeMessage::Replaced { agent_id } => {
                    if !for_messages.cluster.owns(&agent_id).await.unwrap_or(true) {
                        for_messages.live_agents.tell(&agent_id, Control::Replaced)
                    }
                }
            }
        }
    });
    // Commands whose announcement was lost (a node restarting, an agent between nodes)
    // are found here: each open command of an agent on this node is offered to its
    // connection, which sends what it has not sent.
    let for_sweeper = Arc::clone(&shared);
    let sweeper = tokio::spawn(async move {
        let mut every = tokio::time::interval(cluster::SWEEP_INTERVAL);
        loop {
            every.tick().await;
            for agent_id in for_sweeper.live_agents.agent_ids() {
                let Ok(open) = for_sweeper.cluster.open_commands(&agent_id).await else {
                    continue;
                };
                for command_id in open {
                    for_sweeper
                        .live_agents
                        .tell(&agent_id, Control::Command(command_id));
                }
            }
        }
    });
    // Both end with this function (dropped when its caller stops serving).
    tasks.extend([messages, sweeper]);
    let _tasks = AbortOnDrop(tasks);
    let router = router(&shared);
    let head_deadline = shared.options.head_deadline;
    // Accept errors (EMFILE, ...) are waited out, never fatal; each connection gets
    // HTTP/1.1 with a deadline on its request head.
    let never = brainwire_tokio::serve(listener, MAX_CONNECTIONS, move |stream, _peer| {
        http1::serve_connection(stream, router.clone(), head_deadline)
    })
    .await;
    match never {}
}

/// Aborts the tasks when dropped.
struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Most connections served at once, all endpoints together.
const MAX_CONNECTIONS: usize = 10_000;

/// The brain's endpoints.
fn router(shared: &Arc<Shared>) -> Router {
    let agents = agents::route(shared);
    let for_channels = Arc::clone(shared);
    let channels = shared
        .channels
        .route(move |uri: &Uri, _: &HeaderMap| dashboard_user(uri, &for_channels.options));
    let guarded = Router::new()
        .route(RUN_PATH, shared.run_stream.route())
        .route(STATUS_PATH, get(status))
        .route(METRICS_PATH, get(metrics))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(shared),
            run_stream_guard,
        ));
    // Document 000 puts v1 agents on `/ws` with their bearer token, where run stream
    // clients send none: a request there with a bearer token other than the run stream's
    // goes to the v1 endpoint (4002 when no agent has it), before the run stream's guard.
    let v1_agents: Router = Router::new().route(RUN_PATH, agents::v1_route(shared));
    let for_v1 = Arc::clone(shared);
    Router::new()
        .route(AGENT_PATH, agents)
        .route(CHANNEL_PATH, channels)
        .merge(guarded)
        .merge(api::routes(shared))
        .with_state(Arc::clone(shared))
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            let v1_agents = v1_agents.clone();
            let run_stream_token = for_v1.options.run_stream_token.clone();
            async move {
                let agent_bearer = request.uri().path() == RUN_PATH
                    && bearer(request.headers()).is_some_and(|token| {
                        !run_stream_token
                            .as_deref()
                            .is_some_and(|expected| same_token(token, expected))
                    });
                if agent_bearer {
                    use tower::ServiceExt;
                    match v1_agents.oneshot(request).await {
                        Ok(response) => response,
                        Err(never) => match never {},
                    }
                } else {
                    next.run(request).await
                }
            }
        }))
}

/// `GET /api/brain/status/ws`: the run stream's status document (document 003), with an
/// `agents` member naming each agent seen, its protocol, whether it is connected and the
/// schedules v1 agents reported.
async fn status(State(shared): State<Arc<Shared>>) -> Response {
    let document = shared.run_stream.status(RUN_PATH);
    let mut document = serde_json::to_value(document).expect("serializable");
    let agents = shared.roster.lock().expect("not poisoned").to_json();
    if let Some(members) = document.as_object_mut() {
        members.insert("agents".to_owned(), agents);
    }
    axum::Json(document).into_response()
}

/// Lets a request to the run stream, its status document or the metrics through only
/// with the `run_stream_token` (when one is set), else answers 401.
async fn run_stream_guard(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    if run_stream_allowed(request.uri(), request.headers(), &shared.options) {
        next.run(request).await
    } else {
        StatusCode::UNAUTHORIZED.into_response()
    }
}

/// `GET /metrics`.
async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let text = metrics_text(&shared.options.stats);
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// The brain's counters in the Prometheus text format (`brainwire_*_total`), read when
/// asked; guarded by `run_stream_token` like the status document.
fn metrics_text(stats: &BrainStats) -> String {
    use prometheus_client::metrics::counter::ConstCounter;
    let mut registry = prometheus_client::registry::Registry::with_prefix("brainwire");
    let counters = [
        (
            "stored_events",
            "Events stored (each batch id once)",
            &stats.stored_events,
        ),
        (
            "duplicate_events",
            "Events of re-sent batches, acknowledged, not stored",
            &stats.duplicate_events,
        ),
        (
            "command_results",
            "Command results received",
            &stats.command_results,
        ),
        ("sessions", "Agent handshakes completed", &stats.sessions),
        (
            "heartbeats",
            "Signed heartbeats verified",
            &stats.heartbeats,
        ),
        (
            "agent_statuses",
            "Signed agent_status reports verified",
            &stats.agent_statuses,
        ),
        (
            "run_messages",
            "run_* messages published on the run stream",
            &stats.run_messages,
        ),
        (
            "channel_events",
            "Channel events published",
            &stats.channel_events,
        ),
    ];
    for (name, help, value) in counters {
        registry.register(
            name,
            help,
            ConstCounter::new(value.load(Ordering::Relaxed) as u64),
        );
    }
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &registry);
    text
}

/// The user a channel connection acts for: the dashboard token names the one user of this
/// example (a real server would take it from a verified JWT).
fn dashboard_user(uri: &Uri, options: &BrainOptions) -> Option<String> {
    let token = query_param(uri, "token")?;
    same_token(&token, &options.dashboard_token).then(|| "dashboard".to_owned())
}

/// Whether the run stream and its status document may be read: always without a
/// `run_stream_token`, else with it as `?token=` or a bearer token.
fn run_stream_allowed(uri: &Uri, headers: &HeaderMap, options: &BrainOptions) -> bool {
    let Some(expected) = &options.run_stream_token else {
        return true;
    };
    let by_bearer = bearer(headers).is_some_and(|token| same_token(token, expected));
    let by_query = query_param(uri, "token").is_some_and(|token| same_token(&token, expected));
    by_bearer || by_query
}

/// The `Authorization: Bearer` token.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The value of `name` in the query, percent-decoded (a token holding `+`, `/` or `=`
/// arrives encoded).
fn query_param<'a>(uri: &'a Uri, name: &str) -> Option<std::borrow::Cow<'a, str>> {
    uri.query()?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name)
            .then(|| {
                percent_encoding::percent_decode_str(value)
                    .decode_utf8()
                    .ok()
            })
            .flatten()
    })
}

/// Token equality in constant time (for tokens of the same length).
pub(crate) fn same_token(given: &str, expected: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(given.as_bytes(), expected.as_bytes()).into()
}

/// A fresh project secret: 32 bytes from the operating system's randomness.
///
/// # Errors
///
/// When the operating system gives no randomness.
pub fn random_secret() -> anyhow::Result<Secret> {
    let mut bytes = vec![0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(Secret::new(bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_is_32_random_bytes() {
        let (one, two) = (random_secret().unwrap(), random_secret().unwrap());
        assert_eq!(one.expose().len(), 32);
        assert_ne!(one, two);
        // Not a 16-byte value written twice (a UUID's 122 bits).
        assert_ne!(one.expose()[..16], one.expose()[16..]);
    }

    #[test]
    fn tokens_compare_by_value() {
        assert!(same_token("a-token", "a-token"));
        assert!(!same_token("a-token", "a-tokem"));
        assert!(!same_token("a-token", "a-token-longer"));
    }
}
