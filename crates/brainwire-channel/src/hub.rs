//! `ChannelHub`: the sans-IO core of a channel server.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::sync::Arc;

use brainwire_close::{NamesCloseCode, StandardCode};
use brainwire_core::{Fanout, Limits};
use bytes::Bytes;

use crate::{
    decode_client_with, encode_event, encode_server, ChannelId, ClientMessage, DecodeError,
    ErrorReply, Event, ServerMessage,
};

/// Whether a user may watch a channel: the server's authorization rule.
pub trait SubscriptionPolicy {
    /// May `user_id` (taken from the connection's token) subscribe to `channel`?
    fn may_subscribe(&self, user_id: &str, channel: &ChannelId) -> bool;
}

impl<F: Fn(&str, &ChannelId) -> bool> SubscriptionPolicy for F {
    fn may_subscribe(&self, user_id: &str, channel: &ChannelId) -> bool {
        self(user_id, channel)
    }
}

/// The hub's answer to a client message: the typed reply, to act on, and its encoding, to
/// send.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Reply {
    /// `subscribed`, `unsubscribed`, or an `error`.
    pub message: ServerMessage,
    /// `message`, encoded.
    pub bytes: Bytes,
}

/// Why a connection could not join.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JoinError {
    /// The connection id is in use.
    #[error("connection already joined")]
    AlreadyJoined,
    /// The hub holds its maximum of connections.
    #[error("{connections} connections, the limit")]
    Full {
        /// Connections held.
        connections: usize,
    },
}

impl NamesCloseCode for JoinError {
    type Code = StandardCode;

    /// 1013 (try again later) for a full hub, so the client reconnects with backoff;
    /// 1011 for an id already in use (the server's own bug).
    fn close_code(&self) -> StandardCode {
        match self {
            Self::Full { .. } => StandardCode::TryAgainLater,
            Self::AlreadyJoined => StandardCode::InternalError,
        }
    }
}

struct Connection {
    user_id: String,
    channels: BTreeSet<ChannelId>,
}

/// The core of a channel server, without I/O: connections join with the user id the
/// server took from the token; `subscribe` goes through a [`SubscriptionPolicy`] and a
/// per-connection limit; [`publish`](Self::publish) serializes an event once and returns
/// its recipients with one shared [`Bytes`]; leaving drops every subscription.
///
/// ```
/// use brainwire_channel::{ChannelHub, ChannelId, Event, ServerMessage, TaskDeleted};
///
/// // Any `Fn(&str, &ChannelId) -> bool` is a policy.
/// let own_org_only = |user: &str, channel: &ChannelId| channel.id() != "acme" || user == "alice";
/// let mut hub = ChannelHub::new(own_org_only, 16);
/// hub.join(1u64, "alice")?;
/// hub.join(2u64, "mallory")?;
/// let ask = br#"{"type":"subscribe","channelId":"org:acme"}"#;
/// let reply = hub.handle_message(&1, ask);
/// assert!(matches!(reply.message, ServerMessage::Subscribed(_)));
/// assert_eq!(&reply.bytes[..], br#"{"type":"subscribed","channelId":"org:acme"}"#);
/// assert!(hub.handle_message(&2, ask).bytes.starts_with(br#"{"type":"error","code":"forbidden""#));
///
/// let event = Event::TaskDeleted(TaskDeleted { task_id: "t-1".into(), timestamp: 1_738_805_400_000_u64.into() });
/// let fanout = hub.publish(&event, &"org:acme".parse()?);
/// assert_eq!(fanout.recipients, [1]);
/// assert_eq!(&fanout.bytes[..], br#"{"type":"task.deleted","payload":{"taskId":"t-1","timestamp":1738805400000}}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ChannelHub<C> {
    policy: Arc<dyn SubscriptionPolicy + Send + Sync>,
    connections: HashMap<C, Connection>,
    subscribers: HashMap<ChannelId, BTreeSet<C>>,
    max_subscriptions: usize,
    max_connections: usize,
    limits: Limits,
    encodings: u64,
}

impl<C> std::fmt::Debug for ChannelHub<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelHub")
            .field("connections", &self.connections.len())
            .field("channels", &self.subscribers.len())
            .field("encodings", &self.encodings)
            .finish_non_exhaustive()
    }
}

impl<C: Clone + Eq + Hash + Ord> ChannelHub<C> {
    /// A hub that lets users subscribe as `policy` decides, allowing `max_subscriptions`
    /// channels per connection, at most 50,000 connections, and client messages of at
    /// most 4 KiB.
    pub fn new(
        policy: impl SubscriptionPolicy + Send + Sync + 'static,
        max_subscriptions: usize,
    ) -> Self {
        Self {
            policy: Arc::new(policy),
            connections: HashMap::new(),
            subscribers: HashMap::new(),
            max_subscriptions,
            max_connections: 50_000,
            limits: Limits::default().max_bytes(4096).max_depth(8),
            encodings: 0,
        }
    }

