//! Allocations per verify, counted by a global allocator on this thread only.
//!
//! `cargo test -p brainwire-tests --test it allocations -- --nocapture` prints the counts
//! that BENCHMARKS.md reports.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use brainwire_core::{Limits, Tape, Timestamp};
use brainwire_v2::{decode, FrameVerifier};

use brainwire_test_support::workloads;

struct Counting;

thread_local! {
    /// Whether this thread counts, and what it counted: allocations, bytes allocated and
    /// not yet freed since counting started (may go below zero while older blocks are
    /// freed), and the most that reached. Per thread, so tests running side by side do
    /// not count each other's allocations.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

fn add_live(delta: i64) {
    let now = LIVE.get() + delta;
    LIVE.set(now);
    PEAK.set(PEAK.get().max(now));
}

// The one `unsafe` in the project: a global allocator must implement an unsafe trait. It
// forwards every call to the system allocator unchanged and only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.set(ALLOCATIONS.get() + 1);
            add_live(layout.size() as i64);
        }
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.with(Cell::get) {
            add_live(-(layout.size() as i64));
        }
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.set(ALLOCATIONS.get() + 1);
            add_live(new_size as i64 - layout.size() as i64);
        }
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn count<T>(f: impl FnOnce() -> T) -> (T, u64) {
    ALLOCATIONS.set(0);
    LIVE.set(0);
    PEAK.set(0);
    COUNTING.set(true);
    let out = f();
    COUNTING.set(false);
    (out, ALLOCATIONS.get())
}

#[test]
fn a_steady_verify_allocates_what_the_typed_result_owns_and_little_else() {
    let now = Timestamp::now_utc();
    let (secret, binding) = workloads::session();
    println!(
        "{:<18} {:>8} {:>14} {:>16} {:>8}",
        "workload", "verify", "typed result", "beyond typed", "parse"
    );
    for (name, events) in workloads::WORKLOADS {
        let wire = workloads::signed(events, now, 1);
        let mut verifier = FrameVerifier::new(secret.clone(), binding.clone());
        // Warm up: the verifier's canonical buffer and nonce map reach their steady size.
        verifier
            .verify(&workloads::signed(events, now, 1), now)
            .expect("valid");
        let steady = workloads::signed(events, now, 2);
        let (verified, verify) = count(|| verifier.verify(&steady, now).expect("valid"));
        // decode = a fresh tape's parse (the limits check) + the typed result; the
        // difference is what the typed result owns.
        let (typed, decode_allocs) = count(|| decode(&wire).expect("valid"));
        let (_, parse) = count(|| {
            let mut tape = Tape::new();
            let nodes = tape
                .parse(&wire, &Limits::default())
                .expect("valid")
                .root()
                .len();
            nodes
        });
        assert_eq!(verified.frame.payload, typed.payload);
        let owned = decode_allocs - parse;
        let beyond = verify - owned;
        println!("{name:<18} {verify:>8} {owned:>14} {beyond:>16} {parse:>8}");
        // The verifier's tape and canonical buffer are reused, so what is left beyond the
        // typed result is the replay state (the nonce remembered) and the MAC tag.
        assert!(
            beyond <= 4,
            "{name}: verify {verify}, owned {owned}, parse {parse}"
        );
    }
}

/// How many task events make a signed batch just under the default 1 MiB limit.
fn events_under_the_limit() -> usize {
    let limit = Limits::default().max_bytes;
    // The envelope adds under 400 bytes to the payload.
    let mut events = 1000;
    while workloads::payload(events + 25).to_json().len() + 400 < limit {
        events += 25;
    }
    events
}

/// Peak memory of verifying a frame at the default 1 MiB limit: a batch of task events
/// just under 1 MiB, on a fresh verifier (its tape and buffers grown for this frame) and
/// on a warm one. The input itself is not counted.
#[test]
fn verifying_a_one_mebibyte_batch_peaks_under_four_times_its_size() {
    let now = Timestamp::now_utc();
    let (secret, binding) = workloads::session();
    let events = events_under_the_limit();
    let first = workloads::signed(events, now, 1);
    let wire = workloads::signed(events, now, 2);
    let mut verifier = FrameVerifier::new(secret.clone(), binding.clone());
    let (_, _) = count(|| verifier.verify(&first, now).expect("valid"));
    let fresh = PEAK.get();
    let (verified, _) = count(|| verifier.verify(&wire, now).expect("valid"));
    let warm = PEAK.get();
    drop(verified);
    let size = wire.len() as i64;
    println!(
        "{events} events, {size} bytes: peak {fresh} bytes fresh ({:.2}x), {warm} warm ({:.2}x)",
        fresh as f64 / size as f64,
        warm as f64 / size as f64
    );
    assert!(
        fresh <= 4 * size,
        "fresh verifier peaked at {fresh} for {size}"
    );
    assert!(
        warm <= 4 * size,
        "warm verifier peaked at {warm} for {size}"
    );
}

/// After one frame at the 1 MiB limit, a session's verifier gives back what it grew for
/// it: what it keeps is its tape's retained size, the canonical buffer and the replay
/// state, not the largest frame it ever saw.
#[test]
fn a_verifier_shrinks_back_after_one_large_frame() {
    let now = Timestamp::now_utc();
    let (secret, binding) = workloads::session();
    let large = workloads::signed(events_under_the_limit(), now, 1);
    let small = workloads::signed(1, now, 2);
    let (verifier, _) = count(|| {
        let mut verifier = FrameVerifier::new(secret.clone(), binding.clone());
        drop(verifier.verify(&large, now).expect("valid"));
        drop(verifier.verify(&small, now).expect("valid"));
        verifier
    });
    let kept = LIVE.get();
    let bound = (Tape::RETAINED_BYTES + 128 * 1024) as i64;
    println!(
        "after a {} byte frame and a small one, the verifier keeps {kept} bytes (bound {bound})",
        large.len()
    );
    assert!(kept <= bound, "kept {kept} bytes, more than {bound}");
    drop(verifier);
}

#[test]
fn signing_a_heartbeat_allocates_its_canonical_texts_and_wire_only() {
    let (secret, binding) = workloads::session();
    let mut signer = brainwire_sign::FrameSigner::new(secret, binding);
    let payload = workloads::payload(0);
    // The first frame fills the nonce source's batch; count a steady one.
    brainwire_v2::sign(&mut signer, "frame-1", &payload).expect("valid");
    let (wire, allocations) =
        count(|| brainwire_v2::sign(&mut signer, "frame-2", &payload).expect("valid"));
    println!("sign heartbeat: {allocations} allocations");
    // The canonical payload, the canonical writer's member index, the canonical envelope
    // and the wire text. The nonce is made on the stack, and the wire text is sized
    // exactly, so `Bytes` takes it without a shared header of its own.
    assert_eq!(allocations, 4, "{}", String::from_utf8_lossy(&wire));
}
