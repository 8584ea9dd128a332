//! The brain's memory per idle connection: a brain (`brainwire-tokio`'s `accept_agent`,
//! or its `RunStreamServer` for dashboards) in this process, N clients in a child process,
//! each connected (agents having said `hello`) and then idle. Prints the brain's resident
//! memory before and after, per connection.
//!
//! ```text
//! cargo run --release -p brainwire-test-support --bin idle_memory -- 1000
//! cargo run --release -p brainwire-test-support --bin idle_memory -- 1000 dashboards
//! cargo run --release -p brainwire-test-support --bin idle_memory -- 1000 dashboards-axum
//! ```
//!
//! `dashboards-axum` serves the run stream through its axum route, as the example brain
//! does (`axum::serve`: hyper's connection, then the upgraded stream).

use std::time::Duration;

use brainwire_core::WallClock;
use brainwire_run::Broadcaster;
use brainwire_sign::Keyring;
use brainwire_test_support::brain::acknowledge_every_batch;
use brainwire_test_support::workloads::session;
use brainwire_tokio::{
    accept_agent, serve, AgentTokens, BrainOptions, DashboardOptions, RunStreamServer, Stats,
};
use brainwire_v2::{encode, AgentGrant, BrainConfig, Frame, Hello, Payload};
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// Resident memory of this process, in bytes (Linux).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// As many descriptors as the hard limit allows: each connection takes one.
fn raise_descriptor_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    let _ = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        },
    );
}

#[tokio::main]
async fn main() {
    raise_descriptor_limit();
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let kind = args.next().unwrap_or_else(|| "agents".to_owned());
    if let Some(url) = args.next() {
        return clients(count, kind != "agents", &url).await;
    }
    match kind.as_str() {
        "dashboards" => return idle_dashboards(count, false).await,
        "dashboards-axum" => return idle_dashboards(count, true).await,
        _ => {}
    }
    let (secret, binding) = session();
    let grant = AgentGrant {
        agent_id: binding.agent_id.clone(),
        project_id: binding.project_id.clone(),
        keys: Keyring::new(secret),
    };
    let tokens = AgentTokens::new().with("idle-token", grant);
    let options = BrainOptions::new(BrainConfig::new("idle"));
    let stats = options.stats.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let url = format!("ws://{}/ws/agent", listener.local_addr().expect("bound"));
    tokio::spawn(serve(listener, count + 16, move |stream, _| {
        let (tokens, options) = (tokens.clone(), options.clone());
        async move {
            if let Ok(agent) = accept_agent(stream, &tokens, &options).await {
                acknowledge_every_batch(agent).await;
            }
        }
    }));
    measure(count, "agents", &url, &stats).await;
}

/// `count` idle run stream clients of a `RunStreamServer` with the default limits, on
/// raw streams or through its axum route.
async fn idle_dashboards(count: usize, through_axum: bool) {
    let options = DashboardOptions::default();
    let stats = options.stats.clone();
    let server = RunStreamServer::new(Broadcaster::new("idle", WallClock::system()), options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let url = format!("ws://{}/ws", listener.local_addr().expect("bound"));
    let kind = if through_axum {
        let router = axum::Router::new().route("/ws", server.route());
        tokio::spawn(async move { axum::serve(listener, router).await });
        "dashboards-axum"
    } else {
        tokio::spawn(serve(listener, count + 16, move |stream, _| {
            let server = server.clone();
            async move {
                let _ = server.accept(stream).await;
            }
        }));
        "dashboards"
    };
    measure(count, kind, &url, &stats).await;
}

/// Starts the child with `count` clients of `kind` at `url`, waits for them all, and
/// prints the brain's memory per connection.
async fn measure(count: usize, kind: &str, url: &str, stats: &Stats) {
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = rss();
    let mut child = std::process::Command::new(std::env::current_exe().expect("this binary"))
        .arg(count.to_string())
        .arg(kind)
        .arg(url)
        .spawn()
        .expect("the client process");
    while stats.snapshot().open_connections < count as u64 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every client is in; let the connections settle.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss();
    let per = after.saturating_sub(before) / count as u64;
    println!(
        "{count} idle {kind} connections: brain RSS {} KiB before, {} KiB after, {} bytes ({:.1} KiB) each",
        before / 1024,
        after / 1024,
        per,
        per as f64 / 1024.0
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// The child: `count` clients that connect (agents also say hello) and then stay
/// connected, idle.
async fn clients(count: usize, dashboards: bool, url: &str) {
    let hello = Frame::new("h-1", Payload::Hello(Hello::new("idle/1", "bare")));
    let hello = String::from_utf8(encode(&hello).to_vec()).expect("JSON");
    let mut sockets = Vec::with_capacity(count);
    for _ in 0..count {
        let mut request = url.into_client_request().expect("a URL");
        request.headers_mut().insert(
            "authorization",
            "Bearer idle-token".parse().expect("a header"),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("connected");
        if dashboards {
            sockets.push(socket);
            continue;
        }
        socket
            .send(Message::text(hello.clone()))
            .await
            .expect("hello sent");
        sockets.push(socket);
    }
    tokio::time::sleep(Duration::from_secs(3600)).await;
}
