//! The spans of both sides carry the session's ids, and nothing logged carries the
//! bearer token. A test binary of its own: it installs a global subscriber.

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use brainwire_core::JsonObject;
use brainwire_sign::{Keyring, Secret};
use brainwire_test_support::brain::acknowledge_every_batch;
use brainwire_tokio::{accept_agent, serve, Agent, AgentOptions, AgentTokens, BrainOptions};
use brainwire_v2::{AgentGrant, BrainConfig, Hello};
use tokio::net::TcpListener;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

const TOKEN: &str = "a-bearer-token-that-must-never-be-logged";

/// Every field value recorded on a span or an event, as `(name, value)`.
#[derive(Default)]
struct Captured {
    fields: Mutex<Vec<(String, String)>>,
    next_id: AtomicU64,
}

struct Fields<'a>(&'a Captured);

/// The subscriber, sharing what it captures with the test.
#[derive(Clone, Default)]
struct Capture(Arc<Captured>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let mut fields = self.0.fields.lock().unwrap();
        fields.push((field.name().to_owned(), value.to_owned()));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        span.record(&mut Fields(&self.0));
        Id::from_u64(self.0.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        values.record(&mut Fields(&self.0));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        event.record(&mut Fields(&self.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_carry_the_session_ids_and_never_the_token() {
    let capture = Capture::default();
    tracing::subscriber::set_global_default(capture.clone()).unwrap();
    let secret = Secret::new(vec![3; 32]).unwrap();
    let grant = AgentGrant {
        agent_id: "agent-7".into(),
        project_id: "project-7".into(),
        keys: Keyring::new(secret.clone()),
    };
    let tokens = AgentTokens::new().with(TOKEN, grant);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws/agent", listener.local_addr().unwrap());
    tokio::spawn(serve(listener, 4, move |stream, _| {
        let tokens = tokens.clone();
        async move {
            let options = BrainOptions::new(BrainConfig::new("b"));
            let Ok(connection) = accept_agent(stream, &tokens, &options).await else {
                return;
            };
            acknowledge_every_batch(connection).await;
        }
    }));
    let agent = Agent::spawn(AgentOptions::new(
        url,
        TOKEN,
        secret,
        Hello::new("t/1", "bare"),
    ));
    agent
        .send_event(JsonObject::from_text(r#"{"task_id":"t"}"#).unwrap())
        .await
        .unwrap();
    let report = agent.shutdown(Duration::from_secs(10)).await.unwrap();
    assert_eq!(report.unacked_events, 0);
    tokio::time::sleep(Duration::from_millis(100)).await;

    let fields = capture.0.fields.lock().unwrap().clone();
    let value = |name: &str| -> Vec<String> {
        fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    // Both sides' spans: the brain's from accept, the agent's from its hello_ack.
    assert!(
        value("agent_id").iter().filter(|v| *v == "agent-7").count() >= 2,
        "{fields:?}"
    );
    assert!(value("project_id").iter().any(|v| v == "project-7"));
    assert!(!value("session_id").is_empty());
    assert!(
        fields.iter().all(|(_, v)| !v.contains(TOKEN)),
        "the token was logged: {fields:?}"
    );
}
