//! Freshness, sequence and nonce rules of one direction of one session.

use std::time::Duration;

use brainwire_core::{Timestamp, TimestampError};

use crate::nonce_window::{NonceKey, NonceWindow};

/// The replay rules, with the reference's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplayConfig {
    /// Largest `|now - ts|` accepted. Default 60 s (`MAX_FRAME_TS_SKEW_SECONDS`).
    pub max_skew: Duration,
    /// How long a nonce is remembered. Default 180 s (`MAX_NONCE_TRACK_SECONDS`), longer
    /// than the skew window on both sides so no in-window frame can dodge the cache.
    pub nonce_ttl: Duration,
    /// Most nonces remembered; the oldest goes first. Default 4096, as the reference.
    pub max_nonces: usize,
    /// Longest nonce in characters. Default 32, the reference model's cap (its fast
    /// verify path skips that cap; brainwire keeps it, so memory per nonce is bounded).
    pub max_nonce_chars: usize,
}

impl Default for ReplayConfig {
    fn default() -> Self {
        Self {
            max_skew: Duration::from_secs(60),
            nonce_ttl: Duration::from_secs(180),
            max_nonces: 4096,
            max_nonce_chars: 32,
        }
    }
}

/// Why the replay guard refused a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// `ts` absent or `null` on a signed frame.
    #[error("signed frame has no ts")]
    MissingTimestamp,
    /// `ts` is not an RFC 3339 string, or has no UTC offset.
    #[error("signed frame ts refused: {0}")]
    BadTimestamp(#[source] TimestampError),
    /// `ts` further from `now` than the skew allows.
    #[error("frame ts is {skew_seconds} s from now, more than {max_seconds} s")]
    Stale {
        /// `|now - ts|`, whole seconds.
        skew_seconds: i64,
        /// The allowed skew, whole seconds.
        max_seconds: i64,
    },
    /// `seq` absent, not an integer, below 1 or beyond `u64`.
    #[error("signed frame has no valid seq")]
    InvalidSeq,
    /// `seq` not above the last accepted one.
    #[error("seq {seq} is not above the last accepted {last}")]
    SeqNotIncreasing {
        /// The frame's seq.
        seq: u64,
        /// The last accepted seq.
        last: u64,
    },
    /// `nonce` absent, empty, not a string or longer than allowed.
    #[error("signed frame has no valid nonce")]
    InvalidNonce,
    /// The nonce was seen within the nonce window.
    #[error("nonce reused")]
    NonceReused,
}

impl ReplayError {
    /// A stable snake_case name for tools and logs.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::MissingTimestamp => "missing_timestamp",
            Self::BadTimestamp(TimestampError::Naive) => "naive_timestamp",
            Self::BadTimestamp(_) => "invalid_timestamp",
            Self::Stale { .. } => "stale_timestamp",
            Self::InvalidSeq => "invalid_seq",
            Self::SeqNotIncreasing { .. } => "seq_not_increasing",
            Self::InvalidNonce => "invalid_nonce",
            Self::NonceReused => "nonce_reused",
        }
    }
}

/// The replay-relevant fields of a signed frame, as read from its envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayFields<'a> {
    /// The frame's `ts`, or `None` when absent or `null`.
    pub ts: Option<&'a str>,
    /// The frame's `nonce`, or `None` when absent or not a string.
    pub nonce: Option<&'a str>,
    /// The frame's `seq`, or `None` when absent, not an integer, or beyond `u64`.
    pub seq: Option<u64>,
}

/// A frame that passed [`ReplayGuard::check`]: the proof [`ReplayGuard::commit`] takes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a checked frame changes no state until it is committed"]
pub struct ReplayTicket {
    seq: u64,
    nonce: NonceKey,
    ts: Timestamp,
}

impl ReplayTicket {
    /// The frame's sequence number.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The frame's timestamp.
    pub fn ts(&self) -> Timestamp {
        self.ts
    }
}

/// The replay guard of one direction of one session.
///
/// [`check`](Self::check) reads and changes nothing; [`commit`](Self::commit) records a
/// frame once it has been accepted whole, so a frame refused later (a bad payload) leaves
/// no trace. The guard never reads a clock: `now` comes from the caller.
#[derive(Debug, Clone)]
pub struct ReplayGuard {
    config: ReplayConfig,
    /// The highest `seq` committed; a frame must carry a higher one.
    last_seq: u64,
    /// The nonces committed within the window, oldest first, each held once.
    nonces: NonceWindow,
}

