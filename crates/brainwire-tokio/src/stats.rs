//! Counters a connection or a whole server keeps, read as snapshots while it runs (in the
//! spirit of quinn's `ConnectionStats`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// A snapshot of [`Stats`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatsSnapshot {
    /// Connections that completed the WebSocket upgrade.
    pub connections: u64,
    /// Connections open now.
    pub open_connections: u64,
    /// Frames received.
    pub frames_in: u64,
    /// Frames sent.
    pub frames_out: u64,
    /// Bytes of frames received.
    pub bytes_in: u64,
    /// Bytes of frames sent.
    pub bytes_out: u64,
    /// Closes by code (sent or received); connections lost without a close frame count
    /// under 1006.
    pub closes: BTreeMap<u16, u64>,
    /// Updates or events dropped because the application did not read them.
    pub dropped: u64,
}

/// Live counters, shared by the tasks that update them and the application that reads
/// them. One per agent, or one per brain given to every connection
/// ([`BrainOptions::stats`](crate::BrainOptions::stats)).
#[derive(Debug, Default)]
pub struct Stats {
    connections: AtomicU64,
    open_connections: AtomicU64,
    frames_in: AtomicU64,
    frames_out: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    closes: Mutex<BTreeMap<u16, u64>>,
    dropped: AtomicU64,
}

impl Stats {
    /// What the counters say now.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            connections: self.connections.load(Ordering::Relaxed),
            open_connections: self.open_connections.load(Ordering::Relaxed),
            frames_in: self.frames_in.load(Ordering::Relaxed),
            frames_out: self.frames_out.load(Ordering::Relaxed),
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
            closes: self.closes.lock().map(|c| c.clone()).unwrap_or_default(),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn opened(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
        self.open_connections.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection ended with `code` (`None`: no close frame, counted as 1006).
    pub(crate) fn closed(&self, code: Option<u16>) {
        self.open_connections.fetch_sub(1, Ordering::Relaxed);
        if let Ok(mut closes) = self.closes.lock() {
            *closes.entry(code.unwrap_or(1006)).or_default() += 1;
        }
    }

    pub(crate) fn received(&self, bytes: usize) {
        self.frames_in.fetch_add(1, Ordering::Relaxed);
        self.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn sent(&self, bytes: usize) {
        self.frames_out.fetch_add(1, Ordering::Relaxed);
        self.bytes_out.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn dropped(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }
}
