//! `hello` and `hello_ack`: the unsigned handshake.

use std::collections::BTreeMap;

use brainwire_core::Timestamp;
use serde::{Deserialize, Serialize};

use crate::JsonObject;
use brainwire_core::check::{chars, entries, opt_chars, range};
use brainwire_core::ShapeError;

/// Payload of `hello`, the agent's first frame (unsigned: no key is agreed yet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Hello {
    /// The protocol version the agent speaks; the brain accepts only `"2"`. At most 40
    /// characters.
    pub protocol_version: String,
    /// The agent's version. At most 40 characters.
    pub agent_version: String,
    /// `django`, `flask`, `fastapi`, `bare` or another. At most 40 characters.
    pub framework: String,
    /// Task engines wired up. At most 64.
    #[serde(default)]
    pub engines: Vec<String>,
    /// Schedulers wired up. At most 64.
    #[serde(default)]
    pub schedulers: Vec<String>,
    /// Capabilities per engine or scheduler.
    #[serde(default)]
    pub capabilities: BTreeMap<String, Vec<String>>,
    /// Host facts, open-ended.
    #[serde(default)]
    pub host: JsonObject,
    /// Stable id of this worker process (worker-first protocol). At most 128 characters.
    #[serde(default)]
    pub worker_id: Option<String>,
    /// `web`, `task`, `scheduler`, `beat`, `other`. At most 32 characters.
    #[serde(default)]
    pub worker_role: Option<String>,
    /// The worker's pid, 0 to 2^31 - 1.
    #[serde(default)]
    pub worker_pid: Option<u32>,
    /// When the worker started.
    #[serde(default)]
    pub worker_started_at: Option<Timestamp>,
    /// Runtime feature flags (observability only). At most 64.
    #[serde(default)]
    pub runtime_features: Vec<String>,
}

impl Hello {
    /// A `hello` for protocol `"2"` with everything optional left empty.
    pub fn new(agent_version: impl Into<String>, framework: impl Into<String>) -> Self {
        Self {
            protocol_version: crate::PROTOCOL_VERSION.to_owned(),
            agent_version: agent_version.into(),
            framework: framework.into(),
            engines: Vec::new(),
            schedulers: Vec::new(),
            capabilities: BTreeMap::new(),
            host: JsonObject::empty(),
            worker_id: None,
            worker_role: None,
            worker_pid: None,
            worker_started_at: None,
            runtime_features: Vec::new(),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ShapeError> {
        chars("payload.protocol_version", &self.protocol_version, 0, 40)?;
        chars("payload.agent_version", &self.agent_version, 0, 40)?;
        chars("payload.framework", &self.framework, 0, 40)?;
        entries("payload.engines", self.engines.len(), 64)?;
        entries("payload.schedulers", self.schedulers.len(), 64)?;
        opt_chars("payload.worker_id", self.worker_id.as_deref(), 128)?;
        opt_chars("payload.worker_role", self.worker_role.as_deref(), 32)?;
        if let Some(pid) = self.worker_pid {
            range("payload.worker_pid", pid, 0, (1 << 31) - 1)?;
        }
        entries("payload.runtime_features", self.runtime_features.len(), 64)
    }
}

/// Payload of `hello_ack`, the brain's answer to a good `hello` (unsigned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HelloAck {
    /// `"2"`. At most 40 characters.
    pub protocol_version: String,
    /// The brain's version; the real agent refuses a `hello_ack` without it. At most 40.
    pub brain_version: String,
    /// The authenticated agent's id, bound into every MAC. At most 64 characters.
    pub agent_id: String,
    /// The agent's project, bound into every MAC. At most 64 characters.
    pub project_id: String,
    /// This session's id, bound into every MAC. At most 64 characters.
    pub session_id: String,
    /// Heartbeat cadence the brain wants, 1 to 3600 s. Default 10.
    #[serde(default = "default_heartbeat_interval")]
    pub heartbeat_interval_seconds: u32,
    /// Largest frame the brain takes, 1 KiB to 64 MiB. Default 1 MiB.
    #[serde(default = "default_max_frame_size")]
    pub max_frame_size_bytes: u64,
}

fn default_heartbeat_interval() -> u32 {
    10
}

fn default_max_frame_size() -> u64 {
    1_048_576
}

impl HelloAck {
    /// A `hello_ack` for protocol `"2"` with the default heartbeat and frame size.
    pub fn new(
        brain_version: impl Into<String>,
        agent_id: impl Into<String>,
        project_id: impl Into<String>,
        session_id: impl Into<String>,
    ) -> Self {
        Self {
            protocol_version: crate::PROTOCOL_VERSION.to_owned(),
            brain_version: brain_version.into(),
            agent_id: agent_id.into(),
            project_id: project_id.into(),
            session_id: session_id.into(),
            heartbeat_interval_seconds: default_heartbeat_interval(),
            max_frame_size_bytes: default_max_frame_size(),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ShapeError> {
        chars("payload.protocol_version", &self.protocol_version, 0, 40)?;
        chars("payload.brain_version", &self.brain_version, 0, 40)?;
        chars("payload.agent_id", &self.agent_id, 0, 64)?;
        chars("payload.project_id", &self.project_id, 0, 64)?;
        chars("payload.session_id", &self.session_id, 0, 64)?;
        range(
            "payload.heartbeat_interval_seconds",
            self.heartbeat_interval_seconds,
            1,
            3600,
        )?;
        range(
            "payload.max_frame_size_bytes",
            self.max_frame_size_bytes,
            1024,
            64 * 1024 * 1024,
        )
    }
}
