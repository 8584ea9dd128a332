//! Timestamps as document 003 writes them: ISO 8601 in UTC with milliseconds.

use std::fmt;

use brainwire_core::Timestamp;

/// A timestamp printed `2026-02-06T01:30:15.000Z`: UTC, always three fraction digits, as
/// JavaScript's `Date.toISOString()` does. Parsing accepts any RFC 3339 time with an
/// offset and keeps whole milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoMillis(Timestamp);

impl IsoMillis {
    /// `timestamp`, truncated to whole milliseconds.
    pub fn new(timestamp: Timestamp) -> Self {
        let t = timestamp
            .as_offset_date_time()
            .to_offset(time::UtcOffset::UTC);
        let millis = t.nanosecond() / 1_000_000 * 1_000_000;
        Self(Timestamp::from_offset_date_time(
            t.replace_nanosecond(millis)
                .expect("a truncated nanosecond is valid"),
        ))
    }

    /// The time as a [`Timestamp`].
    pub fn timestamp(&self) -> Timestamp {
        self.0
    }
}

impl From<Timestamp> for IsoMillis {
    fn from(timestamp: Timestamp) -> Self {
        Self::new(timestamp)
    }
}

impl fmt::Display for IsoMillis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0.as_offset_date_time();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    }
}

impl serde::Serialize for IsoMillis {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for IsoMillis {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Timestamp::deserialize(deserializer).map(Self::new)
    }
}
