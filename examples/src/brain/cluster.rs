//! What the brain's nodes share, and how they reach each other: in this process when the
//! brain runs alone, in Redis when it runs on several nodes (`--redis URL --node NAME`).
//!
//! In Redis (every key under `bw:{project}:`):
//!
//! | key | what |
//! |---|---|
//! | `owner:{agent}` | the node holding the agent's connection; 30 s TTL, refreshed on heartbeats by that node only |
//! | `agents` | every agent id seen |
//! | `batch:{agent}:{batch}` | a stored batch (set with its events, in one script: each batch once) |
//! | `events:{agent}` | the agent's events, a stream |
//! | `cmd:{id}` | a command and its status (`pending`, `sent`, `acked`, `completed`, `failed`) |
//! | `pending:{agent}` | the ids of the agent's commands not yet finished |
//! | `revoked:{agent}` | a revoked agent |
//!
//! and on pub/sub: `run` (encoded run messages), `chan:{channel}` (encoded channel events,
//! subscribed by a node only while one of its clients watches the channel) and
//! `node:{name}` (commands, revocations and replacements for the agents a node holds).
//!
//! An agent has one live connection in the cluster, as on one node: the node it connects
//! to takes its ownership and tells the node that held it, which closes its older
//! connection with 4002 (replaced).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use anyhow::Context;
use brainwire_channel::ChannelId;
use brainwire_tokio::{ChannelServer, RunStreamServer};
use bytes::Bytes;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;

use super::batch_log::BatchLog;

/// How long an agent's ownership lasts without a heartbeat.
const OWNER_TTL_SECONDS: u64 = 30;
/// How long a stored batch id is remembered (a re-send comes within minutes).
const BATCH_TTL_SECONDS: u64 = 7 * 24 * 3600;
/// Most events kept per agent in Redis (older ones are trimmed).
const MAX_EVENTS_PER_AGENT: usize = 1_000_000;
/// Most events kept per agent by a single-node brain, in memory: as many as one
/// `GET /api/events` lists (the count goes on).
const MAX_EVENTS_IN_MEMORY: usize = MAX_EVENTS_LISTED;
/// Most events one `GET /api/events` returns (`count` is the total).
pub(crate) const MAX_EVENTS_LISTED: usize = 10_000;
/// Most commands kept in memory by a single-node brain.
const MAX_COMMANDS: usize = 100_000;
/// Bus messages a node takes from Redis faster than it hands them to its clients; past
/// it, messages are dropped and counted (dashboards are best effort, like a slow one).
const BUS_QUEUE: usize = 65_536;

/// A command as every node reports it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct CommandRecord {
    pub command_id: String,
    pub agent_id: String,
    pub action: String,
    pub target: Value,
    pub parameters: Value,
    /// `pending`, `sent`, `acked`, `completed` or `failed`.
    pub status: String,
    pub result: Option<Value>,
    pub error: Option<String>,
}

impl CommandRecord {
    /// Whether the agent still has to finish it.
    pub(crate) fn is_open(&self) -> bool {
        matches!(self.status.as_str(), "pending" | "sent" | "acked")
    }
}

/// What a node is told to do for an agent it holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum NodeMessage {
    /// Send the stored command `command_id` to its agent (signed by this node's session).
    Command {
        agent_id: String,
        command_id: String,
    },
    /// Close the agent's connection with 4003.
    Revoke { agent_id: String },
    /// The agent connected to another node: close its connection here with 4002, unless
    /// this node has taken it back meanwhile.
    Replaced { agent_id: String },
}

/// The brain's shared state and bus; cheap to clone.
#[derive(Clone)]
pub(crate) struct Cluster {
    node: Arc<str>,
    backend: Backend,
    run_stream: RunStreamServer,
    channels: ChannelServer,
    /// What this node must do for its agents.
    local: mpsc::Sender<NodeMessage>,
}

