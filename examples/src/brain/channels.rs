//! The channel endpoint on `/api/ws?token=` (document 004): a [`ChannelHub`] and each
//! connection's queue.

use brainwire_channel::{ChannelHub, ChannelId, ChannelKind, Event, SubscriptionPolicy};
use brainwire_close::NamesCloseCode;
use tokio::net::TcpStream;

use super::Shared;
use crate::http::upgrade;
use crate::outbox::{pump, send, Outboxes};
use crate::ws::close_message;

/// Largest message a channel client may send (the hub reads at most 4 KiB).
const MAX_CLIENT_MESSAGE: usize = 4 * 1024;
/// Most channels one connection may watch.
const MAX_SUBSCRIPTIONS: usize = 64;

/// Who may watch what: every agent and task channel, and this brain's one project; no
/// org or swarm channels, which this brain has none of.
#[derive(Debug, Clone)]
pub(super) struct ProjectScope {
    project_id: String,
}

impl ProjectScope {
    pub fn new(project_id: &str) -> Self {
        Self {
            project_id: project_id.to_owned(),
        }
    }
}

impl SubscriptionPolicy for ProjectScope {
    fn may_subscribe(&self, _user_id: &str, channel: &ChannelId) -> bool {
        match channel.kind() {
            ChannelKind::Agent | ChannelKind::Task => true,
            ChannelKind::Project => channel.id() == self.project_id,
            _ => false,
        }
    }
}

/// The channel connections, their subscriptions and queues.
#[derive(Debug)]
pub(super) struct Channels {
    hub: ChannelHub<u64>,
    outboxes: Outboxes,
}

impl Channels {
    pub fn new(scope: ProjectScope) -> Self {
        Self {
            hub: ChannelHub::new(scope, MAX_SUBSCRIPTIONS),
            outboxes: Outboxes::default(),
        }
    }

    /// Serializes `event` once and queues it for the subscribers of `channel`.
    pub fn publish(&mut self, event: &Event, channel: &ChannelId) {
        let fanout = self.hub.publish(event, channel);
        for slow in self.outboxes.deliver(&fanout.recipients, &fanout.bytes) {
            self.hub.leave(&slow);
        }
    }
}

/// Runs one channel connection of `user` whose request head (`read`) was read: answers
/// its `subscribe`/`unsubscribe` messages and sends it the events of its channels.
pub(super) async fn connection(
    stream: TcpStream,
    read: Vec<u8>,
    user: &str,
    shared: &Shared,
) -> anyhow::Result<()> {
    let mut socket = upgrade(stream, read, MAX_CLIENT_MESSAGE, 4 * 1024).await?;
    let id = shared.connection_id();
    let joined = {
        let mut channels = shared.channels.lock().expect("not poisoned");
        channels
            .hub
            .join(id, user)
            .map(|()| channels.outboxes.open(id))
    };
    let mut queue = match joined {
        Ok(queue) => queue,
        Err(e) => return send(&mut socket, close_message(&e.close_frame())).await,
    };
    let result = pump(&mut socket, &mut queue, |received| {
        let mut channels = shared.channels.lock().expect("not poisoned");
        Some(channels.hub.handle_message(&id, received).bytes)
    })
    .await;
    let mut channels = shared.channels.lock().expect("not poisoned");
    channels.hub.leave(&id);
    channels.outboxes.close(id);
    result
}
