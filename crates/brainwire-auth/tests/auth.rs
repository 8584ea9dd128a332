//! Messages from the document's tables, round trips, and both handshakes on a fake clock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use brainwire_auth::*;
use brainwire_close::NamesCloseCode;
use bytes::Bytes;
use proptest::prelude::*;

#[test]
fn required_fields_and_rules_from_the_tables() {
    let cases: &[(&str, &str)] = &[
        (r#"{"type":"heartbeat"}"#, "invalid_message"),
        (r#"{"type":"heartbeat","timestamp":-1}"#, "invalid_message"),
        (
            r#"{"type":"heartbeat","timestamp":"now"}"#,
            "invalid_message",
        ),
        (r#"{"type":"ack"}"#, "invalid_message"),
        (r#"{"type":"nack","messageId":"m"}"#, "invalid_message"),
        (r#"{"type":"error","code":"c"}"#, "invalid_message"),
        (
            r#"{"type":"auth.request","protocolVersion":1}"#,
            "invalid_message",
        ),
        (
            r#"{"type":"auth.request","token":"","protocolVersion":1}"#,
            "empty_token",
        ),
        (
            r#"{"type":"auth.request","token":"k","protocolVersion":0}"#,
            "invalid_protocol_version",
        ),
        (
            r#"{"type":"auth.request","token":"k","protocolVersion":-1}"#,
            "invalid_message",
        ),
        (
            r#"{"type":"auth.request","token":"k","protocolVersion":1.5}"#,
            "invalid_message",
        ),
        (
            r#"{"type":"auth.request","token":"k","protocolVersion":"1"}"#,
            "invalid_message",
        ),
        (
            r#"{"type":"auth.request","token":"k","protocolVersion":1,"capabilities":{"orchRole":7}}"#,
            "invalid_message",
        ),
        (
            r#"{"type":"auth.request","token":"k","protocolVersion":1,"capabilities":{"dashboardWrites":{"x":"no"}}}"#,
            "invalid_message",
        ),
        // As zod reads document 002: `.optional()` is not nullable, `orchRole` is one of
        // two, an integer is an integer however it is spelled but never 1.5.
        (
            r#"{"type":"auth.request","token":"k","protocolVersion":1,"capabilities":null}"#,
            "invalid_message",
        ),
        (
            r#"{"type":"auth.request","token":"k","protocolVersion":1,"capabilities":{"orchRole":"observer"}}"#,
            "invalid_message",
        ),
        (
            r#"{"type":"auth.request","token":"k","protocolVersion":1,"capabilities":{"orchRole":null}}"#,
            "invalid_message",
        ),
        (
            r#"{"type":"auth.success","connectionId":"c","orgPublicAlias":null}"#,
            "invalid_message",
        ),
        (
            r#"{"type":"auth.request","token":"k","protocolVersion":0.0}"#,
            "invalid_protocol_version",
        ),
        (r#"{"type":"heartbeat","timestamp":1.5}"#, "invalid_message"),
        (r#"{"type":"auth.success"}"#, "invalid_message"),
        (r#"{"type":"auth.failure"}"#, "invalid_message"),
        (r#"{"type":"auth.refresh"}"#, "unknown_type"),
        (r#"{"messageId":"m"}"#, "missing_type"),
        ("[]", "not_object"),
        ("{", "malformed_json"),
    ];
    for (wire, kind) in cases {
        let err = decode(wire.as_bytes()).unwrap_err();
        assert_eq!(err.kind(), *kind, "{wire}");
        assert_eq!(err.close_code().code(), 1002, "{wire}");
    }
    let long = format!(r#"{{"type":"ack","messageId":"{}"}}"#, "m".repeat(257));
    assert_eq!(decode(long.as_bytes()).unwrap_err().kind(), "too_long");
    let huge = format!(
        r#"{{"type":"error","code":"c","message":"{}"}}"#,
        "x".repeat(2 << 20)
    );
    assert_eq!(
        decode(huge.as_bytes()).unwrap_err().close_code().code(),
        1009
    );
}

#[test]
fn optional_fields_are_optional() {
    let Message::AuthRequest(r) =
        decode(br#"{"type":"auth.request","token":"k","protocolVersion":1}"#).unwrap()
    else {
        panic!()
    };
    assert_eq!((r.protocol_version, r.capabilities), (1, None));
    let Message::AuthSuccess(s) = decode(
        br#"{"type":"auth.success","connectionId":"c","orgPublicAlias":"oal_abcdefabcdef"}"#,
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(s.org_public_alias.as_deref(), Some("oal_abcdefabcdef"));
    let caps = OrchCapabilities::default();
    assert!(caps.dashboard_write_allowed("anything"));
}

#[test]
fn integers_are_read_as_zod_reads_them() {
    for spelling in ["1", "1.0", "1e0", "0.1e1"] {
        let wire = format!(r#"{{"type":"auth.request","token":"k","protocolVersion":{spelling}}}"#);
        let Message::AuthRequest(r) = decode(wire.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(r.protocol_version, 1, "{spelling}");
    }
    let Message::Heartbeat(h) = decode(br#"{"type":"heartbeat","timestamp":1.7e12}"#).unwrap()
    else {
        panic!()
    };
    assert_eq!(h.timestamp, 1_700_000_000_000);
    // Encoding writes integers as integers.
    assert_eq!(
        &encode(&Message::Heartbeat(h))[..],
        br#"{"type":"heartbeat","timestamp":1700000000000}"#
    );
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,24}"
}

fn message() -> impl Strategy<Value = Message> {
    let caps = (
        prop::option::of(prop::sample::select(vec![
            OrchRole::Coordinator,
            OrchRole::Worker,
        ])),
        prop::option::of(prop::collection::btree_map(
            "[a-zA-Z]{1,8}",
            any::<bool>(),
            0..4,
        )),
        prop::collection::btree_map(
            "x[a-zA-Z]{1,8}",
            prop::sample::select(vec![
                "true",
                "1",
                "[1,{\"a\":null}]",
                "\"on\"",
                "123456789012345678901234567890",
            ]),
            0..3,
        ),
    )
        .prop_map(|(role, writes, extra)| {
            let mut caps = OrchCapabilities::default();
            caps.orch_role = role;
            caps.dashboard_writes = writes;
            caps.extra = extra
                .into_iter()
                .map(|(k, v)| (k, brainwire_core::JsonValue::from_text(v).unwrap()))
                .collect();
            caps
        });
    prop_oneof![
        any::<u64>().prop_map(|t| Message::Heartbeat(Heartbeat::new(t))),
        text().prop_map(|m| Message::Ack(Ack::new(m))),
        (text(), text()).prop_map(|(m, r)| Message::Nack(Nack::new(m, r))),
        (text(), text()).prop_map(|(c, m)| Message::Error(ErrorMessage::new(c, m))),
        ("\\PC{1,24}", 1..=u32::MAX, prop::option::of(caps)).prop_map(|(t, v, caps)| {
            let mut r = AuthRequest::new(Token::new(t).unwrap(), v);
            r.capabilities = caps;
            Message::AuthRequest(r)
        }),
        (text(), prop::option::of(text())).prop_map(|(c, a)| {
            let mut s = AuthSuccess::new(c);
            s.org_public_alias = a;
            Message::AuthSuccess(s)
        }),
        text().prop_map(|r| Message::AuthFailure(AuthFailure::new(r))),
    ]
}

proptest! {
    #[test]
    fn every_message_round_trips(message in message()) {
        prop_assert_eq!(decode(&encode(&message)).unwrap(), message);
    }
}

struct Keys;

impl TokenVerifier for Keys {
    fn verify(&self, request: &AuthRequest) -> Result<Grant, String> {
        if request.token.expose() == "good" {
            let mut grant = Grant::default();
            grant.org_public_alias = Some("oal_000000000001".into());
            Ok(grant)
        } else {
            Err("unknown API key".into())
        }
    }
}

fn server(now: Instant) -> Server {
    let mut n = 0;
    Server::accept(
        now,
        Arc::new(Keys),
        Box::new(move || {
            n += 1;
            format!("conn-{n}")
        }),
        SessionConfig::default(),
    )
}

fn client(now: Instant, token: &str) -> Client {
    Client::new(
        now,
        AuthRequest::new(Token::new(token).unwrap(), 1),
        SessionConfig::default(),
    )
}

/// Moves every queued message both ways.
fn pump(now: Instant, client: &mut Client, server: &mut Server) {
    loop {
        let mut moved = false;
        while let Some(m) = client.poll_transmit() {
            moved = true;
            server.handle_message(now, &m);
        }
        while let Some(m) = server.poll_transmit() {
            moved = true;
            client.handle_message(now, &m);
        }
        if !moved {
            return;
        }
    }
}

fn events(drain: impl FnMut() -> Option<Event>) -> Vec<Event> {
    std::iter::from_fn(drain).collect()
}

#[test]
fn handshake_success_gives_both_sides_the_connection_id() {
    let now = Instant::now();
    let (mut c, mut s) = (client(now, "good"), server(now));
    pump(now, &mut c, &mut s);
    assert!(c.is_authenticated() && s.is_authenticated());
    assert_eq!(
        events(|| c.poll_event()),
        [Event::Authenticated {
            connection_id: "conn-1".into(),
            org_public_alias: Some("oal_000000000001".into())
        }]
    );
    assert!(
        matches!(&events(|| s.poll_event())[..], [Event::Accepted { connection_id, .. }] if connection_id == "conn-1")
    );
}

#[test]
fn handshake_failure_sends_the_reason_then_closes_with_1008() {
    let now = Instant::now();
    let (mut c, mut s) = (client(now, "stolen"), server(now));
    s.handle_message(now, &c.poll_transmit().unwrap());
    let failure = s.poll_transmit().unwrap();
    assert_eq!(
        &failure[..],
        br#"{"type":"auth.failure","reason":"unknown API key"}"#
    );
    let closing = s.poll_close().unwrap();
    assert!(matches!(&closing.error, SessionError::AuthFailed { .. }));
    assert_eq!(closing.frame.code(), 1008);
    assert!(s.poll_close().is_none(), "a fatal error surfaces once");
    c.handle_message(now, &failure);
    let err = c.poll_close().unwrap().error;
    assert!(matches!(&err, SessionError::AuthFailed { reason } if reason == "unknown API key"));
    assert_eq!(err.close_code().code(), 1008);
}

#[test]
fn handshake_timeouts_close_both_sides() {
    let now = Instant::now();
    let mut s = server(now);
    let late = now + Duration::from_secs(10);
    assert_eq!(s.poll_timeout(), Some(late));
    s.handle_timeout(late);
    assert_eq!(s.poll_close().unwrap().frame.code(), 1008);
    let mut c = client(now, "good");
    c.handle_timeout(late);
    assert_eq!(c.poll_close().unwrap().frame.code(), 1008);
}

#[test]
fn out_of_order_messages_are_protocol_errors() {
    let now = Instant::now();
    let heartbeat = encode(&Message::Heartbeat(Heartbeat::new(1)));
    let mut s = server(now);
    s.handle_message(now, &heartbeat);
    let closing = s.poll_close().unwrap();
    assert!(matches!(closing.error, SessionError::Unexpected { .. }));
    assert_eq!(closing.frame.code(), 1002);

    let mut c = client(now, "good");
    c.handle_message(now, br#"{"type":"webhook.relay","id":"w"}"#);
    let closing = c.poll_close().unwrap();
    // Before authentication only this family's messages decode at all.
    assert!(matches!(&closing.error, SessionError::Decode(e) if e.kind() == "unknown_type"));
    assert_eq!(closing.frame.code(), 1002);

    let (mut c, mut s) = (client(now, "good"), server(now));
    pump(now, &mut c, &mut s);
    let again = encode(&Message::AuthRequest(AuthRequest::new(
        Token::new("good").unwrap(),
        1,
    )));
    s.handle_message(now, &again);
    let closing = s.poll_close().unwrap();
    assert!(matches!(closing.error, SessionError::Unexpected { .. }));
    assert_eq!(closing.frame.code(), 1002);
}

#[test]
fn heartbeats_flow_every_30s_and_silence_closes_with_1001() {
    let start = Instant::now();
    let (mut c, mut s) = (client(start, "good"), server(start));
    pump(start, &mut c, &mut s);
    let _ = (events(|| c.poll_event()), events(|| s.poll_event()));
    for minute in 1..=4u32 {
        let now = start + Duration::from_secs(30 * u64::from(minute));
        c.handle_timeout(now);
        s.handle_timeout(now);
        pump(now, &mut c, &mut s);
    }
    let beats = events(|| s.poll_event())
        .into_iter()
        .filter(|e| matches!(e, Event::Heartbeat(_)))
        .count();
    assert_eq!(beats, 4);
    assert!(s.is_authenticated());

    // The client goes silent: after three intervals without a word, the server closes.
    let last = start + Duration::from_secs(120);
    assert_eq!(s.poll_timeout(), Some(start + Duration::from_secs(150)));
    s.handle_timeout(last + Duration::from_secs(89));
    assert!(s.is_authenticated());
    s.handle_timeout(last + Duration::from_secs(90));
    let closing = s.poll_close().unwrap();
    assert!(matches!(
        closing.error,
        SessionError::PeerSilent { missed: 3 }
    ));
    assert_eq!(closing.frame.code(), 1001);
    assert!(!s.is_authenticated());
}

#[test]
fn tracked_messages_are_acked_nacked_or_reported() {
    let now = Instant::now();
    let (mut c, mut s) = (client(now, "good"), server(now));
    pump(now, &mut c, &mut s);
    let _ = (events(|| c.poll_event()), events(|| s.poll_event()));
    for id in ["m1", "m2", "m3"] {
        c.send(
            now,
            Some(id),
            Bytes::from(format!(r#"{{"type":"job.dispatch","messageId":"{id}"}}"#)),
        )
        .unwrap();
    }
    assert_eq!(
        c.send(now, Some("m1"), Bytes::from_static(b"{}")),
        Err(SendError::DuplicateId {
            message_id: "m1".into()
        })
    );
    pump(now, &mut c, &mut s);
    let received = events(|| s.poll_event());
    assert!(received.iter().all(
        |e| matches!(e, Event::Message { message_type, .. } if message_type == "job.dispatch")
    ));
    assert_eq!(received.len(), 3);
    s.ack("m1").unwrap();
    s.nack("m2", "queue full").unwrap();
    pump(now, &mut c, &mut s);
    assert_eq!(
        events(|| c.poll_event()),
        [
            Event::Acked {
                message_id: "m1".into()
            },
            Event::Nacked {
                message_id: "m2".into(),
                reason: "queue full".into()
            },
        ]
    );
    c.handle_timeout(now + Duration::from_secs(30));
    assert!(events(|| c.poll_event()).contains(&Event::Unanswered {
        message_id: "m3".into()
    }));
    // An ack for a message no longer tracked is dropped, not trusted.
    s.ack("m3").unwrap();
    pump(now + Duration::from_secs(31), &mut c, &mut s);
    assert!(events(|| c.poll_event()).is_empty());
}

#[test]
fn nothing_is_sent_before_authentication() {
    let now = Instant::now();
    let mut c = client(now, "good");
    assert_eq!(
        c.send(now, None, Bytes::from_static(b"{}")),
        Err(SendError::NotAuthenticated)
    );
    assert_eq!(c.ack("x"), Err(SendError::NotAuthenticated));
}
