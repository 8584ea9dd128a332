//! The real agent, z4j-bare 1.13.0 from PyPI with the huey adapter (z4j-huey 1.13.0, huey
//! 3.5.4, a SqliteHuey and a threaded consumer), against the example brain (brainwire's
//! `BrainSession` over tokio-tungstenite) on loopback.

use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::Duration;

use brainwire_examples::brain::{serve, BrainOptions};
use brainwire_examples::run_watch::{self, RunWatchOptions};
use brainwire_examples::transcript::{Line, Side, Transcript};
use brainwire_run::{Body, RunMessage};
use brainwire_sign::Secret;

use crate::reference::reference_python;
use crate::tests_dir;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_agent_talks_to_the_brainwire_brain() {
    let secret = Secret::new(b"real-agent-e2e-secret-0123456789".to_vec()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let url = format!("http://{addr}");
    let mut options = BrainOptions::new("real-agent-token", secret.clone());
    // Ask for heartbeats every second, so a short session shows them.
    options.heartbeat_interval = Duration::from_secs(1);
    let stats = options.stats.clone();
    let (sender, mut lines) = tokio::sync::mpsc::channel(1024);
    let server = tokio::spawn(serve(listener, options, Transcript::new(sender)));
    let collector = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(line) = lines.recv().await {
            all.push(line);
        }
        all
    });

    // A run-watch client follows what the real agent's reports become on the run stream.
    let (runs_in, mut runs) = tokio::sync::mpsc::unbounded_channel();
    let watcher = tokio::spawn(run_watch::run(
        RunWatchOptions::new(format!("ws://{addr}/ws")),
        runs_in,
    ));
    let greeting = tokio::time::timeout(Duration::from_secs(10), runs.recv()).await;
    assert!(
        matches!(
            greeting,
            Ok(Some(RunMessage {
                body: Body::Connected { .. },
                ..
            }))
        ),
        "{greeting:?}"
    );

    let home = std::env::temp_dir().join(format!("brainwire-real-agent-{}", std::process::id()));
    let secret_b64 = secret.to_urlsafe_base64();
    let agent = tokio::task::spawn_blocking(move || {
        Command::new(reference_python())
            .arg(tests_dir().join("reference/real_agent.py"))
            .args([url.as_str(), "real-agent-token", secret_b64.as_str()])
            .env("Z4J_HOME", &home)
            .env("EVENTS_OK", "4")
            .env("SECONDS", "5")
            .output()
            .expect("the real agent runs")
    });
    let output = tokio::time::timeout(Duration::from_secs(60), agent)
        .await
        .expect("the agent finishes")
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.abort();
    let _ = server.await;
    watcher.abort();
    let lines = collector.await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "real agent failed: {stderr}");

    // Six Huey tasks (four successes, a failure, a retry that succeeds) each report at
    // least their enqueue and their outcome, in signed batches the brain verified and stored,
    let stored = stats.stored_events.load(Ordering::SeqCst);
    assert!(
        stored >= 12,
        "only {stored} events stored: {lines:#?}\n{stderr}"
    );
    // the agent verified the brain's signed command and answered it,
    assert_eq!(
        stats.command_results.load(Ordering::SeqCst),
        1,
        "{lines:#?}\n{stderr}"
    );
    let completed = lines.iter().any(|l| matches!(l, Line::Note { by: Side::Brain, text } if text.contains("completed: Success")));
    assert!(completed, "{lines:#?}");
    // one handshake, no reconnects; its signed heartbeats and agent_status verified,
    assert_eq!(stats.sessions.load(Ordering::SeqCst), 1, "{lines:#?}");
    assert!(stats.heartbeats.load(Ordering::SeqCst) >= 2, "{lines:#?}");
    assert!(
        stats.agent_statuses.load(Ordering::SeqCst) >= 1,
        "{lines:#?}"
    );
    // every batch acked,
    let batches = lines
        .iter()
        .filter(|l| matches!(l, Line::Note { by: Side::Brain, text } if text.starts_with("batch ")))
        .count();
    let acks = lines.iter().filter(|l| matches!(l, Line::Frame { from: Side::Brain, frame_type, .. } if frame_type == "event_batch_ack")).count();
    assert_eq!(batches, acks);
    // the run stream carried the Huey outcomes: four successes and the retried task's
    // success, except the one the brain's command cancelled if it arrived in time (it
    // races the worker), and the failure with its exception,
    let mut completed = 0;
    let mut failures = Vec::new();
    while let Ok(message) = runs.try_recv() {
        match &message.body {
            Body::RunComplete(_) => completed += 1,
            Body::RunFailed(data) => failures.push(data.error.clone().unwrap_or_default()),
            _ => {}
        }
    }
    let revoked = failures.iter().filter(|f| *f == "revoked").count();
    assert!(revoked <= 1, "{failures:?}");
    assert_eq!(
        completed + revoked,
        5,
        "{completed} completed, {failures:?}"
    );
    failures.retain(|f| f != "revoked");
    assert_eq!(
        failures,
        ["ValueError: this task always fails"],
        "{completed}"
    );
    // and it never complained about the brain's frames.
    for word in [
        "signature",
        "hmac",
        "replay",
        "ProtocolError",
        "version mismatch",
    ] {
        assert!(
            !stderr.contains(word),
            "agent log mentions {word}: {stderr}"
        );
    }
}
