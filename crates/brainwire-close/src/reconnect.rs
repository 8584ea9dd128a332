//! Exponential backoff and the decision to reconnect after a close.

use std::time::Duration;

use crate::{CloseClass, FamilyCode, StandardCode};

/// A source of random `u64`s for jitter, injected so that tests are deterministic.
pub trait RandomSource {
    /// The next random value, uniform over `u64`.
    fn next_u64(&mut self) -> u64;
}

impl<F: FnMut() -> u64> RandomSource for F {
    fn next_u64(&mut self) -> u64 {
        self()
    }
}

/// Randomness from the operating system (`getrandom`), the default jitter source.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemRandom;

impl RandomSource for SystemRandom {
    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        // Jitter only spreads reconnects; if the OS has no randomness, no jitter is a
        // safe fallback rather than a reason to fail a reconnect.
        if getrandom::getrandom(&mut bytes).is_err() {
            return u64::MAX;
        }
        u64::from_le_bytes(bytes)
    }
}

/// Exponential backoff: `initial`, doubling on each attempt up to `max`, optionally with
/// full jitter (a uniform delay in `[0, d]`) and a limit on attempts.
///
/// The default is document 004's: 1 s doubling to a 30 s cap, no attempt limit, no
/// jitter. Document 003 retries 5 times: `Backoff::default().with_max_attempts(5)`.
///
/// ```
/// use std::time::Duration;
/// use brainwire_close::Backoff;
///
/// let backoff = Backoff::default();
/// let delays: Vec<u64> = (1..=7).map(|n| backoff.delay_for(n).as_secs()).collect();
/// assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    full_jitter: bool,
    max_attempts: Option<u32>,
    attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(30))
    }
}

impl Backoff {
    /// A backoff from `initial` doubling up to `max`, without jitter or attempt limit.
    pub const fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            full_jitter: false,
            max_attempts: None,
            attempts: 0,
        }
    }

    /// Draws each delay uniformly from `[0, d]` ("full jitter"), so that a fleet cut off
    /// at once does not reconnect at once.
    #[must_use]
    pub const fn with_full_jitter(mut self) -> Self {
        self.full_jitter = true;
        self
    }

    /// Gives up after `attempts` delays.
    #[must_use]
    pub const fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// The delay before attempt `attempt` (counted from 1) without jitter:
    /// `min(initial * 2^(attempt - 1), max)`. Attempt 0 is treated as 1.
    pub fn delay_for(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(63);
        let factor = 1u64 << doublings;
        let nanos = self.initial.as_nanos().saturating_mul(u128::from(factor));
        let capped = nanos.min(self.max.as_nanos());
        Duration::from_nanos(u64::try_from(capped).unwrap_or(u64::MAX))
    }

    /// The delay before the next attempt, or `None` once the attempt limit is reached.
    pub fn next_delay(&mut self, random: &mut impl RandomSource) -> Option<Duration> {
        if self.max_attempts.is_some_and(|max| self.attempts >= max) {
            return None;
        }
        self.attempts += 1;
        let delay = self.delay_for(self.attempts);
        if !self.full_jitter {
            return Some(delay);
        }
        let nanos = delay.as_nanos() * u128::from(random.next_u64()) / u128::from(u64::MAX);
        Some(Duration::from_nanos(
            u64::try_from(nanos).unwrap_or(u64::MAX),
        ))
    }

    /// Attempts made since the last reset.
    pub const fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Starts over after a successful connection.
    pub fn reset(&mut self) {
        self.attempts = 0;
    }
}

/// What to do after a connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconnect {
    /// Wait this long, then connect again.
    RetryAfter(Duration),
    /// Do not reconnect; surface the reason.
    Stop(StopReason),
}

/// Why a client should stop reconnecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// The peer closed normally (1000).
    Normal {
        /// The close code.
        code: u16,
    },
    /// A configuration problem (bad token, revoked, unsupported version, ...): a retry
    /// would fail the same way, so an operator must act.
    Configuration {
        /// The close code.
        code: u16,
    },
    /// A newer connection of the same client took over; reconnecting would fight it.
    Replaced {
        /// The close code.
        code: u16,
    },
    /// The backoff's attempt limit was reached.
    AttemptsExhausted {
        /// Attempts made.
        attempts: u32,
    },
}

/// Turns a close into [`Reconnect`], following the close code's [`CloseClass`].
///
/// Transient and unknown codes retry with backoff (the documents say "and similar
/// transient codes"; an unknown code is more likely a new transient one than a reason to
/// give up, and the backoff bounds the cost). Normal, configuration and replaced codes
/// stop.
///
/// ```
/// use brainwire_close::{v2, Backoff, Reconnect, ReconnectPolicy, StopReason};
///
/// let mut policy = ReconnectPolicy::new(Backoff::default());
/// assert_eq!(policy.on_close(v2::CloseCode::IdleTimeout),
///            Reconnect::RetryAfter(std::time::Duration::from_secs(1)));
/// assert_eq!(policy.on_connection_lost(), // no close frame: 1006
///            Reconnect::RetryAfter(std::time::Duration::from_secs(2)));
/// assert_eq!(policy.on_close(v2::CloseCode::BearerRejected),
///            Reconnect::Stop(StopReason::Configuration { code: 4401 }));
/// ```
#[derive(Debug, Clone)]
pub struct ReconnectPolicy<R = SystemRandom> {
    backoff: Backoff,
    random: R,
}

impl ReconnectPolicy<SystemRandom> {
    /// A policy drawing jitter (if the backoff has it) from the operating system.
    pub fn new(backoff: Backoff) -> Self {
        Self::with_random(backoff, SystemRandom)
    }
}

impl<R: RandomSource> ReconnectPolicy<R> {
    /// A policy drawing jitter from `random`.
    pub fn with_random(backoff: Backoff, random: R) -> Self {
        Self { backoff, random }
    }

    /// Decides after the peer closed the connection with `code`.
    pub fn on_close<C: FamilyCode>(&mut self, code: C) -> Reconnect {
        self.decide(code.code(), code.class())
    }

    /// Decides after the connection was lost without a close frame (1006, transient):
    /// a dropped socket, a failed connect, a read that timed out.
    pub fn on_connection_lost(&mut self) -> Reconnect {
        self.decide(StandardCode::Abnormal.code(), CloseClass::Transient)
    }

    fn decide(&mut self, code: u16, class: CloseClass) -> Reconnect {
        match class {
            CloseClass::Normal => Reconnect::Stop(StopReason::Normal { code }),
            CloseClass::Configuration => Reconnect::Stop(StopReason::Configuration { code }),
            CloseClass::Replaced => Reconnect::Stop(StopReason::Replaced { code }),
            CloseClass::Transient | CloseClass::Unknown => {
                match self.backoff.next_delay(&mut self.random) {
                    Some(delay) => Reconnect::RetryAfter(delay),
                    None => Reconnect::Stop(StopReason::AttemptsExhausted {
                        attempts: self.backoff.attempts(),
                    }),
                }
            }
        }
    }

    /// Resets the backoff once a connection is established.
    pub fn on_connected(&mut self) {
        self.backoff.reset();
    }

    /// The backoff in use.
    pub fn backoff(&self) -> &Backoff {
        &self.backoff
    }
}
