//! A v2 brain on one port: the agent endpoint `/ws/agent` (bearer auth, signed traffic),
//! the run status stream `/ws` with `GET /api/brain/status/ws`, and the channel endpoint
//! `/api/ws?token=`, both fed by what agents report; its counters at `GET /metrics`
//! (Prometheus text format).
//!
//! ```text
//! cargo run -p brainwire-examples --example brain -- --listen 127.0.0.1:7400
//! cargo run -p brainwire-examples --example brain -- --agent-token TOKEN --hmac-secret SECRET \
//!     [--dashboard-token TOKEN] [--run-stream-token TOKEN] [--no-command] \
//!     [--agents N] [--token-file FILE] [--admin-token TOKEN] [--heartbeat-seconds N] \
//!     [--redis redis://HOST:PORT --node NAME --project-id ID]
//! ```
//!
//! `--agent-token` may be given more than once, one agent each (an agent's id is derived
//! from its token, so nodes given the same tokens agree on the ids). With `--redis`, the
//! brain is one node of several sharing that Redis: give every node the same tokens,
//! secret, dashboard token, admin token and `--project-id`, and each its own `--node`
//! (see docs/scaling.md). Every node serves the HTTP API under `/api/` with
//! `Authorization: Bearer ADMIN_TOKEN` (a fresh one is printed when none is given).
//!
//! Without `--agent-token`/`--hmac-secret`, fresh ones are generated and printed, ready
//! for the `agent` example. `--agents N` accepts N agents (one connection each), the
//! first with `--agent-token`, the others with fresh tokens; `--token-file` writes every
//! agent token to FILE, one per line (for `brainwire-probe load`); without `--dashboard-token`, a fresh one is printed for the
//! `dashboard` example. With `--run-stream-token`, the run stream and its status document
//! require that token (`?token=` or `Authorization: Bearer`). `--heartbeat-seconds N` is
//! the heartbeat interval asked of agents (1 to 10, default 10). Once it accepts connections
//! it prints
//! `listening on ws://ADDR/ws/agent`, then the other endpoints.

use std::time::Duration;

use anyhow::{bail, Context};
use brainwire_examples::brain::{
    serve, AgentAccount, BrainOptions, AGENT_PATH, CHANNEL_PATH, METRICS_PATH, RUN_PATH,
    STATUS_PATH,
};
use brainwire_examples::transcript::Transcript;
use brainwire_sign::decode_agent_hmac_secret;

/// The longest heartbeat interval `--heartbeat-seconds` takes: an agent silent for three
/// intervals is dropped, and a node's hold on an agent lasts 30 s without a heartbeat.
const MAX_HEARTBEAT_SECONDS: u64 = 10;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut listen = "127.0.0.1:7400".to_owned();
    let mut tokens = Vec::new();
    let mut admin_token = None;
    let mut redis = None;
    let mut node = None;
    let mut project_id = None;
    let mut secret = None;
    let mut dashboard_token = None;
    let mut run_stream_token = None;
    let mut send_command = true;
    let mut agents = 1usize;
    let mut token_file = None;
    let mut heartbeat_seconds = 10;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().context("--listen needs ADDR")?,
            "--agent-token" => tokens.push(args.next().context("--agent-token needs TOKEN")?),
            "--admin-token" => {
                admin_token = Some(args.next().context("--admin-token needs TOKEN")?)
            }
            "--redis" => redis = Some(args.next().context("--redis needs redis://HOST:PORT")?),
            "--node" => node = Some(args.next().context("--node needs NAME")?),
            "--project-id" => project_id = Some(args.next().context("--project-id needs ID")?),
            "--hmac-secret" => secret = Some(args.next().context("--hmac-secret needs SECRET")?),
            "--dashboard-token" => {
                dashboard_token = Some(args.next().context("--dashboard-token needs TOKEN")?)
            }
            "--run-stream-token" => {
                run_stream_token = Some(args.next().context("--run-stream-token needs TOKEN")?)
            }
            "--no-command" => send_command = false,
            "--agents" => {
                agents = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n >= 1)
                    .context("--agents needs a count of at least 1")?
            }
            "--heartbeat-seconds" => {
                heartbeat_seconds = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| (1..=MAX_HEARTBEAT_SECONDS).contains(n))
                    .with_context(|| {
                        format!("--heartbeat-seconds needs 1 to {MAX_HEARTBEAT_SECONDS}")
                    })?
            }
            "--token-file" => token_file = Some(args.next().context("--token-file needs FILE")?),
            other => bail!("unknown argument {other:?}; see the header of examples/brain.rs"),
        }
    }
    if tokens.is_empty() {
        tokens.push(uuid::Uuid::new_v4().simple().to_string());
    }
    let token = tokens[0].clone();
    let secret = match secret {
        Some(text) => decode_agent_hmac_secret(&text)
            .context("--hmac-secret must be urlsafe base64 of at least 32 bytes")?,
        None => {
            let secret = brainwire_examples::brain::random_secret()?;
            println!("agent token: {token}");
            println!("hmac secret: {}", secret.to_urlsafe_base64());
            secret
        }
    };

    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let mut options = BrainOptions::new(token, secret);
    for token in &tokens[1..] {
        options.agents.push(AgentAccount::new(token.clone()));
    }
    for _ in tokens.len()..agents {
        let token = uuid::Uuid::new_v4().simple().to_string();
        options.agents.push(AgentAccount::new(token));
    }
    if let Some(file) = token_file {
        let tokens: String = options
            .agents
            .iter()
            .map(|a| a.token.clone() + "\n")
            .collect();
        write_private(&file, &tokens).with_context(|| format!("writing {file}"))?;
    }
    options.send_command = send_command;
    options.heartbeat_interval = Duration::from_secs(heartbeat_seconds);
    if let Some(dashboard_token) = dashboard_token {
        options.dashboard_token = dashboard_token;
    }
    options.run_stream_token = run_stream_token;
    match admin_token {
        Some(admin_token) => options.admin_token = admin_token,
        None => println!("admin token: {}", options.admin_token),
    }
    if let Some(project_id) = project_id {
        options.project_id = project_id;
    }
    if redis.is_some() {
        options.node = node.context("--redis needs --node NAME")?;
    }
    options.redis = redis;
    let addr = listener.local_addr()?;
    println!("listening on ws://{addr}{AGENT_PATH}");
    println!("run stream on ws://{addr}{RUN_PATH}, status at http://{addr}{STATUS_PATH}");
    println!("metrics at http://{addr}{METRICS_PATH}");
    println!("api at http://{addr}/api/ (node {})", options.node);
    println!(
        "channels on ws://{addr}{CHANNEL_PATH}?token={} (project:{}, agent:{})",
        options.dashboard_token, options.project_id, options.agents[0].agent_id
    );
    let (sender, mut lines) = tokio::sync::mpsc::channel(1024);
    tokio::spawn(async move {
        while let Some(line) = lines.recv().await {
            println!("{line}");
        }
    });
    serve(listener, options, Transcript::new(sender)).await
}

/// Writes `text` to `path`, readable by its owner only where the platform says so (the
/// file holds bearer tokens).
fn write_private(path: &str, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}
