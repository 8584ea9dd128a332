//! The main demonstration: a v2 brain and a v2 agent in one process, talking over a
//! loopback WebSocket, printed one frame per line.
//!
//! ```text
//! cargo run -p brainwire-examples --example demo
//! ```
//!
//! The agent sends 12 task events in batches of 4; the brain acknowledges each batch and,
//! after the first, sends a signed `cancel_task` command, which the agent acknowledges and
//! answers. The agent drops its first connection after two batches: on the new session it
//! re-sends what was unacknowledged, and the brain stores nothing twice. It stays a moment
//! longer to show a heartbeat, then closes.

use std::time::Duration;

use brainwire_examples::agent::{run, AgentOptions};
use brainwire_examples::brain::{serve, BrainOptions};
use brainwire_examples::transcript::Transcript;
use brainwire_sign::Secret;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let token = uuid::Uuid::new_v4().simple().to_string();
    let secret = Secret::new(uuid::Uuid::new_v4().as_bytes().repeat(2))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("ws://{}/ws/agent", listener.local_addr()?);
    println!("brain listening on {url}\n");

    let (sender, mut lines) = tokio::sync::mpsc::channel(1024);
    let printer = tokio::spawn(async move {
        while let Some(line) = lines.recv().await {
            println!("{line}");
        }
    });
    let mut brain = BrainOptions::new(token.clone(), secret.clone());
    brain.heartbeat_interval = Duration::from_secs(1);
    let stats = brain.stats.clone();
    let server = tokio::spawn(serve(listener, brain, Transcript::new(sender.clone())));

    let mut agent = AgentOptions::new(url, token, secret, 12);
    agent.events_per_batch = 4;
    agent.expect_commands = 1;
    agent.drop_after_batches = Some(2);
    agent.stay_connected = Duration::from_millis(1500);
    let report = run(agent, Transcript::new(sender)).await?;

    // Let the brain log the close, then stop it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.abort();
    let _ = server.await;
    printer.await?;
    let stored = stats
        .stored_events
        .load(std::sync::atomic::Ordering::SeqCst);
    let duplicates = stats
        .duplicate_events
        .load(std::sync::atomic::Ordering::SeqCst);
    println!(
        "\ndone: {} events acknowledged over {} connections; the brain stored {stored} \
         (and recognised {duplicates} re-sent ones); {} command answered",
        report.acked_events, report.connections, report.commands_answered
    );
    anyhow::ensure!(
        stored == 12 && report.acked_events == 12,
        "every event stored exactly once"
    );
    Ok(())
}
