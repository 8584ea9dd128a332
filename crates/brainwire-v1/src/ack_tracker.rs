//! The agent's record of batches sent and not yet acknowledged.

use std::collections::VecDeque;

/// Why an `ack` was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// No batch with this seq was ever sent.
    #[error("ack for seq {seq}, which was never sent")]
    Unknown {
        /// The seq acknowledged.
        seq: u64,
    },
    /// The batch was acknowledged already.
    #[error("ack for seq {seq}, which was acknowledged already")]
    Duplicate {
        /// The seq acknowledged.
        seq: u64,
    },
}

/// The tracker holds as many batches as it was built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{held} batches wait for their ack")]
pub struct TrackerFull {
    /// Batches held.
    pub held: usize,
}

/// Batches sent by an agent, numbered by their monotonic `seq`, kept until an `ack`
/// releases them. After a reconnect, [`unacked`](Self::unacked) gives the ones to send
/// again, in order, with their original seq. An ack is checked, not trusted: one for a seq
/// never sent or already released is reported.
#[derive(Debug, Clone)]
pub struct AckTracker<T> {
    next_seq: u64,
    pending: VecDeque<(u64, T)>,
    capacity: usize,
}

impl<T> AckTracker<T> {
    /// A tracker holding at most `capacity` unacknowledged batches, numbering from 1.
    pub fn new(capacity: usize) -> Self {
        Self {
            next_seq: 1,
            pending: VecDeque::new(),
            capacity,
        }
    }

    /// Records `batch` as sent and gives its seq.
    ///
    /// # Errors
    ///
    /// [`TrackerFull`] at capacity; the batch is not recorded.
    pub fn send(&mut self, batch: T) -> Result<u64, TrackerFull> {
        if self.pending.len() >= self.capacity {
            return Err(TrackerFull {
                held: self.pending.len(),
            });
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.push_back((seq, batch));
        Ok(seq)
    }

    /// Releases the batch `seq` and returns it.
    ///
    /// # Errors
    ///
    /// [`AckError::Unknown`] for a seq never sent, [`AckError::Duplicate`] for one
    /// released before.
    pub fn ack(&mut self, seq: u64) -> Result<T, AckError> {
        if seq == 0 || seq >= self.next_seq {
            return Err(AckError::Unknown { seq });
        }
        // Pending seqs are increasing, so a binary search finds the batch.
        match self.pending.binary_search_by_key(&seq, |(s, _)| *s) {
            Ok(i) => Ok(self.pending.remove(i).expect("index from the search").1),
            Err(_) => Err(AckError::Duplicate { seq }),
        }
    }

    /// Batches waiting for an ack, oldest first: what to send again after a reconnect.
    pub fn unacked(&self) -> impl Iterator<Item = (u64, &T)> {
        self.pending.iter().map(|(seq, batch)| (*seq, batch))
    }

    /// How many batches wait.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_release_in_any_order_and_are_checked() {
        let mut tracker = AckTracker::new(3);
        assert_eq!(tracker.send("a"), Ok(1));
        assert_eq!(tracker.send("b"), Ok(2));
        assert_eq!(tracker.send("c"), Ok(3));
        assert_eq!(tracker.send("d"), Err(TrackerFull { held: 3 }));
        assert_eq!(tracker.ack(2), Ok("b"));
        assert_eq!(tracker.ack(2), Err(AckError::Duplicate { seq: 2 }));
        assert_eq!(tracker.ack(9), Err(AckError::Unknown { seq: 9 }));
        assert_eq!(tracker.ack(0), Err(AckError::Unknown { seq: 0 }));
        // After a reconnect, the rest come back in order with their seq.
        assert_eq!(
            tracker.unacked().collect::<Vec<_>>(),
            [(1, &"a"), (3, &"c")]
        );
        assert_eq!(tracker.send("d"), Ok(4));
        assert_eq!(tracker.ack(1), Ok("a"));
        assert_eq!(tracker.len(), 2);
    }
}
