//! A v2 agent: connects to a brain's `/ws/agent`, sends task events, answers commands,
//! reconnects per the close code's policy, and exits 0 once every event was acknowledged.
//!
//! ```text
//! cargo run -p brainwire-examples --example agent -- --url ws://127.0.0.1:7400/ws/agent \
//!     --token TOKEN --hmac-secret SECRET --events 100 [--expect-commands 1] \
//!     [--url ws://OTHER-NODE/ws/agent]... [--stay-connected SECONDS]
//! ```
//!
//! With `--expect-commands N` it stays connected until it has answered N commands. Given
//! `--url` more than once, it fails over between them (nodes of one brain) when one cannot
//! be reached. `--stay-connected SECONDS` keeps it connected that long once every event
//! is acknowledged, answering commands; a revocation (4003) ends it with an error.
//!
//! `TOKEN` and `SECRET` are what the `brain` example prints (or what a real brain returns
//! when an agent is created: the `token` and the urlsafe base64 `hmac_secret`).

use anyhow::{bail, Context};
use brainwire_examples::agent::{run, AgentOptions};
use brainwire_examples::transcript::Transcript;
use brainwire_sign::decode_agent_hmac_secret;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (mut urls, mut token, mut secret, mut events, mut expect_commands) =
        (Vec::new(), None, None, 10usize, 0usize);
    let mut stay_connected = std::time::Duration::ZERO;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => urls.push(args.next().context("--url needs a URL")?),
            "--stay-connected" => {
                let seconds: f64 = args
                    .next()
                    .context("--stay-connected needs SECONDS")?
                    .parse()
                    .context("--stay-connected needs a number of seconds")?;
                stay_connected = std::time::Duration::try_from_secs_f64(seconds)
                    .context("--stay-connected needs a number of seconds")?;
            }
            "--token" => token = Some(args.next().context("--token needs TOKEN")?),
            "--hmac-secret" => secret = Some(args.next().context("--hmac-secret needs SECRET")?),
            "--events" => {
                events = args
                    .next()
                    .context("--events needs N")?
                    .parse()
                    .context("--events needs a number")?
            }
            "--expect-commands" => {
                expect_commands = args
                    .next()
                    .context("--expect-commands needs N")?
                    .parse()
                    .context("--expect-commands needs a number")?
            }
            other => bail!("unknown argument {other:?}; see the header of examples/agent.rs"),
        }
    }
    if urls.is_empty() {
        urls.push("ws://127.0.0.1:7400/ws/agent".to_owned());
    }
    let url = urls.remove(0);
    let token = token.context("--token is required")?;
    let secret = decode_agent_hmac_secret(&secret.context("--hmac-secret is required")?)
        .context("--hmac-secret must be urlsafe base64 of at least 32 bytes")?;

    let (sender, mut lines) = tokio::sync::mpsc::channel(1024);
    let printer = tokio::spawn(async move {
        while let Some(line) = lines.recv().await {
            println!("{line}");
        }
    });
    let mut options = AgentOptions::new(url, token, secret, events);
    options.expect_commands = expect_commands;
    options.failover_urls = urls;
    options.stay_connected = stay_connected;
    let report = run(options, Transcript::new(sender)).await?;
    printer.await?;
    println!(
        "done: {} events acknowledged ({} newly stored) over {} connection(s), {} command(s) answered",
        report.acked_events, report.accepted_events, report.connections, report.commands_answered
    );
    Ok(())
}
