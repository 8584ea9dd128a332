//! Events from one agent to a brain over loopback (`Agent` to `accept_agent`, every
//! batch acknowledged), beside the in-process floor of the same work: signing and
//! verifying the same batches with no socket, no task and no queue.
//!
//! ```text
//! cargo bench -p brainwire-tokio --bench loopback
//! ```

// criterion's macros generate undocumented functions.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use brainwire_core::Timestamp;
use brainwire_sign::{FrameSigner, Keyring};
use brainwire_test_support::brain::acknowledge_every_batch;
use brainwire_test_support::workloads::{payload, session, task_event};
use brainwire_tokio::{accept_agent, serve, Agent, AgentOptions, AgentTokens, BrainOptions};
use brainwire_v2::{sign, AgentGrant, BrainConfig, FrameVerifier, Hello};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Events per measured run: 20 batches of 500.
const EVENTS: usize = 10_000;
const BATCH: usize = 500;

fn delivery(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let (secret, binding) = session();
    let url = runtime.block_on(async {
        let grant = AgentGrant {
            agent_id: binding.agent_id.clone(),
            project_id: binding.project_id.clone(),
            keys: Keyring::new(secret.clone()),
        };
        let tokens = AgentTokens::new().with("bench-token", grant);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let url = format!("ws://{}/ws/agent", listener.local_addr().expect("bound"));
        tokio::spawn(serve(listener, 16, move |stream, _| {
            let tokens = tokens.clone();
            async move {
                let options = BrainOptions::new(BrainConfig::new("bench"));
                let Ok(agent) = accept_agent(stream, &tokens, &options).await else {
                    return;
                };
                acknowledge_every_batch(agent).await;
            }
        }));
        url
    });
    let events: Vec<_> = (0..EVENTS).map(task_event).collect();

    let mut group = c.benchmark_group("tokio");
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.sample_size(10);
    group.bench_function("loopback_10k_events", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut options = AgentOptions::new(
                        url.clone(),
                        "bench-token",
                        secret.clone(),
                        Hello::new("bench/1", "bare"),
                    );
                    options.config.max_events_per_batch = BATCH;
                    let start = Instant::now();
                    let agent = Agent::spawn(options);
                    for event in &events {
                        agent.send_event(event.clone()).await.expect("running");
                    }
                    let report = agent.shutdown(Duration::from_secs(60)).await.expect("ok");
                    total += start.elapsed();
                    assert_eq!(report.unacked_events, 0);
                }
                total
            })
        });
    });
    // The floor: the same 20 batches signed and verified in process.
    let batch = payload(BATCH);
    group.bench_function("in_process_sign_verify_10k_events", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut signer = FrameSigner::new(secret.clone(), binding.clone());
                let mut verifier = FrameVerifier::new(secret.clone(), binding.clone());
                let start = Instant::now();
                for i in 0..EVENTS / BATCH {
                    let wire = sign(&mut signer, &format!("b-{i}"), &batch).expect("signs");
                    verifier
                        .verify(&wire, Timestamp::now_utc())
                        .expect("verifies");
                }
                total += start.elapsed();
            }
            total
        });
    });
    group.finish();
}

criterion_group! {
    name = loopback;
    config = Criterion::default();
    targets = delivery
}
criterion_main!(loopback);
