//! Follows a brain's run status stream and prints every message, one per line, then the
//! latest state of every task when it stops.
//!
//! ```text
//! cargo run -p brainwire-examples --example run-watch -- --url ws://127.0.0.1:7400/ws [--runs N]
//! ```
//!
//! Without `--runs` it watches until the brain goes away (five reconnect attempts, as
//! document 003's client makes).

use anyhow::{bail, Context};
use brainwire_examples::run_watch::{run, RunWatchOptions};
use brainwire_run::{Body, RunMessage};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut url = "ws://127.0.0.1:7400/ws".to_owned();
    let mut runs = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => url = args.next().context("--url needs a URL")?,
            "--runs" => runs = Some(args.next().context("--runs needs N")?.parse()?),
            other => bail!("unknown argument {other:?}; see the header of examples/run_watch.rs"),
        }
    }
    let mut options = RunWatchOptions::new(url);
    options.stop_after_runs = runs;

    let (sink, mut messages) = tokio::sync::mpsc::unbounded_channel::<RunMessage>();
    let printer = tokio::spawn(async move {
        while let Some(message) = messages.recv().await {
            let detail = match &message.body {
                Body::Connected(data) => data.message.clone().unwrap_or_default(),
                Body::Echo(data) => data.as_str().to_owned(),
                body => body.run_data().map_or_else(String::new, |d| {
                    let status = d.status.as_ref().map_or("-", |s| s.as_str());
                    let id = d.id.as_deref().unwrap_or("-");
                    let error = d.error.as_deref().unwrap_or("");
                    format!("{id} {status} {error}")
                }),
            };
            println!(
                "{} {:<13} {detail}",
                message.timestamp,
                message.body.message_type()
            );
        }
    });
    let board = run(options, sink).await;
    printer.await?;
    let board = board?;
    println!("\n{} tasks:", board.len());
    let mut tasks: Vec<_> = board.tasks().collect();
    tasks.sort_by_key(|(id, _)| *id);
    for (id, data) in tasks {
        let status = data.status.as_ref().map_or("-", |s| s.as_str());
        println!("  {id:<40} {status}");
    }
    Ok(())
}
