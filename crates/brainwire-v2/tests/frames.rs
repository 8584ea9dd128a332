//! Every v2 frame type through sign, verify, encode and decode; caps and strictness.

use brainwire_close::NamesCloseCode;
use brainwire_core::{JsonObject, ShapeError, Timestamp};
use brainwire_sign::{FrameSigner, Secret, SessionBinding};
use brainwire_v2::*;
use proptest::prelude::*;

const NOW_MICROS: i64 = 1_800_000_000_123_456;

fn now() -> Timestamp {
    Timestamp::from_unix_micros(NOW_MICROS).unwrap()
}

fn binding() -> SessionBinding {
    SessionBinding::new("4f9c2d1e-agent", "7a1b-project", "sess-1")
}

fn secret() -> Secret {
    Secret::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap()
}

/// Nonces 0x01.., 0x02.., ...: distinct and predictable.
struct CountingNonces(u8);

impl brainwire_sign::NonceSource for CountingNonces {
    fn fill(&mut self, bytes: &mut [u8; 16]) {
        self.0 += 1;
        *bytes = [self.0; 16];
    }
}

fn signer() -> FrameSigner<fn() -> Timestamp, CountingNonces> {
    FrameSigner::with_sources(
        secret(),
        binding(),
        now as fn() -> Timestamp,
        CountingNonces(0),
    )
}

fn obj(text: &str) -> JsonObject {
    JsonObject::from_text(text).unwrap()
}

