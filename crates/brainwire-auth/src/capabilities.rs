//! `OrchCapabilities`: what an orchestrator declares in `auth.request`.

use std::collections::BTreeMap;

use brainwire_core::JsonValue;
use serde::{Deserialize, Serialize};

/// An orchestrator's role in its cluster: the schema allows these two only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum OrchRole {
    /// `coordinator`: manages the database and vault.
    Coordinator,
    /// `worker`: stateless.
    Worker,
}

impl OrchRole {
    /// The wire string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Coordinator => "coordinator",
            Self::Worker => "worker",
        }
    }
}

/// `capabilities` of `auth.request`. The schema passes unknown flags through, so they
/// are kept in [`extra`](Self::extra) and written back unchanged; the known ones keep
/// their types (`.passthrough()` adds keys, it loosens none).
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct OrchCapabilities {
    /// `orchRole`: the orchestrator's role.
    pub orch_role: Option<OrchRole>,
    /// `dashboardWrites`: a sparse per-operation policy; each present key turns one
    /// dashboard-write operation off (`false`) or keeps it on; a missing key means allowed.
    pub dashboard_writes: Option<BTreeMap<String, bool>>,
    /// Flags this version does not know, as exact JSON text.
    pub extra: BTreeMap<String, JsonValue>,
}

impl OrchCapabilities {
    /// Whether the dashboard may perform `operation`: only an explicit `false` forbids it.
    pub fn dashboard_write_allowed(&self, operation: &str) -> bool {
        self.dashboard_writes
            .as_ref()
            .and_then(|writes| writes.get(operation))
            .copied()
            .unwrap_or(true)
    }
}

impl Serialize for OrchCapabilities {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        if let Some(role) = &self.orch_role {
            map.serialize_entry("orchRole", role)?;
        }
        if let Some(writes) = &self.dashboard_writes {
            map.serialize_entry("dashboardWrites", writes)?;
        }
        for (key, value) in self
            .extra
            .iter()
            .filter(|(k, _)| *k != "orchRole" && *k != "dashboardWrites")
        {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for OrchCapabilities {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut extra = BTreeMap::<String, JsonValue>::deserialize(deserializer)?;
        let mut field = |key: &str| extra.remove(key);
        let orch_role = match field("orchRole") {
            Some(raw) => Some(
                raw.deserialize_as::<OrchRole>()
                    .map_err(|e| D::Error::custom(format_args!("orchRole: {e}")))?,
            ),
            None => None,
        };
        let dashboard_writes = match field("dashboardWrites") {
            Some(raw) => Some(
                raw.deserialize_as()
                    .map_err(|e| D::Error::custom(format_args!("dashboardWrites: {e}")))?,
            ),
            None => None,
        };
        Ok(Self {
            orch_role,
            dashboard_writes,
            extra,
        })
    }
}
