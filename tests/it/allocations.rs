//! Allocations per verify, counted by a global allocator on this thread only.
//!
//! `cargo test -p brainwire-tests --test it allocations -- --nocapture` prints the counts
//! that BENCHMARKS.md reports.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use brainwire_core::{Limits, Tape, Timestamp};
use brainwire_v2::{decode, FrameVerifier};

#[allow(dead_code)]
#[path = "../../crates/brainwire-v2/benches/workloads.rs"]
mod workloads;

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

// The one `unsafe` in the project: a global allocator must implement an unsafe trait. It
// forwards every call to the system allocator unchanged and only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn count<T>(f: impl FnOnce() -> T) -> (T, u64) {
    ALLOCATIONS.store(0, Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    let out = f();
    COUNTING.with(|c| c.set(false));
    (out, ALLOCATIONS.load(Ordering::Relaxed))
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
