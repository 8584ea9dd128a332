//! Wall-clock time, injected: whatever stamps times on frames takes a [`Clock`], so that
//! tests run on simulated time and nothing reads the system clock behind the caller.

use std::fmt;
use std::sync::Arc;

use crate::Timestamp;

/// Where a signer or a session takes the current wall-clock time from.
pub trait Clock {
    /// The current wall-clock time.
    fn now(&mut self) -> Timestamp;
}

/// The system clock, in UTC.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&mut self) -> Timestamp {
        Timestamp::now_utc()
    }
}

impl<F: FnMut() -> Timestamp> Clock for F {
    fn now(&mut self) -> Timestamp {
        self()
    }
}

/// A [`Clock`] that can be cloned and shared between threads: what sessions and
/// broadcasters hold, so that every signer they make reads the same (real or simulated)
/// time.
#[derive(Clone)]
pub struct WallClock(Arc<dyn Fn() -> Timestamp + Send + Sync>);

impl WallClock {
    /// A clock reading `now`.
    pub fn new(now: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    /// The system clock.
    pub fn system() -> Self {
        Self::new(Timestamp::now_utc)
    }

    /// The current time on this clock.
    pub fn read(&self) -> Timestamp {
        (self.0)()
    }
}

impl Clock for WallClock {
    fn now(&mut self) -> Timestamp {
        self.read()
    }
}

impl fmt::Debug for WallClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WallClock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_source_of_time() {
        let at = Timestamp::from_unix_micros(1_800_000_000_000_000).unwrap();
        let clock = WallClock::new(move || at);
        let mut copy = clock.clone();
        assert_eq!(clock.read(), at);
        assert_eq!(Clock::now(&mut copy), at);
    }
}
