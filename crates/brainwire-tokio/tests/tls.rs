//! `wss://` between the agent client and the brain driver, with a certificate made at
//! test time: trusted when the agent is given its CA, refused on the platform's roots.

use std::sync::Arc;
use std::time::Duration;

use brainwire_close::Backoff;
use brainwire_core::JsonObject;
use brainwire_sign::{Keyring, Secret};
use brainwire_test_support::brain::acknowledge_every_batch;
use brainwire_tokio::rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use brainwire_tokio::rustls::{ClientConfig, RootCertStore, ServerConfig};
use brainwire_tokio::{
    accept_agent_tls, serve, Agent, AgentOptions, AgentTokens, BrainOptions, TlsAcceptor,
};
use brainwire_v2::{AgentGrant, BrainConfig, Hello};
use tokio::net::TcpListener;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(20);

fn secret() -> Secret {
    Secret::new(b"tls-test-secret-0123456789abcdef".to_vec()).unwrap()
}

/// A brain on `wss://localhost:PORT/ws/agent` that acknowledges every batch, and its
/// certificate.
async fn start_brain() -> (String, CertificateDer<'static>) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = made.cert.der().clone();
    let key = PrivatePkcs8KeyDer::from(made.signing_key.serialize_der());
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key.into())
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "wss://localhost:{}/ws/agent",
        listener.local_addr().unwrap().port()
    );
    let tokens = AgentTokens::new().with(
        "token",
        AgentGrant {
            agent_id: "agent-1".into(),
            project_id: "project-1".into(),
            keys: Keyring::new(secret()),
        },
    );
    tokio::spawn(serve(listener, 16, move |stream, _| {
        let (acceptor, tokens) = (acceptor.clone(), tokens.clone());
        async move {
            let options = BrainOptions::new(BrainConfig::new("tls-brain"));
            let Ok(connection) = accept_agent_tls(stream, &acceptor, &tokens, &options).await
            else {
                return;
            };
            acknowledge_every_batch(connection).await;
        }
    }));
    (url, cert)
}

fn agent_options(url: String) -> AgentOptions {
    let mut options = AgentOptions::new(url, "token", secret(), Hello::new("tls-test/1.0", "bare"));
    options.backoff = Backoff::new(Duration::from_millis(20), Duration::from_millis(200));
    options
}

fn event(i: usize) -> JsonObject {
    JsonObject::from_text(format!(r#"{{"task_id":"t-{i}"}}"#)).unwrap()
}

#[tokio::test]
async fn an_agent_given_the_ca_delivers_over_wss() {
    let (url, cert) = start_brain().await;
    let mut roots = RootCertStore::empty();
    roots.add(cert).unwrap();
    let mut options = agent_options(url);
    options.tls = Some(Arc::new(
        ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ));
    let agent = Agent::spawn(options);
    for i in 0..20 {
        agent.send_event(event(i)).await.unwrap();
    }
    let report = timeout(WAIT, agent.shutdown(Duration::from_secs(10)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            report.stats.connections,
            report.acked_events,
            report.unacked_events
        ),
        (1, 20, 0)
    );
}

#[tokio::test]
async fn an_agent_on_the_platform_roots_refuses_a_self_signed_brain() {
    let (url, _) = start_brain().await;
    let agent = Agent::spawn(agent_options(url));
    agent.send_event(event(0)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let report = timeout(WAIT, agent.shutdown(Duration::from_millis(100)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((report.stats.connections, report.unacked_events), (0, 1));
}
