//! A dashboard: subscribes to channels on a brain's channel endpoint and prints every
//! event, one per line.
//!
//! ```text
//! cargo run -p brainwire-examples --example dashboard -- \
//!     --url ws://127.0.0.1:7400/api/ws --token TOKEN --channel project:ID [--channel agent:ID ...] [--events N]
//! ```
//!
//! The brain example prints its dashboard token and project channel when it starts.
//! Without `--events` it watches until the brain goes away, subscribing again after every
//! reconnect.

use anyhow::{bail, Context};
use brainwire_channel::{encode_server, ServerMessage};
use brainwire_examples::dashboard::{run, DashboardOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut url = "ws://127.0.0.1:7400/api/ws".to_owned();
    let mut token = None;
    let mut channels = Vec::new();
    let mut events = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => url = args.next().context("--url needs a URL")?,
            "--token" => token = Some(args.next().context("--token needs TOKEN")?),
            "--channel" => {
                let text = args.next().context("--channel needs KIND:ID")?;
                channels.push(text.parse().with_context(|| format!("channel {text:?}"))?);
            }
            "--events" => events = Some(args.next().context("--events needs N")?.parse()?),
            other => bail!("unknown argument {other:?}; see the header of examples/dashboard.rs"),
        }
    }
    let token = token.context("--token is required (the brain prints it)")?;
    anyhow::ensure!(!channels.is_empty(), "give at least one --channel");
    let mut options = DashboardOptions::new(url, token, channels);
    options.stop_after_events = events;

    let (sink, mut messages) = tokio::sync::mpsc::unbounded_channel();
    let printer = tokio::spawn(async move {
        while let Some(message) = messages.recv().await {
            match &message {
                ServerMessage::Event(event) => {
                    let wire = encode_server(&message);
                    println!(
                        "{:<22} {}",
                        event.event_type(),
                        String::from_utf8_lossy(&wire)
                    );
                }
                other => println!("{}", String::from_utf8_lossy(&encode_server(other))),
            }
        }
    });
    let result = run(options, sink).await;
    printer.await?;
    result.map(drop)
}
