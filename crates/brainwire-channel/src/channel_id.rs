//! `ChannelId`: `<kind>:<id>`.

use std::fmt;
use std::str::FromStr;

/// Longest id part of a channel id, in bytes.
pub const MAX_ID_BYTES: usize = 128;

/// The five kinds of channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChannelKind {
    /// `agent:<name>`: status changes and execution updates of one agent.
    Agent,
    /// `swarm:<id>`: phase changes, assignments, progress of one swarm.
    Swarm,
    /// `project:<id>`: all activity within a project.
    Project,
    /// `org:<id>`: organisation-wide events.
    Org,
    /// `task:<id>`: updates to one task.
    Task,
}

impl ChannelKind {
    /// The prefix before the colon.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Swarm => "swarm",
            Self::Project => "project",
            Self::Org => "org",
            Self::Task => "task",
        }
    }
}

/// A channel, `<kind>:<id>`.
///
/// The id part is 1 to [`MAX_ID_BYTES`] characters from `A-Z a-z 0-9 - _ .` (agent names
/// such as `my-coder-agent`, UUIDs, slugs). Document 004 does not say; these rules keep
/// ids printable, unambiguous and bounded. Anything else is a [`ChannelIdError`].
///
/// ```
/// use brainwire_channel::{ChannelId, ChannelKind};
/// let id: ChannelId = "agent:my-coder-agent".parse()?;
/// assert_eq!((id.kind(), id.id()), (ChannelKind::Agent, "my-coder-agent"));
/// assert_eq!(id.to_string(), "agent:my-coder-agent");
/// assert!("planet:earth".parse::<ChannelId>().is_err());
/// # Ok::<(), brainwire_channel::ChannelIdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId {
    kind: ChannelKind,
    id: String,
}

/// Why a channel id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChannelIdError {
    /// No `:` between kind and id.
    #[error("channel id has no ':'")]
    MissingColon,
    /// A kind other than the five.
    #[error("unknown channel kind")]
    UnknownKind,
    /// Nothing after the colon.
    #[error("channel id is empty")]
    EmptyId,
    /// More than [`MAX_ID_BYTES`].
    #[error("channel id of {len} bytes is longer than {MAX_ID_BYTES}")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// A character outside `A-Z a-z 0-9 - _ .`.
    #[error("channel id has a character outside A-Z a-z 0-9 - _ .")]
    InvalidCharacter,
}

impl ChannelIdError {
    /// A stable snake_case name for tools and logs.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::MissingColon => "missing_colon",
            Self::UnknownKind => "unknown_kind",
            Self::EmptyId => "empty_id",
            Self::TooLong { .. } => "too_long",
            Self::InvalidCharacter => "invalid_character",
        }
    }
}

impl ChannelId {
    /// A channel of `kind` with `id`.
    ///
    /// # Errors
    ///
    /// [`ChannelIdError`] when `id` breaks the rules above.
    pub fn new(kind: ChannelKind, id: &str) -> Result<Self, ChannelIdError> {
        if id.is_empty() {
            return Err(ChannelIdError::EmptyId);
        }
        if id.len() > MAX_ID_BYTES {
            return Err(ChannelIdError::TooLong { len: id.len() });
        }
        if !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(ChannelIdError::InvalidCharacter);
        }
        Ok(Self {
            kind,
            id: id.to_owned(),
        })
    }

    /// The kind.
    pub fn kind(&self) -> ChannelKind {
        self.kind
    }

    /// The part after the colon.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl FromStr for ChannelId {
    type Err = ChannelIdError;

    fn from_str(text: &str) -> Result<Self, ChannelIdError> {
        let (kind, id) = text.split_once(':').ok_or(ChannelIdError::MissingColon)?;
        let kind = match kind {
            "agent" => ChannelKind::Agent,
            "swarm" => ChannelKind::Swarm,
            "project" => ChannelKind::Project,
            "org" => ChannelKind::Org,
            "task" => ChannelKind::Task,
            _ => return Err(ChannelIdError::UnknownKind),
        };
        Self::new(kind, id)
    }
}

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.id)
    }
}

impl serde::Serialize for ChannelId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ChannelId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
