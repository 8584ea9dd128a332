//! A complete v2 brain on brainwire-tokio: it accepts agents presenting `--agent-token`,
//! verifies their signed frames with `--hmac-secret`, and acknowledges every batch.
//!
//! ```sh
//! cargo run -p brainwire-examples --example minimal-brain -- --listen 127.0.0.1:7401 \
//!     --agent-token TOKEN --hmac-secret SECRET
//! ```
//!
//! `SECRET` is urlsafe base64 of at least 32 bytes, as the reference brain hands it out.

use anyhow::Context;
use brainwire::sign::{decode_agent_hmac_secret, Keyring};
use brainwire::v2::{AgentGrant, BrainConfig, BrainEvent};
use brainwire_tokio::{accept_agent, serve, AgentTokens, BrainOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (mut listen, mut token, mut secret) = (String::from("127.0.0.1:7401"), None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().context("--listen needs ADDR")?,
            "--agent-token" => token = args.next(),
            "--hmac-secret" => secret = args.next(),
            other => anyhow::bail!("unknown argument {other:?}"),
        }
    }
    let secret = decode_agent_hmac_secret(&secret.context("--hmac-secret is required")?)?;
    let grant = AgentGrant {
        agent_id: "agent-1".into(),
        project_id: "project-1".into(),
        keys: Keyring::new(secret),
    };
    let tokens = AgentTokens::new().with(token.context("--agent-token is required")?, grant);
    let options = BrainOptions::new(BrainConfig::new("minimal-brain/0.1"));

    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening on ws://{}/ws/agent", listener.local_addr()?);
    let never = serve(listener, 1024, move |stream, _peer| {
        let (tokens, options) = (tokens.clone(), options.clone());
        async move {
            let Ok(mut agent) = accept_agent(stream, &tokens, &options).await else {
                return;
            };
            while let Some(event) = agent.next_event().await {
                if let BrainEvent::EventBatch { batch_id, events } = event {
                    println!("batch {batch_id}: {} events", events.len());
                    let n = events.len() as u64;
                    let _ = agent.ack_batch(batch_id, n, n, 0).await;
                }
            }
        }
    })
    .await;
    match never {}
}
