//! The nonces a replay guard remembers: each held once, in acceptance order, and found
//! through a small index of positions.
//!
//! The guard used to hold every nonce twice, in a queue (to forget the oldest) and in a
//! map (to look it up): at the reference's 4,096 nonces, about 780 KiB per direction of a
//! busy session, and every frame cloned its nonce into both. Here the queue holds the
//! nonces (64 bytes each) and the index an 8-byte number per nonce: about 330 KiB.

use std::collections::hash_map::RandomState;
use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::sync::OnceLock;

use brainwire_core::Timestamp;
use hashbrown::HashTable;

/// Nonce bytes kept inline: the reference's nonces are 22 characters of base64.
const INLINE_NONCE_BYTES: usize = 32;

/// A nonce as the guard keeps it: inline up to [`INLINE_NONCE_BYTES`] (no allocation per
/// frame), on the heap beyond (a peer's configuration may allow longer ones).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Nonce {
    /// The bytes, zero-padded, and how many there are.
    Inline(u8, [u8; INLINE_NONCE_BYTES]),
    /// A longer nonce.
    Heap(Box<str>),
}

impl From<&str> for Nonce {
    fn from(text: &str) -> Self {
        if text.len() <= INLINE_NONCE_BYTES {
            let mut bytes = [0; INLINE_NONCE_BYTES];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            // At most 32, so it fits.
            Self::Inline(text.len() as u8, bytes)
        } else {
            Self::Heap(text.into())
        }
    }
}

/// A nonce with its keyed hash, computed once per frame: the lookup in `check`, the
/// insert in `commit` and the removal when it is forgotten reuse it. Equality compares
/// the bytes, so two nonces are never taken for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NonceKey {
    hash: u64,
    nonce: Nonce,
}

impl NonceKey {
    pub(crate) fn new(text: &str) -> Self {
        // SipHash under a random key: a peer cannot choose nonces that collide.
        static KEY: OnceLock<RandomState> = OnceLock::new();
        Self {
            hash: KEY.get_or_init(RandomState::new).hash_one(text.as_bytes()),
            nonce: Nonce::from(text),
        }
    }
}

/// Accepted nonces, oldest first, each with the time it was accepted.
#[derive(Debug, Clone, Default)]
pub(crate) struct NonceWindow {
    /// In acceptance order; the entry at `i` was the `forgotten + i`-th accepted.
    accepted: VecDeque<(NonceKey, Timestamp)>,
    /// How many were accepted and forgotten since the window was made.
    forgotten: u64,
    /// The acceptance number of each nonce's latest entry, found by its hash. A nonce
    /// accepted again (once its first acceptance expired) points at its newer entry, and
    /// forgetting the older one leaves it.
    latest: HashTable<u64>,
}

impl NonceWindow {
    /// Entries held (a nonce accepted twice counts twice until its older entry goes).
    pub(crate) fn len(&self) -> usize {
        self.accepted.len()
    }

    /// When `nonce` was last accepted, if it is remembered.
    pub(crate) fn accepted_at(&self, nonce: &NonceKey) -> Option<Timestamp> {
        let entry = |number| entry(&self.accepted, self.forgotten, number);
        self.latest
            .find(nonce.hash, |&number| entry(number).0 == *nonce)
            .map(|&number| entry(number).1)
    }

    /// Remembers `nonce` as accepted `now`, the newest entry.
    pub(crate) fn push(&mut self, nonce: NonceKey, now: Timestamp) {
        let number = self.forgotten + self.accepted.len() as u64;
        let hash = nonce.hash;
        self.accepted.push_back((nonce, now));
        // The index changes while the entries are read: the closure borrows only them.
        let key = |number| &entry(&self.accepted, self.forgotten, number).0;
        let pushed = key(number);
        match self.latest.find_mut(hash, |&n| key(n) == pushed) {
            Some(latest) => *latest = number,
            None => {
                self.latest.insert_unique(hash, number, |&n| key(n).hash);
            }
        }
    }

    /// The oldest entry's acceptance time.
    pub(crate) fn oldest(&self) -> Option<Timestamp> {
        self.accepted.front().map(|(_, at)| *at)
    }

    /// Forgets the oldest entry.
    pub(crate) fn pop_oldest(&mut self) {
        let Some((nonce, _)) = self.accepted.pop_front() else {
            return;
        };
        let number = self.forgotten;
        self.forgotten += 1;
        // Only if the index still points here: a newer acceptance keeps its own.
        if let Ok(entry) = self.latest.find_entry(nonce.hash, |&n| n == number) {
            entry.remove();
        }
    }
}

/// The entry accepted `number`-th, of a window that has forgotten `forgotten` entries.
fn entry(
    accepted: &VecDeque<(NonceKey, Timestamp)>,
    forgotten: u64,
    number: u64,
) -> &(NonceKey, Timestamp) {
    &accepted[(number - forgotten) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_micros(1_800_000_000_000_000 + seconds * 1_000_000).unwrap()
    }

    /// A key forced to hash 7: the window must tell nonces apart by their bytes.
    fn colliding(text: &str) -> NonceKey {
        NonceKey {
            hash: 7,
            nonce: Nonce::from(text),
        }
    }

    #[test]
    fn nonces_with_one_hash_are_still_two_nonces() {
        let mut window = NonceWindow::default();
        window.push(colliding("first"), at(0));
        assert_eq!(window.accepted_at(&colliding("first")), Some(at(0)));
        assert_eq!(window.accepted_at(&colliding("second")), None);
        window.push(colliding("second"), at(1));
        window.pop_oldest();
        assert_eq!(window.accepted_at(&colliding("first")), None);
        assert_eq!(window.accepted_at(&colliding("second")), Some(at(1)));
        assert_eq!(window.len(), 1);
    }

    #[test]
    fn forgetting_an_older_acceptance_keeps_the_newer_one() {
        let mut window = NonceWindow::default();
        window.push(NonceKey::new("a"), at(0));
        window.push(NonceKey::new("b"), at(1));
        // "a" accepted again (its first acceptance had expired): one index entry, newest.
        window.push(NonceKey::new("a"), at(200));
        assert_eq!(window.accepted_at(&NonceKey::new("a")), Some(at(200)));
        assert_eq!((window.len(), window.latest.len()), (3, 2));
        window.pop_oldest();
        assert_eq!(window.accepted_at(&NonceKey::new("a")), Some(at(200)));
        assert_eq!(window.oldest(), Some(at(1)));
        window.pop_oldest();
        window.pop_oldest();
        assert_eq!(window.accepted_at(&NonceKey::new("a")), None);
        assert_eq!((window.len(), window.latest.len()), (0, 0));
        window.pop_oldest();
        assert_eq!(window.oldest(), None);
    }

    #[test]
    fn thousands_of_nonces_are_each_found_until_forgotten() {
        // Enough pushes to grow and rehash the index several times while entries go.
        let mut window = NonceWindow::default();
        for i in 0..10_000 {
            window.push(NonceKey::new(&format!("n{i}")), at(i));
            if window.len() > 4096 {
                window.pop_oldest();
            }
        }
        for i in 0..10_000 {
            let found = window.accepted_at(&NonceKey::new(&format!("n{i}")));
            assert_eq!(found, (i >= 10_000 - 4096).then(|| at(i)), "n{i}");
        }
        assert_eq!(window.latest.len(), 4096);
    }
}