    /// Caps the number of connections.
    #[must_use]
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    /// A connection of `user_id` joins.
    ///
    /// # Errors
    ///
    /// [`JoinError`] when the id is taken or the hub is full.
    pub fn join(&mut self, connection: C, user_id: impl Into<String>) -> Result<(), JoinError> {
        if self.connections.contains_key(&connection) {
            return Err(JoinError::AlreadyJoined);
        }
        if self.connections.len() >= self.max_connections {
            return Err(JoinError::Full {
                connections: self.connections.len(),
            });
        }
        self.connections.insert(
            connection,
            Connection {
                user_id: user_id.into(),
                channels: BTreeSet::new(),
            },
        );
        Ok(())
    }

    /// A connection leaves; every subscription it had is dropped. Returns how many.
    pub fn leave(&mut self, connection: &C) -> usize {
        let Some(gone) = self.connections.remove(connection) else {
            return 0;
        };
        for channel in &gone.channels {
            self.unlink(channel, connection);
        }
        gone.channels.len()
    }

    fn unlink(&mut self, channel: &ChannelId, connection: &C) {
        if let Some(set) = self.subscribers.get_mut(channel) {
            set.remove(connection);
            if set.is_empty() {
                self.subscribers.remove(channel);
            }
        }
    }

    /// Handles a message from `connection` and returns the reply to send it:
    /// `subscribed`, `unsubscribed`, or an `error` (`bad_request`, `forbidden`,
    /// `too_many_subscriptions`, `not_subscribed`, `unknown_connection`).
    pub fn handle_message(&mut self, connection: &C, wire: &[u8]) -> Reply {
        let message = match decode_client_with(wire, &self.limits) {
            Ok(message) => self.apply(connection, message),
            Err(e) => error_reply(&e),
        };
        let bytes = encode_server(&message);
        Reply { message, bytes }
    }

    fn apply(&mut self, connection: &C, message: ClientMessage) -> ServerMessage {
        let max = self.max_subscriptions;
        let Some(conn) = self.connections.get_mut(connection) else {
            return ServerMessage::Error(ErrorReply::new(
                "unknown_connection",
                "join before subscribing",
                None,
            ));
        };
        match message {
            ClientMessage::Subscribe(channel) => {
                if conn.channels.contains(&channel) {
                    return ServerMessage::Subscribed(channel);
                }
                if !self.policy.may_subscribe(&conn.user_id, &channel) {
                    return ServerMessage::Error(ErrorReply::new(
                        "forbidden",
                        "not allowed to watch this channel",
                        Some(channel),
                    ));
                }
                if conn.channels.len() >= max {
                    let text = format!("at most {max} subscriptions per connection");
                    return ServerMessage::Error(ErrorReply::new(
                        "too_many_subscriptions",
                        text,
                        Some(channel),
                    ));
                }
                conn.channels.insert(channel.clone());
                self.subscribers
                    .entry(channel.clone())
                    .or_default()
                    .insert(connection.clone());
                ServerMessage::Subscribed(channel)
            }
            ClientMessage::Unsubscribe(channel) => {
                if !conn.channels.remove(&channel) {
                    return ServerMessage::Error(ErrorReply::new(
                        "not_subscribed",
                        "not subscribed to this channel",
                        Some(channel),
                    ));
                }
                self.unlink(&channel, connection);
                ServerMessage::Unsubscribed(channel)
            }
        }
    }

    /// Serializes `event` once for every subscriber of `channel`.
    pub fn publish(&mut self, event: &Event, channel: &ChannelId) -> Fanout<C> {
        let bytes = self.encode(event);
        self.fanout(channel, bytes)
    }

    /// Serializes `event` once without sending it: the bytes a brain on several nodes
    /// publishes on its bus, for every node to [`fanout`](Self::fanout).
    pub fn encode(&mut self, event: &Event) -> Bytes {
        self.encodings += 1;
        encode_event(event)
    }

    /// `bytes`, an encoded event (from [`encode`](Self::encode), here or on another node),
    /// for every subscriber of `channel`, unchanged: nothing is decoded or serialized.
    pub fn fanout(&self, channel: &ChannelId, bytes: Bytes) -> Fanout<C> {
        let recipients = self
            .subscribers
            .get(channel)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        Fanout { bytes, recipients }
    }

    /// The channels at least one connection watches: what a node of a multi-node brain
    /// subscribes to on its bus.
    pub fn channels(&self) -> impl Iterator<Item = &ChannelId> {
        // A channel's entry goes with its last subscriber.
        self.subscribers.keys()
    }

    /// How many connections watch `channel`.
    pub fn subscribers(&self, channel: &ChannelId) -> usize {
        self.subscribers.get(channel).map_or(0, BTreeSet::len)
    }

    /// The channels `connection` watches.
    pub fn subscriptions(&self, connection: &C) -> impl Iterator<Item = &ChannelId> {
        self.connections
            .get(connection)
            .into_iter()
            .flat_map(|c| c.channels.iter())
    }

    /// Events serialized so far: one per publish, whatever the number of recipients.
    pub fn encodings(&self) -> u64 {
        self.encodings
    }
}

fn error_reply(error: &DecodeError) -> ServerMessage {
    ServerMessage::Error(ErrorReply::new(
        "bad_request",
        format!("{error} ({})", error.kind()),
        None,
    ))
}