/// One payload of every signed type, with non-default values in every field kind.
fn signed_payloads() -> Vec<Payload> {
    let mut hb = Heartbeat::default();
    hb.buffer_size = 12;
    hb.last_flush_at = Some(now());
    hb.adapter_health.insert("celery".into(), "ok".into());
    let mut loss = TelemetryLoss::new("buf-1", "rt-1");
    loss.event_records = (1 << 53) - 1;
    loss.adapter_events.insert("celery".into(), 3);
    hb.telemetry_loss = Some(loss.clone());

    let mut status = AgentStatus::default();
    status.telemetry_loss = Some(loss);
    status.current_session_age_seconds = Some(12.5);
    status.buffer_oldest_age_seconds = Some(1e-7);
    status.agent_version = "1.13.0".into();
    status.protocol_version = "2".into();
    status.engines = vec!["celery".into()];

    let mut command = Command::new("cancel_task", obj(r#"{"task_id":"t-1"}"#));
    command.parameters = obj(r#"{"reason":"user","big":123456789012345678901234567890}"#);
    command.issued_by = Some("user-1".into());
    command.delivery_claim_token = Some("claim-1".into());

    let mut result = CommandResult::success(Some(obj(r#"{"cancelled":true,"ratio":0.1}"#)));
    result.delivery_claim_token = Some("claim-1".into());

    let mut delta = RegistryDelta::new("celery");
    delta.added = vec![obj(r#"{"name":"app.tasks.add"}"#)];
    delta.removed = vec!["app.tasks.old".into()];

    vec![
        Payload::EventBatch(EventBatch::new(vec![
            obj(r#"{"task_id":"t-1","ts":1746428308.9996243,"args":[1,-0,1e16]}"#),
            obj(r#"{"name":"é\u2028😀","kwargs":{}}"#),
        ])),
        Payload::EventBatchAck(EventBatchAck::new("batch-1", 2, 1, 1)),
        Payload::Heartbeat(hb),
        Payload::Command(command),
        Payload::CommandAck(CommandAck::new(Some("claim-1".into()))),
        Payload::CommandResult(result),
        Payload::CommandResult(CommandResult::failed("boom")),
        Payload::RegistryDelta(delta),
        Payload::Error(ErrorReport::new("bad_thing", "it broke")),
        Payload::AgentStatus(status),
    ]
}

#[test]
fn every_signed_type_round_trips_through_sign_and_verify() {
    let mut s = signer();
    let mut v = FrameVerifier::new(secret(), binding());
    let payloads = signed_payloads();
    let covered: std::collections::HashSet<_> = payloads.iter().map(Payload::frame_type).collect();
    let signed_types: std::collections::HashSet<_> = FrameType::ALL
        .iter()
        .copied()
        .filter(|t| t.kind() == brainwire_sign::FrameKind::Signed)
        .collect();
    assert_eq!(covered, signed_types, "every signed type is covered");
    for (i, payload) in payloads.into_iter().enumerate() {
        let id = format!("frame-{i}");
        let wire = sign(&mut s, &id, &payload).unwrap();
        let frame = v.verify(&wire, now()).unwrap().frame;
        assert_eq!(frame.payload, payload);
        assert_eq!(frame.id, id);
        assert_eq!(frame.ts, Some(now()));
        assert_eq!(frame.signature.as_ref().map(|s| s.seq), Some(i as u64 + 1));
        // encode writes the reference's field order where sign wrote the payload's
        // canonical form (built from the typed payload, nothing held respelled): the
        // same frame, the same canonical bytes.
        let encoded = encode(&frame);
        assert_eq!(decode(&encoded).unwrap(), frame);
        let limits = brainwire_core::Limits::default();
        assert_eq!(
            brainwire_core::canonicalize(&encoded, &limits),
            brainwire_core::canonicalize(&wire, &limits)
        );
    }
}

/// The keys of `object` as written, each after the last in canonical key order.
fn keys_in_canonical_order(object: brainwire_core::Node<'_>) -> bool {
    let keys: Vec<&str> = object.members_in_wire_order().map(|(key, _)| key).collect();
    keys.windows(2).all(|pair| pair[0] < pair[1])
}

/// Signed payload structs declare their fields in canonical key order, so the canonical
/// writer never reorders a typed payload's members (it did, for a tenth of each sign).
#[test]
fn signed_payloads_declare_their_fields_in_canonical_order() {
    let limits = brainwire_core::Limits::default();
    for payload in signed_payloads() {
        let text = payload.to_json();
        let mut tape = brainwire_core::Tape::new();
        let root = tape.parse(&text, &limits).unwrap().root();
        let frame_type = payload.frame_type();
        assert!(keys_in_canonical_order(root), "{frame_type:?}");
        // The one struct nested in others; held JSON objects keep their own order.
        if let Some(loss) = root.get("telemetry_loss").filter(|n| !n.is_null()) {
            assert!(
                keys_in_canonical_order(loss),
                "{frame_type:?} telemetry_loss"
            );
        }
    }
}

#[test]
fn every_frame_type_is_named_once_on_the_wire() {
    let names: std::collections::HashSet<_> = FrameType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(names.len(), FrameType::ALL.len(), "wire names are distinct");
    for &frame_type in FrameType::ALL {
        assert_eq!(FrameType::from_wire(frame_type.as_str()), Some(frame_type));
        // Only the handshake pair travels unsigned.
        let unsigned = matches!(frame_type, FrameType::Hello | FrameType::HelloAck);
        assert_eq!(
            frame_type.kind() == brainwire_sign::FrameKind::Unsigned,
            unsigned
        );
    }
    assert_eq!(FrameType::from_wire("Hello"), None);
}

#[test]
fn handshake_frames_round_trip_unsigned() {
    let mut hello = Hello::new("1.13.0", "bare");
    hello.engines = vec!["celery".into()];
    hello
        .capabilities
        .insert("celery".into(), vec!["retry_by_reference_v1".into()]);
    hello.host = obj(r#"{"hostname":"h","pid":42}"#);
    hello.worker_pid = Some(42);
    let ack = HelloAck::new("1.13.0", "a", "p", "s");
    for payload in [Payload::Hello(hello), Payload::HelloAck(ack)] {
        let frame = Frame::new("h-1", payload);
        let wire = encode(&frame);
        assert_eq!(decode(&wire).unwrap(), frame);
        let mut v = FrameVerifier::new(secret(), binding());
        let verified = v.verify(&wire, now()).unwrap();
        assert_eq!(verified.key, None);
        assert_eq!(verified.frame, frame);
        assert!(matches!(
            sign(&mut signer(), "x", &frame.payload),
            Err(EncodeError::Unsigned { .. })
        ));
    }
}

#[test]
fn hello_matches_the_reference_wire() {
    // serialize_frame(HelloFrame(id="h", payload=HelloPayload(protocol_version="2",
    // agent_version="1", framework="bare"))) from z4j-core 1.13.0:
    let reference = br#"{"v":2,"id":"h","ts":null,"type":"hello","payload":{"protocol_version":"2","agent_version":"1","framework":"bare","engines":[],"schedulers":[],"capabilities":{},"host":{},"worker_id":null,"worker_role":null,"worker_pid":null,"worker_started_at":null,"runtime_features":[]}}"#;
    let frame = Frame::new("h", Payload::Hello(Hello::new("1", "bare")));
    assert_eq!(&encode(&frame)[..], &reference[..]);
    assert_eq!(decode(reference).unwrap(), frame);
}

#[test]
fn caps_and_strict_types_are_enforced() {
    let cases: Vec<(String, &str)> = vec![
        (format!(r#"{{"v":2,"id":"{}","type":"heartbeat","payload":{{}}}}"#, "x".repeat(65)), "id"),
        (r#"{"v":2,"id":"","type":"heartbeat","payload":{}}"#.into(), "id"),
        (
            format!(r#"{{"v":2,"id":"e","type":"event_batch","payload":{{"events":[{}]}}}}"#, vec!["{}"; 5001].join(",")),
            "payload.events",
        ),
        (r#"{"v":2,"id":"e","type":"heartbeat","payload":{"buffer_size":10000001}}"#.into(), "payload.buffer_size"),
        (r#"{"v":2,"id":"e","type":"command","payload":{"action":"x","timeout_seconds":0}}"#.into(), "payload.timeout_seconds"),
        (format!(r#"{{"v":2,"id":"e","type":"error","payload":{{"code":"{}","message":""}}}}"#, "c".repeat(81)), "payload.code"),
        (r#"{"v":2,"id":"e","type":"hello_ack","payload":{"protocol_version":"2","brain_version":"1","agent_id":"a","project_id":"p","session_id":"s","max_frame_size_bytes":1023}}"#.into(), "payload.max_frame_size_bytes"),
    ];
    for (wire, field) in cases {
        match decode(wire.as_bytes()) {
            Err(DecodeError::Shape(ShapeError::Field { field: f, .. })) => {
                assert_eq!(f, field, "{wire:.80}")
            }
            other => panic!("{wire:.80}: expected a field error, got {other:?}"),
        }
    }
    // Strict JSON types: no float for an int, no string for a bool, closed status set.
    for wire in [
        r#"{"v":2,"id":"e","type":"heartbeat","payload":{"buffer_size":1.0}}"#,
        r#"{"v":2,"id":"e","type":"error","payload":{"code":"c","message":"m","fatal":"yes"}}"#,
        r#"{"v":2,"id":"e","type":"command_result","payload":{"status":"timeout"}}"#,
        r#"{"v":2,"id":"e","type":"event_batch","payload":{"events":[1]}}"#,
        r#"{"v":2,"id":"e","type":"heartbeat"}"#,
        r#"{"v":2,"id":"e","type":"event_batch_ack","payload":{"acked_id":null,"received":1,"accepted":1,"rejected":0}}"#,
    ] {
        let err = decode(wire.as_bytes()).unwrap_err();
        assert!(
            matches!(err, DecodeError::Shape(ShapeError::Schema(_))),
            "{wire}: {err:?}"
        );
        assert_eq!(
            (err.kind(), err.close_code().code()),
            ("invalid_frame", 4400)
        );
    }
}

#[test]
fn envelope_errors_name_kind_and_close_code() {
    let cases = [
        (&b"{"[..], "malformed_json", 4400),
        (b"[]", "not_object", 4400),
        (br#"{"v":2}"#, "missing_type", 4400),
        (br#"{"v":2,"type":"event"}"#, "unknown_type", 4400),
        (br#"{"v":3,"id":"h","type":"hello","payload":{"protocol_version":"2","agent_version":"1","framework":"bare"}}"#, "unsupported_version", 4426),
    ];
    for (wire, kind, code) in cases {
        let err = decode(wire).unwrap_err();
        assert_eq!((err.kind(), err.close_code().code()), (kind, code));
    }
}

#[test]
fn a_payload_is_required_and_null_is_no_payload() {
    // Handshake frames need a payload object; signed ones other than `command_ack` need
    // a payload too, and for them `null` counts as absent.
    let cases: [(&[u8], &str); 4] = [
        (
            br#"{"v":2,"id":"h","type":"hello"}"#,
            "missing field `payload`",
        ),
        (
            br#"{"v":2,"id":"h","type":"hello","payload":null}"#,
            "expected struct Hello",
        ),
        (
            br#"{"v":2,"id":"a","type":"heartbeat","nonce":"n","seq":1,"hmac":"h"}"#,
            "missing field `payload`",
        ),
        (
            br#"{"v":2,"id":"a","type":"heartbeat","nonce":"n","seq":1,"hmac":"h","payload":null}"#,
            "missing field `payload`",
        ),
    ];
    for (wire, cause) in cases {
        let err = decode(wire).unwrap_err();
        assert_eq!(err.kind(), "invalid_frame");
        assert!(format!("{err:?}").contains(cause), "{err:?}");
    }
}

#[test]
fn command_ack_payload_defaults_like_the_reference() {
    let frame =
        decode(br#"{"v":2,"id":"a","type":"command_ack","nonce":"n","seq":1,"hmac":"h"}"#).unwrap();
    assert_eq!(frame.payload, Payload::CommandAck(CommandAck::default()));
}

#[test]
fn deep_event_payloads_within_the_limit_verify() {
    // 254 levels in all, as the reference signer can emit; serde_json alone stops at 128.
    let depth_inside = 254 - 4; // frame, payload, events list, event object
    let deep = format!(
        r#"{{"deep":{}1{}}}"#,
        "[".repeat(depth_inside - 1),
        "]".repeat(depth_inside - 1)
    );
    let payload = Payload::EventBatch(EventBatch::new(vec![obj(&deep)]));
    let wire = sign(&mut signer(), "deep", &payload).unwrap();
    let mut v = FrameVerifier::new(secret(), binding());
    assert_eq!(v.verify(&wire, now()).unwrap().frame.payload, payload);
    let too_deep = format!(r#"{{"deep":{}1{}}}"#, "[".repeat(300), "]".repeat(300));
    let wire = sign(
        &mut signer(),
        "deep",
        &Payload::EventBatch(EventBatch::new(vec![obj(&too_deep)])),
    );
    assert!(
        matches!(wire, Err(EncodeError::Sign(_))),
        "the signer refuses what no verifier takes"
    );
}

#[test]
fn a_tampered_event_is_refused_with_4403() {
    let payload = &signed_payloads()[0];
    let wire = sign(&mut signer(), "b", payload).unwrap();
    let tampered = String::from_utf8(wire.to_vec())
        .unwrap()
        .replace("t-1", "t-2");
    let err = FrameVerifier::new(secret(), binding())
        .verify(tampered.as_bytes(), now())
        .unwrap_err();
    assert!(matches!(err, VerifyError::BadSignature));
    assert_eq!(SessionError::from(err).close_code().code(), 4403);
}

#[test]
fn each_class_of_verify_refusal_names_the_deployed_brains_code() {
    let cases: &[(&str, u16)] = &[
        (r#"{"v":3,"type":"heartbeat"}"#, 4426),
        (r#"{"v":2,"type":"heartbeat","hmac":"00"}"#, 4403),
        (r#"{"v":2,"type":"heartbeat"}"#, 4403),
        (r#"{"v":2,"type":"nope"}"#, 4400),
        (r#"{"type":"hello","payload":{}}"#, 4400),
        ("[]", 4400),
    ];
    for (wire, code) in cases {
        let err = FrameVerifier::new(secret(), binding())
            .verify(wire.as_bytes(), now())
            .unwrap_err();
        assert_eq!(SessionError::from(err).close_code().code(), *code, "{wire}");
    }
}

fn json_object_text() -> impl Strategy<Value = String> {
    prop::collection::btree_map(
        "[a-z_]{1,8}",
        prop_oneof![
            any::<i64>().prop_map(|i| i.to_string()),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| serde_json::to_string(&f).unwrap()),
            any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
            Just("null".to_owned()),
            Just("[1,[2,{}]]".to_owned()),
        ],
        0..6,
    )
    .prop_map(|m| {
        let members: Vec<String> = m.into_iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
        format!("{{{}}}", members.join(","))
    })
}

proptest! {
    #[test]
    fn decode_of_encode_is_identity(
        events in prop::collection::vec(json_object_text(), 0..5),
        id in "[A-Za-z0-9_-]{1,64}",
        nonce in "[A-Za-z0-9_-]{0,32}",
        seq in any::<u64>(),
        received in any::<u64>(),
        code in "\\PC{0,80}",
        message in "\\PC{0,200}",
        fatal in any::<bool>(),
    ) {
        let sig = Some(Signature { nonce, seq, hmac: "ab".repeat(32) });
        let payloads = [
            Payload::EventBatch(EventBatch::new(events.iter().map(|e| obj(e)).collect())),
            Payload::EventBatchAck(EventBatchAck::new(id.clone(), received, 0, received)),
            Payload::Error({
                let mut e = ErrorReport::new(code, message);
                e.fatal = fatal;
                e
            }),
        ];
        for payload in payloads {
            let mut frame = Frame::new(id.clone(), payload);
            frame.ts = Some(now());
            frame.signature = sig.clone();
            prop_assert_eq!(decode(&encode(&frame)).unwrap(), frame);
        }
    }
}

/// Found by the `v2_decode` fuzz target: a `ts` with nanoseconds decoded to a value that
/// printed differently, so `decode(encode(f)) != f`.
#[test]
fn regression_sub_microsecond_ts_round_trips() {
    let wire = br#"{"v":2,"id":"ack-2","ts":"2026-11-23T10:31:25.478658652Z","nonce":"QFB7WtdBK1Ywv7hArp8ccg","seq":8,"hmac":"65f181af9904b6b1b307d5d1c298d01fa","type":"command_ack","payload":{"deliveryaim_}oken":null}}"#;
    let frame = decode(wire).unwrap();
    assert_eq!(frame.ts.unwrap().to_string(), "2026-11-23T10:31:25.478658Z");
    assert_eq!(decode(&encode(&frame)).unwrap(), frame);
}

/// A payload signed from its canonical form verifies, decodes to the same frame as one
/// signed from any other text of it, and carries the canonical bytes on the wire.
#[test]
fn a_canonical_payload_signs_without_parsing_and_verifies() {
    let events = vec![JsonObject::from_text(
        r#"{ "task_id" : "t-1", "b": 1E2, "a": [1e-5, -0, "\u00e9"] }"#,
    )
    .unwrap()];
    let payload = Payload::EventBatch(EventBatch::new(events));
    let canonical =
        brainwire_core::canonicalize(&payload.to_json(), &brainwire_core::Limits::default())
            .unwrap();
    let mut signer = signer();
    let from_text = sign(&mut signer, "b-1", &payload).unwrap();
    let from_canonical = signer
        .sign_canonical("event_batch", "b-2", &canonical)
        .unwrap();
    let wire = std::str::from_utf8(&from_canonical).unwrap();
    assert!(
        wire.ends_with(r#""payload":{"events":[{"a":[1e-05,0,"é"],"b":100.0,"task_id":"t-1"}]}}"#),
        "{wire}"
    );
    let mut verifier = FrameVerifier::new(secret(), binding());
    let first = verifier.verify(&from_text, now()).unwrap().frame;
    let second = verifier.verify(&from_canonical, now()).unwrap().frame;
    let (Payload::EventBatch(a), Payload::EventBatch(b)) = (first.payload, second.payload) else {
        panic!("event batches");
    };
    // The same value as Python reads it (serde_json would tell `-0` from `0`).
    let canonical_text = |e: &JsonObject| {
        brainwire_core::canonicalize(e.as_str().as_bytes(), &brainwire_core::Limits::default())
            .unwrap()
    };
    assert_eq!(canonical_text(&a.events[0]), canonical_text(&b.events[0]));
    assert_ne!(a.events[0].as_str(), b.events[0].as_str());
    // A payload that is not an object is refused, and the seq is not used up.
    let seq = signer.next_seq();
    assert!(signer.sign_canonical("event_batch", "b-3", b"[]").is_err());
    assert_eq!(signer.next_seq(), seq);
}

#[test]
fn sign_keeps_held_json_text_and_sends_built_payloads_in_canonical_form() {
    let mut s = signer();
    let mut v = FrameVerifier::new(secret(), binding());
    let payload_text = |wire: &[u8]| {
        let text = std::str::from_utf8(wire).unwrap();
        text[text.find(r#""payload":"#).unwrap() + 10..text.len() - 1].to_owned()
    };
    // Text received or given as text travels exactly as held: the MAC alone gets its
    // canonical form.
    let received = JsonObject::from_text(r#"{"b": 1E2, "a": 1}"#).unwrap();
    let batch = Payload::EventBatch(EventBatch::new(vec![received.clone()]));
    let wire = sign(&mut s, "batch-1", &batch).unwrap();
    assert_eq!(payload_text(&wire), r#"{"events":[{"b": 1E2, "a": 1}]}"#);
    assert_eq!(v.verify(&wire, now()).unwrap().frame.payload, batch);
    // A payload built in canonical form is sent as the MAC saw it, in one pass.
    let built = JsonObject::from_serialize(&serde_json::json!({"b": 100.0, "a": 1})).unwrap();
    let batch = Payload::EventBatch(EventBatch::new(vec![built]));
    let wire = sign(&mut s, "batch-2", &batch).unwrap();
    assert_eq!(payload_text(&wire), r#"{"events":[{"a":1,"b":100.0}]}"#);
    assert_eq!(v.verify(&wire, now()).unwrap().frame.payload, batch);
}