#[derive(Clone)]
enum Backend {
    Memory(Arc<Mutex<Memory>>),
    Redis(Box<Redis>),
}

#[derive(Clone)]
struct Redis {
    connection: ConnectionManager,
    prefix: Arc<str>,
    /// Publications, sent in order by one task.
    bus: mpsc::Sender<(String, Bytes)>,
}

#[derive(Default)]
struct Memory {
    online: HashMap<String, String>,
    batches: BatchLog,
    events: HashMap<String, (u64, Vec<String>)>,
    commands: HashMap<String, CommandRecord>,
    pending: HashMap<String, BTreeSet<String>>,
    revoked: HashSet<String>,
}

impl Cluster {
    /// A brain on one node: everything in this process.
    pub(crate) fn memory(
        run_stream: RunStreamServer,
        channels: ChannelServer,
        local: mpsc::Sender<NodeMessage>,
    ) -> Self {
        Self {
            node: "local".into(),
            backend: Backend::Memory(Arc::default()),
            run_stream,
            channels,
            local,
        }
    }

    /// A node `node` of a brain sharing Redis at `url` with its other nodes, for project
    /// `project`. Starts the tasks that publish on the bus and deliver what it carries,
    /// and gives them to the caller to end with the node.
    pub(crate) async fn redis(
        url: &str,
        node: &str,
        project: &str,
        run_stream: RunStreamServer,
        channels: ChannelServer,
        local: mpsc::Sender<NodeMessage>,
        dropped: Arc<std::sync::atomic::AtomicUsize>,
    ) -> anyhow::Result<(Self, Vec<tokio::task::JoinHandle<()>>)> {
        let info: redis::ConnectionInfo = url.parse().context("--redis must be a redis:// URL")?;
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(redis::ProtocolVersion::RESP3);
        let info = info.set_redis_settings(settings);
        let client = redis::Client::open(info).context("--redis")?;
        let connection = ConnectionManager::new(client.clone())
            .await
            .context("connecting to Redis")?;
        let prefix: Arc<str> = format!("bw:{project}:").into();

        // Pushes (subscribed messages) go through a bounded queue to one delivery task.
        let (pushes, received) = mpsc::channel(BUS_QUEUE);
        let counter = Arc::clone(&dropped);
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_push_sender(move |push: redis::PushInfo| {
                if pushes.try_send(push).is_err() {
                    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Ok::<(), std::convert::Infallible>(())
            })
            .set_automatic_resubscription();
        let mut subscriber = client
            .get_connection_manager_with_config(config)
            .await
            .context("subscribing to Redis")?;
        subscriber.subscribe(format!("{prefix}run")).await?;
        subscriber.subscribe(format!("{prefix}node:{node}")).await?;

        let (bus, outgoing) = mpsc::channel(4096);
        let publisher = tokio::spawn(publish_in_order(connection.clone(), outgoing));
        let cluster = Self {
            node: node.into(),
            backend: Backend::Redis(Box::new(Redis {
                connection,
                prefix: Arc::clone(&prefix),
                bus,
            })),
            run_stream,
            channels,
            local,
        };
        let deliverer = tokio::spawn(cluster.clone().deliver(received));
        let follower = tokio::spawn(cluster.clone().follow_subscriptions(subscriber));
        Ok((cluster, vec![publisher, deliverer, follower]))
    }

    /// `agent_id` connected to this node.
    pub(crate) async fn agent_online(&self, agent_id: &str) -> anyhow::Result<()> {
        match &self.backend {
            Backend::Memory(memory) => {
                let mut memory = memory.lock().expect("not poisoned");
                memory
                    .online
                    .insert(agent_id.to_owned(), self.node.to_string());
                Ok(())
            }
            Backend::Redis(redis) => {
                let mut c = redis.connection.clone();
                let owner = format!("{}owner:{agent_id}", redis.prefix);
                // SET .. GET: the node that held the agent, read in the same step.
                let (previous,): (Option<String>,) = redis::pipe()
                    .cmd("SET")
                    .arg(&owner)
                    .arg(&*self.node)
                    .arg("EX")
                    .arg(OWNER_TTL_SECONDS)
                    .arg("GET")
                    .sadd(format!("{}agents", redis.prefix), agent_id)
                    .ignore()
                    .query_async(&mut c)
                    .await
                    .context("ownership not recorded")?;
                if let Some(previous) = previous.filter(|p| **p != *self.node) {
                    let replaced = NodeMessage::Replaced {
                        agent_id: agent_id.to_owned(),
                    };
                    self.announce(&previous, &replaced).await.with_context(|| {
                        format!("ownership recorded, but node {previous} was not told")
                    })?;
                }
                Ok(())
            }
        }
    }

    /// Whether this node holds `agent_id`'s ownership (always, on one node).
    pub(crate) async fn owns(&self, agent_id: &str) -> anyhow::Result<bool> {
        match &self.backend {
            Backend::Memory(_) => Ok(true),
            Backend::Redis(redis) => {
                let mut c = redis.connection.clone();
                let owner: Option<String> =
                    c.get(format!("{}owner:{agent_id}", redis.prefix)).await?;
                Ok(owner.as_deref() == Some(&*self.node))
            }
        }
    }

    /// `agent_id`'s connection here is still alive (a heartbeat): its ownership lasts,
    /// or comes back once expired. A heartbeat on a connection another node has replaced
    /// (before it closes) leaves that node's ownership alone.
    pub(crate) async fn agent_alive(&self, agent_id: &str) -> anyhow::Result<()> {
        if let Backend::Redis(redis) = &self.backend {
            let mut c = redis.connection.clone();
            let owner = format!("{}owner:{agent_id}", redis.prefix);
            let _: redis::Value = REFRESH_OWNER
                .key(owner)
                .arg(&*self.node)
                .arg(OWNER_TTL_SECONDS)
                .invoke_async(&mut c)
                .await?;
        }
        Ok(())
    }

    /// `agent_id`'s connection to this node ended (its ownership goes, unless another
    /// node took it meanwhile).
    pub(crate) async fn agent_offline(&self, agent_id: &str) -> anyhow::Result<()> {
        match &self.backend {
            Backend::Memory(memory) => {
                memory.lock().expect("not poisoned").online.remove(agent_id);
                Ok(())
            }
            Backend::Redis(redis) => {
                let mut c = redis.connection.clone();
                let owner = format!("{}owner:{agent_id}", redis.prefix);
                let _: i64 = RELEASE_OWNER
                    .key(owner)
                    .arg(&*self.node)
                    .invoke_async(&mut c)
                    .await?;
                Ok(())
            }
        }
    }

    /// The agents connected to some node, with that node.
    pub(crate) async fn online(&self) -> anyhow::Result<Vec<(String, String)>> {
        match &self.backend {
            Backend::Memory(memory) => {
                let memory = memory.lock().expect("not poisoned");
                let mut online: Vec<_> = memory.online.clone().into_iter().collect();
                online.sort();
                Ok(online)
            }
            Backend::Redis(redis) => {
                let mut c = redis.connection.clone();
                let mut agents: Vec<String> = c.smembers(format!("{}agents", redis.prefix)).await?;
                agents.sort();
                if agents.is_empty() {
                    return Ok(Vec::new());
                }
                let keys: Vec<String> = agents
                    .iter()
                    .map(|a| format!("{}owner:{a}", redis.prefix))
                    .collect();
                let owners: Vec<Option<String>> = c.mget(keys).await?;
                Ok(agents
                    .into_iter()
                    .zip(owners)
                    .filter_map(|(agent, owner)| Some((agent, owner?)))
                    .collect())
            }
        }
    }

    /// Stores batch `batch` of `agent_id` with its `events` (JSON texts), once: `false`
    /// when it was stored before, by any node (a batch re-sent after a reconnect or a
    /// failover).
    pub(crate) async fn store_batch(
        &self,
        agent_id: &str,
        batch: &str,
        events: &[&str],
    ) -> anyhow::Result<bool> {
        match &self.backend {
            Backend::Memory(memory) => {
                let mut memory = memory.lock().expect("not poisoned");
                if !memory.batches.insert(agent_id, batch) {
                    return Ok(false);
                }
                let (count, kept) = memory.events.entry(agent_id.to_owned()).or_default();
                *count += events.len() as u64;
                let room = MAX_EVENTS_IN_MEMORY.saturating_sub(kept.len());
                kept.extend(events.iter().take(room).map(|e| (*e).to_owned()));
                Ok(true)
            }
            Backend::Redis(redis) => {
                let mut invocation = STORE_BATCH.prepare_invoke();
                invocation
                    .key(format!("{}batch:{agent_id}:{batch}", redis.prefix))
                    .key(format!("{}events:{agent_id}", redis.prefix))
                    .arg(BATCH_TTL_SECONDS)
                    .arg(MAX_EVENTS_PER_AGENT);
                for event in events {
                    invocation.arg(*event);
                }
                let mut c = redis.connection.clone();
                let stored: i64 = invocation.invoke_async(&mut c).await?;
                Ok(stored == 1)
            }
        }
    }

    /// How many events `agent_id` has stored, and the first [`MAX_EVENTS_LISTED`].
    pub(crate) async fn events(&self, agent_id: &str) -> anyhow::Result<(u64, Vec<Value>)> {
        let texts: Vec<String>;
        let count;
        match &self.backend {
            Backend::Memory(memory) => {
                let memory = memory.lock().expect("not poisoned");
                let Some((stored, kept)) = memory.events.get(agent_id) else {
                    return Ok((0, Vec::new()));
                };
                count = *stored;
                texts = kept.iter().take(MAX_EVENTS_LISTED).cloned().collect();
            }
            Backend::Redis(redis) => {
                let mut c = redis.connection.clone();
                let key = format!("{}events:{agent_id}", redis.prefix);
                count = c.xlen(&key).await?;
                let reply: redis::streams::StreamRangeReply =
                    c.xrange_count(&key, "-", "+", MAX_EVENTS_LISTED).await?;
                texts = reply
                    .ids
                    .into_iter()
                    .filter_map(|entry| entry.get::<String>("e"))
                    .collect();
            }
        }
        let events = texts
            .iter()
            .filter_map(|text| serde_json::from_str(text).ok())
            .collect();
        Ok((count, events))
    }

    /// Stores a new command for `record.agent_id` as pending and tells the node holding
    /// the agent, if one does.
    ///
    /// # Errors
    ///
    /// Redis failed, or (one node) [`MAX_COMMANDS`] are kept already.
    pub(crate) async fn create_command(&self, record: CommandRecord) -> anyhow::Result<()> {
        let announce = NodeMessage::Command {
            agent_id: record.agent_id.clone(),
            command_id: record.command_id.clone(),
        };
        match &self.backend {
            Backend::Memory(memory) => {
                let online = {
                    let mut memory = memory.lock().expect("not poisoned");
                    anyhow::ensure!(memory.commands.len() < MAX_COMMANDS, "too many commands");
                    memory
                        .pending
                        .entry(record.agent_id.clone())
                        .or_default()
                        .insert(record.command_id.clone());
                    let online = memory.online.contains_key(&record.agent_id);
                    memory.commands.insert(record.command_id.clone(), record);
                    online
                };
                if online {
                    let _ = self.local.send(announce).await;
                }
                Ok(())
            }
            Backend::Redis(redis) => {
                let mut c = redis.connection.clone();
                let owner_key = format!("{}owner:{}", redis.prefix, record.agent_id);
                let ((), (), owner): ((), (), Option<String>) = redis::pipe()
                    .set(
                        format!("{}cmd:{}", redis.prefix, record.command_id),
                        serde_json::to_string(&record)?,
                    )
                    .sadd(
                        format!("{}pending:{}", redis.prefix, record.agent_id),
                        &record.command_id,
                    )
                    .get(owner_key)
                    .query_async(&mut c)
                    .await?;
                if let Some(owner) = owner {
                    self.announce(&owner, &announce).await?;
                }
                Ok(())
            }
        }
    }

    /// The command `command_id`, as any node sees it.
    pub(crate) async fn command(&self, command_id: &str) -> anyhow::Result<Option<CommandRecord>> {
        match &self.backend {
            Backend::Memory(memory) => Ok(memory
                .lock()
                .expect("not poisoned")
                .commands
                .get(command_id)
                .cloned()),
            Backend::Redis(redis) => {
                let mut c = redis.connection.clone();
                let text: Option<String> =
                    c.get(format!("{}cmd:{command_id}", redis.prefix)).await?;
                Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
            }
        }
    }

    /// Records what became of a command (only the node holding its agent writes this).
    pub(crate) async fn update_command(&self, record: &CommandRecord) -> anyhow::Result<()> {
        match &self.backend {
            Backend::Memory(memory) => {
                let mut memory = memory.lock().expect("not poisoned");
                if !record.is_open() {
                    if let Some(pending) = memory.pending.get_mut(&record.agent_id) {
                        pending.remove(&record.command_id);
                    }
                }
                memory
                    .commands
                    .insert(record.command_id.clone(), record.clone());
                Ok(())
            }
            Backend::Redis(redis) => {
                let mut c = redis.connection.clone();
                let mut pipe = redis::pipe();
                pipe.set(
                    format!("{}cmd:{}", redis.prefix, record.command_id),
                    serde_json::to_string(record)?,
                )
                .ignore();
                if !record.is_open() {
                    pipe.srem(
                        format!("{}pending:{}", redis.prefix, record.agent_id),
                        &record.command_id,
                    )
                    .ignore();
                }
                let () = pipe.query_async(&mut c).await?;
                Ok(())
            }
        }
    }

    /// The ids of `agent_id`'s commands not yet finished.
    pub(crate) async fn open_commands(&self, agent_id: &str) -> anyhow::Result<Vec<String>> {
        match &self.backend {
            Backend::Memory(memory) => Ok(memory
                .lock()
                .expect("not poisoned")
                .pending
                .get(agent_id)
                .map(|p| p.iter().cloned().collect())
                .unwrap_or_default()),
            Backend::Redis(redis) => {
                let mut c = redis.connection.clone();
                let mut ids: Vec<String> = c
                    .smembers(format!("{}pending:{agent_id}", redis.prefix))
                    .await?;
                ids.sort();
                Ok(ids)
            }
        }
    }

    /// Revokes `agent_id`: its connection, on whichever node, closes with 4003, and it
    /// is refused from now on.
    pub(crate) async fn revoke(&self, agent_id: &str) -> anyhow::Result<()> {
        let revoke = NodeMessage::Revoke {
            agent_id: agent_id.to_owned(),
        };
        match &self.backend {
            Backend::Memory(memory) => {
                memory
                    .lock()
                    .expect("not poisoned")
                    .revoked
                    .insert(agent_id.to_owned());
                let _ = self.local.send(revoke).await;
                Ok(())
            }
            Backend::Redis(redis) => {
                let mut c = redis.connection.clone();
                let ((), owner): ((), Option<String>) = redis::pipe()
                    .set(format!("{}revoked:{agent_id}", redis.prefix), 1)
                    .get(format!("{}owner:{agent_id}", redis.prefix))
                    .query_async(&mut c)
                    .await?;
                if let Some(owner) = owner {
                    self.announce(&owner, &revoke).await?;
                }
                Ok(())
            }
        }
    }

    /// Whether `agent_id` was revoked.
    pub(crate) async fn is_revoked(&self, agent_id: &str) -> anyhow::Result<bool> {
        match &self.backend {
            Backend::Memory(memory) => Ok(memory
                .lock()
                .expect("not poisoned")
                .revoked
                .contains(agent_id)),
            Backend::Redis(redis) => {
                let mut c = redis.connection.clone();
                Ok(c.exists(format!("{}revoked:{agent_id}", redis.prefix))
                    .await?)
            }
        }
    }

    /// Publishes an encoded run message to every node's run stream clients.
    pub(crate) async fn publish_run(&self, bytes: Bytes) {
        match &self.backend {
            Backend::Memory(_) => {
                self.run_stream.publish_encoded(bytes);
            }
            Backend::Redis(redis) => {
                let _ = redis
                    .bus
                    .send((format!("{}run", redis.prefix), bytes))
                    .await;
            }
        }
    }

    /// Publishes an encoded channel event to every node's subscribers of `channel`.
    pub(crate) async fn publish_channel(&self, channel: &ChannelId, bytes: Bytes) {
        match &self.backend {
            Backend::Memory(_) => {
                self.channels.publish_encoded(channel, bytes);
            }
            Backend::Redis(redis) => {
                let name = format!("{}chan:{channel}", redis.prefix);
                let _ = redis.bus.send((name, bytes)).await;
            }
        }
    }

    async fn announce(&self, node: &str, message: &NodeMessage) -> anyhow::Result<()> {
        if node == &*self.node {
            let _ = self.local.send(message.clone()).await;
            return Ok(());
        }
        if let Backend::Redis(redis) = &self.backend {
            let mut c = redis.connection.clone();
            let channel = format!("{}node:{node}", redis.prefix);
            let _: i64 = c.publish(channel, serde_json::to_vec(message)?).await?;
        }
        Ok(())
    }

    /// Hands what the bus carries to this node: run messages and channel events to its
    /// clients (the bytes as published, not decoded), node messages to its agents.
    async fn deliver(self, mut received: mpsc::Receiver<redis::PushInfo>) {
        let Backend::Redis(redis) = &self.backend else {
            return;
        };
        let run = format!("{}run", redis.prefix);
        let channel_prefix = format!("{}chan:", redis.prefix);
        let node = format!("{}node:{}", redis.prefix, self.node);
        while let Some(push) = received.recv().await {
            if push.kind != redis::PushKind::Message {
                continue;
            }
            // The payload's buffer, as Redis gave it, becomes the `Bytes` every client
            // gets: no copy, no decode.
            let mut data = push.data.into_iter();
            let (
                Some(redis::Value::BulkString(name)),
                Some(redis::Value::BulkString(payload)),
                None,
            ) = (data.next(), data.next(), data.next())
            else {
                continue;
            };
            let Ok(name) = std::str::from_utf8(&name) else {
                continue;
            };
            let payload = Bytes::from(payload);
            if name == run {
                self.run_stream.publish_encoded(payload);
            } else if let Some(channel) = name.strip_prefix(&channel_prefix) {
                if let Ok(channel) = channel.parse::<ChannelId>() {
                    self.channels.publish_encoded(&channel, payload);
                }
            } else if name == node {
                if let Ok(message) = serde_json::from_slice::<NodeMessage>(&payload) {
                    let _ = self.local.send(message).await;
                }
            }
        }
    }

    /// Keeps this node's channel subscriptions on the bus equal to the channels its
    /// clients watch.
    async fn follow_subscriptions(self, mut subscriber: ConnectionManager) {
        let Backend::Redis(redis) = &self.backend else {
            return;
        };
        let mut changed = self.channels.subscriptions_changed();
        let mut subscribed: BTreeSet<String> = BTreeSet::new();
        loop {
            let wanted: BTreeSet<String> = self
                .channels
                .subscribed_channels()
                .iter()
                .map(|c| format!("{}chan:{c}", redis.prefix))
                .collect();
            for name in wanted.difference(&subscribed) {
                let _ = subscriber.subscribe(name).await;
            }
            for name in subscribed.difference(&wanted) {
                let _ = subscriber.unsubscribe(name).await;
            }
            subscribed = wanted;
            if changed.changed().await.is_err() {
                return;
            }
        }
    }
}

/// Sends the node's publications to Redis in order, pipelining what has queued up.
async fn publish_in_order(
    mut connection: ConnectionManager,
    mut outgoing: mpsc::Receiver<(String, Bytes)>,
) {
    let mut batch = Vec::with_capacity(256);
    while outgoing.recv_many(&mut batch, 256).await > 0 {
        let mut pipe = redis::pipe();
        for (channel, bytes) in batch.drain(..) {
            pipe.publish(channel, bytes.as_ref()).ignore();
        }
        // Redis down: these publications are lost (dashboards are best effort); the
        // connection manager reconnects for the next ones.
        let _: Result<(), _> = pipe.query_async(&mut connection).await;
    }
}

/// Refreshes an agent's ownership (`KEYS[1]`) for node `ARGV[1]`, for `ARGV[2]` seconds,
/// unless another node holds it. Each script is built once: building one hashes its text.
static REFRESH_OWNER: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        "local held = redis.call('GET', KEYS[1]) \
         if held == false or held == ARGV[1] then \
         return redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end return 0",
    )
});

