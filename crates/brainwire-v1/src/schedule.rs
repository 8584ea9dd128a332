//! Schedules, as `schedule_snapshot` and `schedule_update` carry them.

use brainwire_core::JsonValue;
use serde::{Deserialize, Serialize};

use crate::extras::{self, Members};

/// A schedule: its `id`, which document 000 names, and every other member kept as sent.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Schedule {
    /// The schedule's id (what `removed` lists).
    pub id: String,
    /// Every other member, as exact JSON text.
    pub fields: Members,
}

impl Schedule {
    /// A schedule with no other fields.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            fields: Members::new(),
        }
    }

    /// Adds a field.
    #[must_use]
    pub fn with(mut self, key: impl Into<String>, value: JsonValue) -> Self {
        self.fields.insert(key.into(), value);
        self
    }
}

impl Serialize for Schedule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        extras::serialize(serializer, &[("id", extras::json(&self.id)?)], &self.fields)
    }
}

impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = Members::deserialize(deserializer)?;
        let id = extras::take(&mut fields, "id")?;
        Ok(Self { id, fields })
    }
}
