//! The client's side: which channels it wants, replayed after a reconnect.

use std::collections::BTreeSet;

use bytes::Bytes;

use crate::{encode_client, ChannelId, ClientMessage, ServerMessage};

/// The channels a client wants. Document 004: "when a connection closes, all session
/// state is lost"; after a reconnect, [`resubscribe`](Self::resubscribe) gives the
/// `subscribe` messages that restore them.
///
/// ```
/// use brainwire_channel::{ServerMessage, Subscriptions};
///
/// let mut subs = Subscriptions::default();
/// let ask = subs.subscribe("agent:my-agent".parse()?).unwrap();
/// assert_eq!(&ask[..], br#"{"type":"subscribe","channelId":"agent:my-agent"}"#);
/// subs.handle_message(&ServerMessage::Subscribed("agent:my-agent".parse()?));
/// assert!(subs.is_confirmed(&"agent:my-agent".parse()?));
///
/// // The socket dropped and came back: ask again for everything.
/// let again = subs.resubscribe();
/// assert_eq!(again.len(), 1);
/// assert!(!subs.is_confirmed(&"agent:my-agent".parse()?));
/// # Ok::<(), brainwire_channel::ChannelIdError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Subscriptions {
    wanted: BTreeSet<ChannelId>,
    confirmed: BTreeSet<ChannelId>,
}

impl Subscriptions {
    /// Wants `channel`; returns the `subscribe` to send, or `None` if already wanted.
    pub fn subscribe(&mut self, channel: ChannelId) -> Option<Bytes> {
        let message = encode_client(&ClientMessage::Subscribe(channel.clone()));
        self.wanted.insert(channel).then_some(message)
    }

    /// No longer wants `channel`; returns the `unsubscribe` to send, or `None`.
    pub fn unsubscribe(&mut self, channel: &ChannelId) -> Option<Bytes> {
        self.confirmed.remove(channel);
        self.wanted
            .remove(channel)
            .then(|| encode_client(&ClientMessage::Unsubscribe(channel.clone())))
    }

    /// After a reconnect: the `subscribe` of every wanted channel, in order. Nothing is
    /// confirmed until the server says so again.
    pub fn resubscribe(&mut self) -> Vec<Bytes> {
        self.confirmed.clear();
        self.wanted
            .iter()
            .map(|c| encode_client(&ClientMessage::Subscribe(c.clone())))
            .collect()
    }

    /// Notes the server's confirmations and refusals.
    pub fn handle_message(&mut self, message: &ServerMessage) {
        match message {
            ServerMessage::Subscribed(c) if self.wanted.contains(c) => {
                self.confirmed.insert(c.clone());
            }
            ServerMessage::Unsubscribed(c) => {
                self.confirmed.remove(c);
            }
            ServerMessage::Error(e) => {
                if let Some(c) = &e.channel_id {
                    // A refused channel is not retried after a reconnect either.
                    self.wanted.remove(c);
                    self.confirmed.remove(c);
                }
            }
            _ => {}
        }
    }

    /// Whether the server confirmed `channel` on this connection.
    pub fn is_confirmed(&self, channel: &ChannelId) -> bool {
        self.confirmed.contains(channel)
    }

    /// The channels wanted.
    pub fn wanted(&self) -> impl Iterator<Item = &ChannelId> {
        self.wanted.iter()
    }
}
