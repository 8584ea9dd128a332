//! Channel ids, every message and event, the hub and the client's subscriptions.

use brainwire_channel::*;
use brainwire_close::NamesCloseCode;
use brainwire_core::{JsonObject, JsonValue, Limits};
use proptest::prelude::*;

fn limits() -> Limits {
    Limits::default()
}

#[test]
fn channel_ids_refuse_what_the_rules_refuse() {
    for good in [
        "agent:my-coder-agent",
        "swarm:0b6f4c1e-5d0a",
        "project:p.1",
        "org:acme_corp",
        "task:T-1",
    ] {
        assert_eq!(good.parse::<ChannelId>().unwrap().to_string(), good);
    }
    let bad: &[(&str, &str)] = &[
        ("agent", "missing_colon"),
        ("planet:earth", "unknown_kind"),
        ("Agent:x", "unknown_kind"),
        ("agent:", "empty_id"),
        ("agent:a b", "invalid_character"),
        ("agent:a:b", "invalid_character"),
        ("agent:é", "invalid_character"),
    ];
    for (text, kind) in bad {
        assert_eq!(
            text.parse::<ChannelId>().unwrap_err().kind(),
            *kind,
            "{text}"
        );
    }
    let long = format!("task:{}", "x".repeat(129));
    assert_eq!(
        long.parse::<ChannelId>().unwrap_err(),
        ChannelIdError::TooLong { len: 129 }
    );
}

