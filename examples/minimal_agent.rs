//! A complete v2 agent on brainwire-tokio: it sends `--events` task events, answers any
//! command, and shuts down once the brain has acknowledged everything.
//!
//! ```sh
//! cargo run -p brainwire-examples --example minimal-agent -- --url ws://127.0.0.1:7401/ws/agent \
//!     --token TOKEN --hmac-secret SECRET --events 100
//! ```

use std::time::Duration;

use anyhow::Context;
use brainwire::core::JsonObject;
use brainwire::sign::decode_agent_hmac_secret;
use brainwire::v2::{CommandResult, Hello};
use brainwire_tokio::{Agent, AgentOptions, Update};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (mut url, mut token, mut secret, mut events) = (None, None, None, 10usize);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => url = args.next(),
            "--token" => token = args.next(),
            "--hmac-secret" => secret = args.next(),
            "--events" => events = args.next().context("--events needs N")?.parse()?,
            other => anyhow::bail!("unknown argument {other:?}"),
        }
    }
    let secret = decode_agent_hmac_secret(&secret.context("--hmac-secret is required")?)?;
    let hello = Hello::new("minimal-agent/0.1", "bare");
    let options = AgentOptions::new(
        url.context("--url is required")?,
        token.context("--token is required")?,
        secret,
        hello,
    );
    let mut agent = Agent::spawn(options);

    for i in 0..events {
        let event = format!(r#"{{"task_id":"task-{i}","kind":"task.succeeded"}}"#);
        agent.send_event(JsonObject::from_text(event)?).await?;
    }
    // Answer commands while the events drain; a brain may send none.
    while let Ok(Some(update)) =
        tokio::time::timeout(Duration::from_millis(500), agent.next_update()).await
    {
        if let Update::Command(command) = update {
            println!("command {}: {}", command.command_id, command.command.action);
            command.complete(CommandResult::success(None)).await?;
        }
    }
    let report = agent.shutdown(Duration::from_secs(30)).await?;
    println!(
        "{} events acknowledged, {} left",
        report.acked_events, report.unacked_events
    );
    anyhow::ensure!(
        report.unacked_events == 0,
        "the brain did not acknowledge everything"
    );
    Ok(())
}