impl Default for ReplayGuard {
    fn default() -> Self {
        Self::new(ReplayConfig::default())
    }
}

impl ReplayGuard {
    /// A guard with `config`, no frame seen.
    pub fn new(config: ReplayConfig) -> Self {
        Self {
            config,
            last_seq: 0,
            nonces: NonceWindow::default(),
        }
    }

    /// The last accepted `seq` (0 before any).
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Nonces currently remembered.
    pub fn remembered_nonces(&self) -> usize {
        self.nonces.len()
    }

    /// Checks a frame's fields at `now`, in the reference's order (seq, nonce, ts present;
    /// freshness; seq; nonce), without changing any state.
    ///
    /// # Errors
    ///
    /// The first rule the frame breaks.
    pub fn check(
        &self,
        fields: ReplayFields<'_>,
        now: Timestamp,
    ) -> Result<ReplayTicket, ReplayError> {
        let seq = fields
            .seq
            .filter(|&s| s >= 1)
            .ok_or(ReplayError::InvalidSeq)?;
        let nonce = fields
            .nonce
            .filter(|n| {
                let max = self.config.max_nonce_chars;
                // Characters never outnumber bytes: count them only for long nonces.
                !n.is_empty() && (n.len() <= max || n.chars().count() <= max)
            })
            .ok_or(ReplayError::InvalidNonce)?;
        let ts_text = fields.ts.ok_or(ReplayError::MissingTimestamp)?;
        let ts = Timestamp::parse(ts_text).map_err(ReplayError::BadTimestamp)?;
        let skew = now.duration_since(ts).abs();
        if skew > self.config.max_skew {
            return Err(ReplayError::Stale {
                skew_seconds: skew.whole_seconds(),
                max_seconds: self.config.max_skew.as_secs() as i64,
            });
        }
        if seq <= self.last_seq {
            return Err(ReplayError::SeqNotIncreasing {
                seq,
                last: self.last_seq,
            });
        }
        let nonce = NonceKey::new(nonce);
        if let Some(accepted_at) = self.nonces.accepted_at(&nonce) {
            if now.duration_since(accepted_at) <= self.config.nonce_ttl {
                return Err(ReplayError::NonceReused);
            }
        }
        Ok(ReplayTicket { seq, nonce, ts })
    }

