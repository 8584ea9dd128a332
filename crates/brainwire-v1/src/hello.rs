//! `hello`, the agent's first frame.

use std::collections::BTreeMap;

use brainwire_core::{JsonObject, JsonValue};
use serde::{Deserialize, Serialize};

use crate::extras::{self, Members};
use crate::open_enum::open_string_enum;

open_string_enum! {
    /// The web framework an agent runs in; unknown ones are kept.
    pub enum Framework {
        Django => "django",
        Flask => "flask",
        Fastapi => "fastapi",
        Bare => "bare",
    }
}

/// `hello`: who the agent is and what it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Hello {
    /// Always `"v1"`; another value is refused with 4001.
    pub protocol: String,
    /// The agent's name.
    pub agent_name: String,
    /// Its framework.
    pub framework: Framework,
    /// The framework's version.
    pub framework_version: String,
    /// Task engines.
    pub engines: Vec<String>,
    /// Schedulers.
    pub schedulers: Vec<String>,
    /// Capabilities per engine or scheduler, kept as sent.
    pub capabilities: BTreeMap<String, JsonObject>,
    /// Host facts: `hostname`, `pid`, and any others.
    pub metadata: Metadata,
}

impl Hello {
    /// A `hello` for protocol `"v1"` with no engines, schedulers or capabilities.
    pub fn new(
        agent_name: impl Into<String>,
        framework: Framework,
        framework_version: impl Into<String>,
        metadata: Metadata,
    ) -> Self {
        Self {
            protocol: "v1".into(),
            agent_name: agent_name.into(),
            framework,
            framework_version: framework_version.into(),
            engines: Vec::new(),
            schedulers: Vec::new(),
            capabilities: BTreeMap::new(),
            metadata,
        }
    }
}

/// `hello.metadata`: `hostname` and `pid`, and every other member kept as sent.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Metadata {
    /// The host's name.
    pub hostname: String,
    /// The agent's process id.
    pub pid: u64,
    /// Every other member, as exact JSON text.
    pub extra: Members,
}

impl Metadata {
    /// Metadata with no extra members.
    pub fn new(hostname: impl Into<String>, pid: u64) -> Self {
        Self {
            hostname: hostname.into(),
            pid,
            extra: BTreeMap::new(),
        }
    }

    /// Adds an extra member.
    #[must_use]
    pub fn with(mut self, key: impl Into<String>, value: JsonValue) -> Self {
        self.extra.insert(key.into(), value);
        self
    }
}

impl Serialize for Metadata {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let known = [
            ("hostname", extras::json(&self.hostname)?),
            ("pid", extras::json(&self.pid)?),
        ];
        extras::serialize(serializer, &known, &self.extra)
    }
}

impl<'de> Deserialize<'de> for Metadata {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut members = Members::deserialize(deserializer)?;
        let hostname = extras::take(&mut members, "hostname")?;
        let pid = extras::take(&mut members, "pid")?;
        Ok(Self {
            hostname,
            pid,
            extra: members,
        })
    }
}
