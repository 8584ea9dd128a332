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
mod batch_log;
mod channels;
mod feed;
mod http1;
mod roster;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

use crate::transcript::Transcript;

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
    /// An agent with `token` and a fresh id.
    pub fn new(token: impl Into<String>) -> Self {
        Self {
            token: token.into(),
            agent_id: uuid::Uuid::new_v4().to_string(),
        }
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
        }
    }
}

/// What every connection of the brain shares.
struct Shared {
    options: BrainOptions,
    transcript: Transcript,
    /// Batch ids already stored, per agent: an agent re-sends unacknowledged batches
    /// after a reconnect with the same ids, so these are acknowledged again but not
    /// stored twice.
    stored_batches: Mutex<batch_log::BatchLog>,
    /// The agents that acknowledged their one demo command. Until one does, each of its
    /// new sessions sends it again: a command in flight on a lost connection is not lost.
    command_acked: Mutex<HashSet<String>>,
    /// Every agent seen, its protocol and schedules, for the status document.
    roster: Mutex<roster::Roster>,
    /// Turns reported task events into run messages and channel events.
    feed: Mutex<feed::Feed>,
    run_stream: RunStreamServer,
    channels: ChannelServer,
    /// Each connected agent's session, and how to close it when a newer one arrives.
    live_agents: Mutex<HashMap<String, (u64, tokio::sync::oneshot::Sender<()>)>>,
    /// Numbers agent sessions.
    next_session: AtomicU64,
}

impl Shared {
    /// Publishes what one newly stored task event means to the run stream and channels,
    /// as `observe` reads it from the feed.
    fn publish_update(&self, observe: impl FnOnce(&mut feed::Feed) -> Option<feed::Update>) {
        let Some(update) = observe(&mut self.feed.lock().expect("not poisoned")) else {
            return;
        };
        let stats = &self.options.stats;
        self.run_stream.publish(update.run);
        stats.run_messages.fetch_add(1, Ordering::Relaxed);
        for (event, channel) in &update.channel_events {
            self.channels.publish(event, channel);
            stats.channel_events.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Shared {
    /// Records a connection of `agent_id` as its live one; gives its number and what
    /// fires when a newer connection of the same agent replaces it.
    fn register(&self, agent_id: &str) -> (u64, tokio::sync::oneshot::Receiver<()>) {
        let id = self.next_session.fetch_add(1, Ordering::Relaxed);
        let (replace, replaced) = tokio::sync::oneshot::channel();
        let older = self
            .live_agents
            .lock()
            .expect("not poisoned")
            .insert(agent_id.to_owned(), (id, replace));
        if let Some((_, older)) = older {
            let _ = older.send(());
        }
        (id, replaced)
    }

    /// Forgets connection `id` of `agent_id`, unless a newer one replaced it.
    fn unregister(&self, agent_id: &str, id: u64) {
        let mut live = self.live_agents.lock().expect("not poisoned");
        if live.get(agent_id).is_some_and(|(owner, _)| *owner == id) {
            live.remove(agent_id);
            self.roster
                .lock()
                .expect("not poisoned")
                .disconnected(agent_id);
        }
    }

    /// Records batch `key` of `agent_id` with `events` events; `false` when it was stored
    /// already (a re-sent batch, acknowledged again but not stored twice).
    fn store_batch(&self, agent_id: &str, key: &str, events: usize) -> bool {
        let new = self
            .stored_batches
            .lock()
            .expect("not poisoned")
            .insert(agent_id, key);
        let stats = &self.options.stats;
        let counter = if new {
            &stats.stored_events
        } else {
            &stats.duplicate_events
        };
        counter.fetch_add(events, Ordering::SeqCst);
        new
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
    let shared = Arc::new(Shared {
        options,
        transcript,
        stored_batches: Mutex::new(batch_log::BatchLog::default()),
        command_acked: Mutex::default(),
        roster: Mutex::default(),
        feed: Mutex::new(feed::Feed::default()),
        run_stream: RunStreamServer::new(broadcaster, dashboards.clone()),
        channels: ChannelServer::new(hub, dashboards),
        live_agents: Mutex::default(),
        next_session: AtomicU64::new(1),
    });
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