#[test]
fn the_documents_subscribe_exchange() {
    let ask = decode_client_with(
        br#"{ "type": "subscribe", "channelId": "agent:my-coder-agent" }"#,
        &limits(),
    )
    .unwrap();
    assert_eq!(
        ask,
        ClientMessage::Subscribe("agent:my-coder-agent".parse().unwrap())
    );
    let reply = encode_server(&ServerMessage::Subscribed(
        "agent:my-coder-agent".parse().unwrap(),
    ));
    assert_eq!(
        &reply[..],
        br#"{"type":"subscribed","channelId":"agent:my-coder-agent"}"#
    );
    let err =
        decode_client_with(br#"{"type":"subscribe","channelId":"mars:x"}"#, &limits()).unwrap_err();
    assert_eq!(err.kind(), "unknown_kind");
    assert_eq!(
        decode_client_with(br#"{"type":"publish"}"#, &limits())
            .unwrap_err()
            .kind(),
        "unknown_type"
    );
    assert_eq!(
        decode_client_with(br#"{"type":"subscribe"}"#, &limits())
            .unwrap_err()
            .kind(),
        "invalid_message"
    );
}

#[test]
fn unknown_events_are_kept() {
    let wire = br#"{"type":"deploy.finished","payload":{"deployId":"d","big":123456789012345678901234567890}}"#;
    let ServerMessage::Event(event) = decode_server_with(wire, &limits()).unwrap() else {
        panic!()
    };
    assert_eq!(
        event,
        Event::Other {
            event_type: "deploy.finished".into(),
            payload: JsonObject::from_text(
                r#"{"deployId":"d","big":123456789012345678901234567890}"#
            )
            .unwrap(),
        }
    );
    assert_eq!(&encode_event(&event)[..], &wire[..]);
    assert_eq!(Event::CATALOGUE.len(), 16);
}

fn s() -> impl Strategy<Value = String> {
    "\\PC{0,12}"
}

fn j() -> impl Strategy<Value = JsonValue> {
    prop::sample::select(vec![
        "1738805400000",
        "\"2026-02-06T01:30:00Z\"",
        "{\"a\":[1,2]}",
        "null",
        "12.5",
    ])
    .prop_map(|t| JsonValue::from_text(t).unwrap())
}

fn n() -> impl Strategy<Value = serde_json::Number> {
    prop_oneof![
        any::<u32>().prop_map(serde_json::Number::from),
        (0.0..1e6f64).prop_map(|f| serde_json::Number::from_f64(f).unwrap())
    ]
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (s(), s(), s(), j()).prop_map(|(a, b, c, t)| Event::AgentSpawned(AgentSpawned {
            agent_id: a,
            agent_name: b,
            task_id: c,
            timestamp: t
        })),
        (s(), s(), s(), j(), n(), j()).prop_map(|(a, b, c, r, d, t)| Event::AgentCompleted(
            AgentCompleted {
                agent_id: a,
                agent_name: b,
                task_id: c,
                result: r,
                duration: d,
                timestamp: t
            }
        )),
        (s(), s(), s(), j(), j()).prop_map(|(a, b, c, e, t)| Event::AgentFailed(AgentFailed {
            agent_id: a,
            agent_name: b,
            task_id: c,
            error: e,
            timestamp: t
        })),
        (s(), s(), s(), s(), j()).prop_map(|(a, b, c, m, t)| Event::AgentStatus(AgentStatus {
            agent_id: a,
            agent_name: b,
            status: c,
            message: m,
            timestamp: t
        })),
        (s(), s(), s(), j()).prop_map(|(a, b, c, t)| Event::TaskCreated(TaskCreated {
            task_id: a,
            title: b,
            project_id: c,
            timestamp: t
        })),
        (s(), s(), s(), j()).prop_map(|(a, b, c, t)| Event::TaskStatusChanged(TaskStatusChanged {
            task_id: a,
            old_status: b,
            new_status: c,
            timestamp: t
        })),
        (s(), j(), j()).prop_map(|(a, c, t)| Event::TaskUpdated(TaskUpdated {
            task_id: a,
            changes: c,
            timestamp: t
        })),
        (s(), j()).prop_map(|(a, t)| Event::TaskDeleted(TaskDeleted {
            task_id: a,
            timestamp: t
        })),
        (s(), j(), j()).prop_map(|(a, c, t)| Event::ChiefPlanCreated(ChiefPlanCreated {
            plan_id: a,
            tasks: c,
            timestamp: t
        })),
        (s(), s(), j()).prop_map(|(a, b, t)| Event::ChiefTaskAssigned(ChiefTaskAssigned {
            task_id: a,
            agent_name: b,
            timestamp: t
        })),
        (s(), n(), s(), j()).prop_map(|(a, p, m, t)| Event::ChiefTaskProgress(ChiefTaskProgress {
            task_id: a,
            progress: p,
            message: m,
            timestamp: t
        })),
        (s(), s(), j()).prop_map(|(a, b, t)| Event::SwarmPhaseStarted(SwarmPhaseStarted {
            swarm_id: a,
            phase: b,
            timestamp: t
        })),
        (s(), s(), j(), j()).prop_map(|(a, b, r, t)| Event::SwarmPhaseCompleted(
            SwarmPhaseCompleted {
                swarm_id: a,
                phase: b,
                results: r,
                timestamp: t
            }
        )),
        (s(), s(), j()).prop_map(|(a, b, t)| Event::GatePassed(GatePassed {
            task_id: a,
            gate: b,
            timestamp: t
        })),
        (s(), s(), s(), j()).prop_map(|(a, b, r, t)| Event::GateFailed(GateFailed {
            task_id: a,
            gate: b,
            reason: r,
            timestamp: t
        })),
        (s(), s(), s(), j()).prop_map(|(a, b, c, t)| Event::ChatMessage(ChatMessage {
            message_id: a,
            agent_id: b,
            content: c,
            timestamp: t
        })),
        (
            "[a-z]{1,8}\\.[a-z]{1,8}",
            prop::sample::select(vec!["{}", "{\"x\":1}"])
        )
            .prop_filter_map("not in the catalogue", |(t, p)| {
                (!Event::CATALOGUE.contains(&t.as_str())).then(|| Event::Other {
                    event_type: t,
                    payload: JsonObject::from_text(p).unwrap(),
                })
            }),
    ]
}

fn channel() -> impl Strategy<Value = ChannelId> {
    (
        prop::sample::select(vec!["agent", "swarm", "project", "org", "task"]),
        "[A-Za-z0-9._-]{1,128}",
    )
        .prop_map(|(k, id)| format!("{k}:{id}").parse().unwrap())
}

proptest! {
    #[test]
    fn channel_ids_round_trip(id in channel()) {
        prop_assert_eq!(id.to_string().parse::<ChannelId>().unwrap(), id);
    }

    #[test]
    fn events_round_trip(event in event()) {
        let ServerMessage::Event(again) = decode_server_with(&encode_event(&event), &limits()).unwrap() else { panic!() };
        prop_assert_eq!(again, event);
    }

    #[test]
    fn messages_round_trip(c in channel(), code in "[a-z_]{1,12}", text in s(), with_channel in any::<bool>()) {
        for message in [ClientMessage::Subscribe(c.clone()), ClientMessage::Unsubscribe(c.clone())] {
            prop_assert_eq!(decode_client_with(&encode_client(&message), &limits()).unwrap(), message);
        }
        let error = ErrorReply::new(code, text, with_channel.then(|| c.clone()));
        for message in [ServerMessage::Subscribed(c.clone()), ServerMessage::Unsubscribed(c.clone()), ServerMessage::Error(error)] {
            prop_assert_eq!(decode_server_with(&encode_server(&message), &limits()).unwrap(), message);
        }
    }
}

/// Users may watch their own org only; everything else is open.
struct OwnOrg;

impl SubscriptionPolicy for OwnOrg {
    fn may_subscribe(&self, user_id: &str, channel: &ChannelId) -> bool {
        channel.kind() != ChannelKind::Org || channel.id() == user_id
    }
}

fn subscribe(hub: &mut ChannelHub<u32>, connection: u32, channel: &str) -> String {
    let wire = format!(r#"{{"type":"subscribe","channelId":"{channel}"}}"#);
    let reply = hub.handle_message(&connection, wire.as_bytes());
    // The typed reply and the bytes sent say the same.
    assert_eq!(encode_server(&reply.message), reply.bytes);
    String::from_utf8(reply.bytes.to_vec()).unwrap()
}

#[test]
fn hub_authorizes_limits_unsubscribes_and_forgets_on_leave() {
    let mut hub = ChannelHub::new(OwnOrg, 2);
    hub.join(1, "acme").unwrap();
    hub.join(2, "globex").unwrap();
    assert_eq!(hub.join(1, "x"), Err(JoinError::AlreadyJoined));
    assert_eq!(JoinError::AlreadyJoined.close_code().code(), 1011);
    assert_eq!(JoinError::Full { connections: 1 }.close_code().code(), 1013);
    assert_eq!(
        subscribe(&mut hub, 1, "org:acme"),
        r#"{"type":"subscribed","channelId":"org:acme"}"#
    );
    assert!(subscribe(&mut hub, 2, "org:acme").starts_with(r#"{"type":"error","code":"forbidden""#));
    assert_eq!(
        subscribe(&mut hub, 1, "task:t1"),
        r#"{"type":"subscribed","channelId":"task:t1"}"#
    );
    // Subscribing again is idempotent and costs nothing.
    assert_eq!(
        subscribe(&mut hub, 1, "task:t1"),
        r#"{"type":"subscribed","channelId":"task:t1"}"#
    );
    assert!(subscribe(&mut hub, 1, "task:t2")
        .starts_with(r#"{"type":"error","code":"too_many_subscriptions""#));
    assert!(subscribe(&mut hub, 3, "task:t2").contains("unknown_connection"));
    assert!(subscribe(&mut hub, 1, "moon:x").starts_with(r#"{"type":"error","code":"bad_request""#));

    let unsubscribe = br#"{"type":"unsubscribe","channelId":"task:t1"}"#;
    let reply = hub.handle_message(&1, unsubscribe);
    assert_eq!(
        reply.message,
        ServerMessage::Unsubscribed("task:t1".parse().unwrap())
    );
    assert_eq!(
        &reply.bytes[..],
        br#"{"type":"unsubscribed","channelId":"task:t1"}"#
    );
    let reply = hub.handle_message(&1, unsubscribe);
    assert!(matches!(&reply.message, ServerMessage::Error(e) if e.code == "not_subscribed"));
    assert_eq!(hub.subscribers(&"task:t1".parse().unwrap()), 0);

    subscribe(&mut hub, 2, "task:t1");
    assert_eq!(hub.leave(&1), 1);
    assert_eq!(hub.subscribers(&"org:acme".parse().unwrap()), 0);
    assert_eq!(hub.leave(&1), 0);
    assert_eq!(hub.subscriptions(&2).count(), 1);
}

#[test]
fn publish_serializes_once_for_every_subscriber() {
    let mut hub = ChannelHub::new(OwnOrg, 8);
    for connection in 0..1000 {
        hub.join(connection, "u").unwrap();
        subscribe(&mut hub, connection, "swarm:s1");
    }
    hub.join(5000, "u").unwrap();
    subscribe(&mut hub, 5000, "swarm:other");
    let event = Event::SwarmPhaseStarted(SwarmPhaseStarted {
        swarm_id: "s1".into(),
        phase: "build".into(),
        timestamp: 1_u64.into(),
    });
    let before = hub.encodings();
    let fanout = hub.publish(&event, &"swarm:s1".parse().unwrap());
    assert_eq!(hub.encodings() - before, 1);
    assert_eq!(fanout.recipients.len(), 1000);
    assert!(!fanout.recipients.contains(&5000));
    assert_eq!(&fanout.bytes[..], br#"{"type":"swarm.phase.started","payload":{"swarmId":"s1","phase":"build","timestamp":1}}"#);
    assert!(hub
        .publish(&event, &"task:nobody".parse().unwrap())
        .recipients
        .is_empty());
}

#[test]
fn an_event_encoded_on_one_hub_reaches_the_subscribers_of_another_unchanged() {
    // Two nodes of one brain: node A encodes once and puts the bytes on its bus; node B
    // hands those bytes to its own subscribers without encoding anything.
    let mut node_a: ChannelHub<u64> = ChannelHub::new(OwnOrg, 8);
    let mut node_b = ChannelHub::new(OwnOrg, 8);
    node_b.join(7, "u").unwrap();
    subscribe(&mut node_b, 7, "swarm:s1");
    node_b.join(8, "u").unwrap();
    subscribe(&mut node_b, 8, "swarm:s2");
    let channels: Vec<String> = node_b.channels().map(ToString::to_string).collect();
    let mut channels = channels;
    channels.sort();
    assert_eq!(channels, ["swarm:s1", "swarm:s2"]);
    assert_eq!(
        node_a.channels().count(),
        0,
        "node A's bus subscriptions: none"
    );
    let event = Event::SwarmPhaseStarted(SwarmPhaseStarted {
        swarm_id: "s1".into(),
        phase: "build".into(),
        timestamp: 1_u64.into(),
    });
    let on_the_bus = node_a.encode(&event);
    let before = node_b.encodings();
    let fanout = node_b.fanout(&"swarm:s1".parse().unwrap(), on_the_bus.clone());
    assert_eq!(node_b.encodings(), before, "node B encoded nothing");
    assert_eq!(fanout.recipients, [7]);
    assert_eq!(fanout.bytes, on_the_bus);
    assert_eq!(
        fanout.bytes.as_ptr(),
        on_the_bus.as_ptr(),
        "the same buffer, not a copy"
    );
    // The same bytes as a local publish would have made.
    assert_eq!(
        node_b.publish(&event, &"swarm:s1".parse().unwrap()).bytes,
        on_the_bus
    );
    node_b.leave(&8);
    assert_eq!(
        node_b
            .channels()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["swarm:s1"]
    );
}

#[test]
fn subscriptions_replay_after_reconnect_and_drop_refused_channels() {
    let mut subs = Subscriptions::default();
    let a: ChannelId = "agent:a".parse().unwrap();
    let b: ChannelId = "org:b".parse().unwrap();
    assert!(subs.subscribe(a.clone()).is_some());
    assert!(subs.subscribe(a.clone()).is_none());
    assert!(subs.subscribe(b.clone()).is_some());
    subs.handle_message(&ServerMessage::Subscribed(a.clone()));
    subs.handle_message(&ServerMessage::Error(ErrorReply::new(
        "forbidden",
        "no",
        Some(b.clone()),
    )));
    let replay = subs.resubscribe();
    assert_eq!(replay.len(), 1);
    assert_eq!(
        &replay[0][..],
        br#"{"type":"subscribe","channelId":"agent:a"}"#
    );
    assert!(!subs.is_confirmed(&a));
    assert_eq!(
        &subs.unsubscribe(&a).unwrap()[..],
        br#"{"type":"unsubscribe","channelId":"agent:a"}"#
    );
    assert!(subs.resubscribe().is_empty());
}