    /// Records an accepted frame: its seq becomes the floor, its nonce is remembered.
    ///
    /// `now` must be the time given to [`check`](Self::check); a ticket from another
    /// guard is honoured but should not be passed.
    pub fn commit(&mut self, ticket: ReplayTicket, now: Timestamp) {
        while let Some(accepted_at) = self.nonces.oldest() {
            if now.duration_since(accepted_at) <= self.config.nonce_ttl {
                break;
            }
            self.nonces.pop_oldest();
        }
        self.last_seq = ticket.seq;
        self.nonces.push(ticket.nonce, now);
        while self.nonces.len() > self.config.max_nonces {
            self.nonces.pop_oldest();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_micros(1_800_000_000_000_000 + seconds * 1_000_000).unwrap()
    }

    fn fields<'a>(ts: &'a str, nonce: &'a str, seq: u64) -> ReplayFields<'a> {
        ReplayFields {
            ts: Some(ts),
            nonce: Some(nonce),
            seq: Some(seq),
        }
    }

    fn accept(guard: &mut ReplayGuard, f: ReplayFields<'_>, now: Timestamp) {
        let ticket = guard.check(f, now).unwrap();
        guard.commit(ticket, now);
    }

    #[test]
    fn each_rule_refuses_with_its_reason() {
        let now = at(0);
        let ts = now.to_string();
        let mut guard = ReplayGuard::default();
        accept(&mut guard, fields(&ts, "n1", 5), now);

        let stale = at(-61).to_string();
        let future = at(61).to_string();
        let edge = at(-60).to_string();
        assert!(matches!(
            guard.check(fields(&stale, "n2", 6), now),
            Err(ReplayError::Stale {
                skew_seconds: 61,
                max_seconds: 60
            })
        ));
        assert!(matches!(
            guard.check(fields(&future, "n2", 6), now),
            Err(ReplayError::Stale { .. })
        ));
        assert!(guard.check(fields(&edge, "n2", 6), now).is_ok());
        assert_eq!(
            guard.check(fields(&ts, "n2", 5), now),
            Err(ReplayError::SeqNotIncreasing { seq: 5, last: 5 })
        );
        assert_eq!(
            guard.check(fields(&ts, "n2", 4), now),
            Err(ReplayError::SeqNotIncreasing { seq: 4, last: 5 })
        );
        assert_eq!(
            guard.check(fields(&ts, "n1", 6), now),
            Err(ReplayError::NonceReused)
        );
        assert_eq!(
            guard.check(fields(&ts, "", 6), now),
            Err(ReplayError::InvalidNonce)
        );
        assert_eq!(
            guard.check(fields(&ts, &"x".repeat(33), 6), now),
            Err(ReplayError::InvalidNonce)
        );
        assert_eq!(
            guard.check(fields(&ts, "n2", 0), now),
            Err(ReplayError::InvalidSeq)
        );
        assert_eq!(
            guard
                .check(fields("2026-11-23T10:00:00", "n2", 6), now)
                .unwrap_err()
                .kind(),
            "naive_timestamp"
        );
        assert_eq!(
            guard.check(
                ReplayFields {
                    ts: None,
                    nonce: Some("n2"),
                    seq: Some(6)
                },
                now
            ),
            Err(ReplayError::MissingTimestamp)
        );
    }

    #[test]
    fn nonces_kept_inline_and_on_the_heap_are_both_remembered() {
        let mut guard = ReplayGuard::default();
        let short = "5BAhLjspe4bvaF2cB_BAOw";
        // 32 characters but 64 bytes: past the inline size.
        let long = "é".repeat(32);
        accept(&mut guard, fields("2027-01-15T08:00:00Z", short, 1), at(0));
        accept(&mut guard, fields("2027-01-15T08:00:00Z", &long, 2), at(0));
        for (nonce, seq) in [(short, 3), (long.as_str(), 4)] {
            assert_eq!(
                guard.check(fields("2027-01-15T08:00:00Z", nonce, seq), at(1)),
                Err(ReplayError::NonceReused)
            );
        }
        // A nonce sharing the short one's bytes but longer is another nonce.
        let longer = format!("{short}x");
        assert!(guard
            .check(fields("2027-01-15T08:00:00Z", &longer, 3), at(1))
            .is_ok());
    }

    #[test]
    fn a_ticket_from_one_guard_is_remembered_by_another() {
        // Every guard hashes with the same key, so a ticket's hash holds in any guard.
        let now = at(0);
        let ts = now.to_string();
        let ticket = ReplayGuard::default()
            .check(fields(&ts, "n1", 1), now)
            .unwrap();
        let mut other = ReplayGuard::default();
        other.commit(ticket, now);
        assert_eq!(
            other.check(fields(&ts, "n1", 2), now),
            Err(ReplayError::NonceReused)
        );
    }

    #[test]
    fn check_alone_changes_nothing() {
        let now = at(0);
        let ts = now.to_string();
        let guard = ReplayGuard::default();
        let _unused = guard.check(fields(&ts, "n1", 1), now).unwrap();
        assert_eq!(guard.last_seq(), 0);
        assert!(guard.check(fields(&ts, "n1", 1), now).is_ok());
    }

    #[test]
    fn nonces_expire_after_the_window_and_memory_is_capped() {
        let mut guard = ReplayGuard::new(ReplayConfig {
            max_nonces: 3,
            ..ReplayConfig::default()
        });
        accept(&mut guard, fields(&at(0).to_string(), "a", 1), at(0));
        // 181 s later "a" is forgotten (its frame's ts would be stale anyway).
        let later = at(181);
        accept(&mut guard, fields(&later.to_string(), "a", 2), later);
        for (i, n) in ["b", "c", "d", "e"].into_iter().enumerate() {
            accept(
                &mut guard,
                fields(&later.to_string(), n, 3 + i as u64),
                later,
            );
        }
        assert_eq!(guard.remembered_nonces(), 3);
        // "a" and "b" were pushed out by the cap; "e" is remembered.
        assert!(guard
            .check(fields(&later.to_string(), "b", 10), later)
            .is_ok());
        assert_eq!(
            guard.check(fields(&later.to_string(), "e", 10), later),
            Err(ReplayError::NonceReused)
        );
    }
}
