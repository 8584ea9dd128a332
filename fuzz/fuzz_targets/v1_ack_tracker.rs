//! The v1 `AckTracker` against a model: seqs count from 1 without gaps; an ack releases
//! exactly its batch once; unknown and repeated acks are reported, never taken;
//! `unacked` is what was sent and not acked, in order; the capacity holds.
#![no_main]

use std::collections::BTreeMap;

use brainwire_v1::{AckError, AckTracker};
use libfuzzer_sys::fuzz_target;

const CAPACITY: usize = 8;

fuzz_target!(|data: &[u8]| {
    let mut tracker = AckTracker::new(CAPACITY);
    let mut model: BTreeMap<u64, u8> = BTreeMap::new();
    let mut next = 1u64;
    for pair in data.chunks(2) {
        let [op, value] = *pair else { return };
        if op & 1 == 0 {
            match tracker.send(value) {
                Ok(seq) => {
                    assert_eq!(seq, next);
                    next += 1;
                    model.insert(seq, value);
                }
                Err(full) => {
                    assert_eq!(full.held, CAPACITY);
                    assert_eq!(model.len(), CAPACITY);
                }
            }
        } else {
            // Ack a seq near the ones in use, including 0 and ones never sent.
            let seq = u64::from(op >> 1) + next.saturating_sub(64);
            match tracker.ack(seq) {
                Ok(batch) => assert_eq!(model.remove(&seq), Some(batch)),
                Err(AckError::Unknown { seq: s }) => {
                    assert_eq!(s, seq);
                    assert!(seq == 0 || seq >= next);
                }
                Err(AckError::Duplicate { seq: s }) => {
                    assert_eq!(s, seq);
                    assert!(seq > 0 && seq < next && !model.contains_key(&seq));
                }
                Err(other) => panic!("{other:?}"),
            }
        }
        let unacked: Vec<(u64, u8)> = tracker.unacked().map(|(s, b)| (s, *b)).collect();
        let expected: Vec<(u64, u8)> = model.iter().map(|(s, b)| (*s, *b)).collect();
        assert_eq!(unacked, expected);
        assert_eq!(tracker.len(), model.len());
    }
});