/// Deletes an agent's ownership (`KEYS[1]`) if node `ARGV[1]` still holds it.
static RELEASE_OWNER: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then \
         return redis.call('DEL', KEYS[1]) end return 0",
    )
});

/// Stores a batch once: its id (`KEYS[1]`, for `ARGV[1]` seconds) and its events
/// (`ARGV[3..]`, into the stream `KEYS[2]` capped near `ARGV[2]`) in one script, so a
/// node that dies between the two leaves neither, and the agent's re-send stores it then.
static STORE_BATCH: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
            for i = 3, #ARGV do
              redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[i])
            end
            return 1
          end
          return 0",
    )
});

/// How often a node looks for commands its agents should have and did not get (a
/// notification lost while a node restarted, or sent before the agent connected).
pub(crate) const SWEEP_INTERVAL: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use super::*;

    fn one_node() -> Cluster {
        let run_stream = RunStreamServer::new(
            brainwire_run::Broadcaster::new("hi", brainwire_core::WallClock::system()),
            brainwire_tokio::DashboardOptions::default(),
        );
        let hub = brainwire_channel::ChannelHub::new(
            super::super::channels::ProjectScope::new("p"),
            super::super::channels::MAX_SUBSCRIPTIONS,
        );
        let channels = ChannelServer::new(hub, brainwire_tokio::DashboardOptions::default());
        let (local, _) = mpsc::channel(1);
        Cluster::memory(run_stream, channels, local)
    }

    #[tokio::test]
    async fn one_node_stores_each_batch_once_and_keeps_a_bounded_number_of_events() {
        let cluster = one_node();
        let texts: Vec<String> = (0..500).map(|i| format!(r#"{{"i":{i}}}"#)).collect();
        let batch: Vec<&str> = texts.iter().map(String::as_str).collect();
        assert!(cluster.store_batch("a", "b-1", &batch).await.unwrap());
        assert!(
            !cluster.store_batch("a", "b-1", &batch).await.unwrap(),
            "a re-send"
        );
        for n in 2..=30 {
            cluster
                .store_batch("a", &format!("b-{n}"), &batch)
                .await
                .unwrap();
        }
        let (count, listed) = cluster.events("a").await.unwrap();
        assert_eq!(count, 15_000, "every stored event is counted");
        assert_eq!(listed.len(), MAX_EVENTS_LISTED);
        let Backend::Memory(memory) = &cluster.backend else {
            unreachable!()
        };
        let kept = memory.lock().unwrap().events["a"].1.len();
        assert_eq!(
            kept, MAX_EVENTS_IN_MEMORY,
            "memory holds no more than it lists"
        );
    }
}
