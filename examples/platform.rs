//! The platform of document 002: orchestrators connect to `ws://ADDR/ws/orchestrator`,
//! authenticate with `auth.request` (`auth.success`, or `auth.failure` and 1008),
//! exchange heartbeats, and have each application message with a `messageId`
//! acknowledged (`job.progress`, `job.completed`, `webhook.received`) or refused with a
//! `nack` (any other type). Prints each orchestrator's capabilities as it declared them,
//! unknown flags included.
//!
//! ```text
//! cargo run -p brainwire-examples --example platform -- --listen 127.0.0.1:7500 --token TOKEN
//! ```
//!
//! Once it accepts connections it prints `listening on ws://ADDR/ws/orchestrator`.

use anyhow::{bail, Context};
use brainwire_auth::Token;
use brainwire_examples::platform::{serve, PlatformOptions, PLATFORM_PATH};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (mut listen, mut token) = ("127.0.0.1:7500".to_owned(), None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().context("--listen needs ADDR")?,
            "--token" => token = Some(args.next().context("--token needs TOKEN")?),
            other => bail!("unknown argument {other:?}; see the header of examples/platform.rs"),
        }
    }
    let token = Token::new(token.context("--token is required")?).context("--token is empty")?;
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    println!(
        "listening on ws://{}{PLATFORM_PATH}",
        listener.local_addr()?
    );
    let (lines, mut printed) = tokio::sync::mpsc::channel(1024);
    tokio::spawn(async move {
        while let Some(line) = printed.recv().await {
            println!("{line}");
        }
    });
    serve(listener, PlatformOptions::new(token), lines).await;
    Ok(())
}
