//! The orchestrator of document 002, both layers at once: it connects up to a platform as
//! a client (`auth.request` with its capabilities, heartbeats, reconnects with backoff;
//! it stops when the platform refuses its token) and serves agents below it at
//! `ws://ADDR/ws/agent` with the same message set. An agent's application message with a
//! `messageId` is relayed up, and the platform's `ack` or `nack` relayed back down; what
//! the platform had not answered when its connection dropped is sent again.
//!
//! ```text
//! cargo run -p brainwire-examples --example orchestrator -- \
//!     --platform-url ws://127.0.0.1:7500/ws/orchestrator --token TOKEN \
//!     --listen 127.0.0.1:7600 --agent-token AGENT_TOKEN \
//!     [--role worker|coordinator] [--deny-dashboard-write OPERATION]... [--capability NAME=JSON]...
//! ```
//!
//! `--deny-dashboard-write` sets `dashboardWrites.OPERATION` to `false`; `--capability`
//! adds a flag this version does not know, passed up as given. Once it accepts agents it
//! prints `listening on ws://ADDR/ws/agent`.

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use brainwire_auth::{OrchRole, Token};
use brainwire_core::JsonValue;
use brainwire_examples::orchestrator::{run, OrchestratorOptions, AGENT_PATH};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (mut platform_url, mut token, mut listen, mut agent_token) =
        (None, None, "127.0.0.1:7600".to_owned(), None);
    let (mut role, mut denied, mut extra) = (None, BTreeMap::new(), BTreeMap::new());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--platform-url" => {
                platform_url = Some(args.next().context("--platform-url needs URL")?)
            }
            "--token" => token = Some(args.next().context("--token needs TOKEN")?),
            "--listen" => listen = args.next().context("--listen needs ADDR")?,
            "--agent-token" => {
                agent_token = Some(args.next().context("--agent-token needs TOKEN")?)
            }
            "--role" => {
                role = Some(match args.next().as_deref() {
                    Some("worker") => OrchRole::Worker,
                    Some("coordinator") => OrchRole::Coordinator,
                    _ => bail!("--role needs worker or coordinator"),
                })
            }
            "--deny-dashboard-write" => {
                let operation = args
                    .next()
                    .context("--deny-dashboard-write needs OPERATION")?;
                denied.insert(operation, false);
            }
            "--capability" => {
                let flag = args.next().context("--capability needs NAME=JSON")?;
                let (name, json) = flag
                    .split_once('=')
                    .context("--capability needs NAME=JSON")?;
                let value = JsonValue::from_text(json.to_owned())
                    .with_context(|| format!("--capability {name}: not JSON"))?;
                extra.insert(name.to_owned(), value);
            }
            other => {
                bail!("unknown argument {other:?}; see the header of examples/orchestrator.rs")
            }
        }
    }
    let token = Token::new(token.context("--token is required")?).context("--token is empty")?;
    let agent_token = Token::new(agent_token.context("--agent-token is required")?)
        .context("--agent-token is empty")?;
    let platform_url = platform_url.context("--platform-url is required")?;
    let mut options = OrchestratorOptions::new(platform_url, token, agent_token);
    options.capabilities.orch_role = role;
    options.capabilities.dashboard_writes = (!denied.is_empty()).then_some(denied);
    options.capabilities.extra = extra;

    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    println!("listening on ws://{}{AGENT_PATH}", listener.local_addr()?);
    let (lines, mut printed) = tokio::sync::mpsc::channel(1024);
    let printer = tokio::spawn(async move {
        while let Some(line) = printed.recv().await {
            println!("{line}");
        }
    });
    let result = run(listener, options, lines).await;
    // Every line is printed, those before a failure too (agent connections still open
    // hold the printer's channel: give it a moment, not forever).
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), printer).await;
    result
}
