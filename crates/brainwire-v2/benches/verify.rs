//! Sign, decode, canonicalize and verify of realistic v2 frames, beside the floors they
//! cannot beat: reading the bytes once (`serde_json` into `IgnoredAny`), writing the
//! payload once (`Payload::to_json`, serde_json) and one HMAC-SHA256 over the canonical
//! envelope.
//!
//! ```text
//! cargo bench -p brainwire-v2 --bench verify
//! ```

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use brainwire_test_support::workloads;

use brainwire_core::{canonicalize, Limits, Timestamp};
use brainwire_sign::FrameSigner;
use brainwire_v2::{decode, sign, FrameVerifier};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use hmac::{KeyInit, Mac};

fn benches(c: &mut Criterion) {
    let now = Timestamp::now_utc();
    let (secret, binding) = workloads::session();
    let mut group = c.benchmark_group("v2");
    for (name, events) in workloads::WORKLOADS {
        // The verifier is warmed by a first frame (seq 1) outside the measurement, so the
        // measured verify of seq 2 runs with its buffers grown, as in a session.
        let warm_up = workloads::signed(events, now, 1);
        let wire = workloads::signed(events, now, 2);
        let canonical = canonicalize(&wire, &Limits::default()).expect("valid");
        group.throughput(Throughput::Bytes(wire.len() as u64));

        let payload = workloads::payload(events);
        let mut signer = FrameSigner::new(secret.clone(), binding.clone());
        group.bench_function(BenchmarkId::new("sign", name), |b| {
            b.iter(|| sign(&mut signer, "frame-1", &payload).expect("valid"))
        });
        // What an agent session does: events canonicalized once when queued, the batch
        // signed without parsing them again.
        let canonical_payload =
            canonicalize(&payload.to_json(), &Limits::default()).expect("valid");
        let frame_type = payload.frame_type().as_str();
        group.bench_function(BenchmarkId::new("sign_canonical", name), |b| {
            b.iter(|| {
                signer
                    .sign_canonical(frame_type, "frame-1", &canonical_payload)
                    .expect("valid")
            })
        });
        group.bench_function(BenchmarkId::new("decode", name), |b| {
            b.iter(|| decode(&wire).expect("valid"))
        });
        group.bench_function(BenchmarkId::new("canonicalize", name), |b| {
            b.iter(|| canonicalize(&wire, &Limits::default()).expect("valid"))
        });
        group.bench_function(BenchmarkId::new("verify", name), |b| {
            b.iter_batched_ref(
                || {
                    let mut verifier = FrameVerifier::new(secret.clone(), binding.clone());
                    verifier.verify(&warm_up, now).expect("valid");
                    verifier
                },
                |verifier| verifier.verify(&wire, now).expect("valid"),
                BatchSize::SmallInput,
            )
        });
        group.bench_function(BenchmarkId::new("floor_parse", name), |b| {
            b.iter(|| serde_json::from_slice::<serde::de::IgnoredAny>(&wire).expect("valid"))
        });
        group.bench_function(BenchmarkId::new("floor_encode", name), |b| {
            b.iter(|| payload.to_json())
        });
        group.bench_function(BenchmarkId::new("floor_mac", name), |b| {
            b.iter(|| {
                let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.expose())
                    .expect("any key length");
                mac.update(&canonical);
                mac.finalize()
            })
        });
        // The same MAC from a state keyed once and cloned: what a verifier that keeps
        // its keyed state pays.
        let keyed =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.expose()).expect("any key length");
        group.bench_function(BenchmarkId::new("floor_mac_keyed_once", name), |b| {
            b.iter(|| {
                let mut mac = keyed.clone();
                mac.update(&canonical);
                mac.finalize()
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = verify;
    config = Criterion::default();
    targets = benches
}
criterion_main!(verify);
