//! Who may watch which channel on `/api/ws?token=` (document 004).

use brainwire_channel::{ChannelId, ChannelKind, SubscriptionPolicy};

/// Most channels one connection may watch.
pub(super) const MAX_SUBSCRIPTIONS: usize = 64;

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
