//! A legacy v1 agent (document 000): connects to a brain's `/ws` with its bearer token,
//! sends `hello` (`protocol: "v1"`), a schedule snapshot and `event_batch`es numbered by a
//! monotonic `seq`, waits for each `ack`, answers commands with `command_result`, sends
//! again what was not acknowledged after a reconnect, and reconnects with exponential
//! backoff on 1006 / 1011 / 4005, stopping on 4001 / 4002 / 4003. Exits 0 once every
//! event was acknowledged.
//!
//! ```text
//! cargo run -p brainwire-examples --example agent-v1 -- --url ws://127.0.0.1:7400/ws \
//!     --token TOKEN --events 100
//! ```
//!
//! `TOKEN` is the agent token the `brain` example prints; v1 has no HMAC secret.

use brainwire_examples::agent_v1::{parse_args, run};
use brainwire_examples::transcript::Transcript;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = parse_args(std::env::args().skip(1))?;
    let (sender, mut lines) = tokio::sync::mpsc::channel(1024);
    let printer = tokio::spawn(async move {
        while let Some(line) = lines.recv().await {
            println!("{line}");
        }
    });
    let report = run(options, Transcript::new(sender)).await;
    // Every line is printed, those before a failure too.
    printer.await?;
    let report = report?;
    println!(
        "done: {} events acknowledged over {} connection(s), {} batch(es) sent again, {} command(s) answered",
        report.acked_events, report.connections, report.resent_batches, report.commands_answered
    );
    Ok(())
}
