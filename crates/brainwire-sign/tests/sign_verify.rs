//! Signer and verifier against each other, with a tiny schema: every rule the verifier
//! enforces, named by the error it gives.

use brainwire_core::Timestamp;
use brainwire_sign::{
    EnvelopeFields, FrameKind, FrameSchema, FrameSigner, FrameVerifier, Keyring, MacEncoding,
    Refusal, ReplayError, Secret, SessionBinding, Stamp, VerifyError,
};

/// The schema's own refusal.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct PingError(String);

/// `ping` is signed and its payload needs an integer `n`; `hello` is unsigned.
struct Ping;

impl FrameSchema for Ping {
    type Frame = serde_json::Value;
    type Error = PingError;
    type FrameType = FrameKind;
    const VERSION: u64 = 2;
    fn frame_type(name: &str) -> Option<FrameKind> {
        match name {
            "ping" => Some(FrameKind::Signed),
            "hello" => Some(FrameKind::Unsigned),
            _ => None,
        }
    }
    fn kind(frame_type: FrameKind) -> FrameKind {
        frame_type
    }
    fn decode(_: FrameKind, fields: &EnvelopeFields<'_>) -> Result<serde_json::Value, PingError> {
        let v: serde_json::Value = fields.root.decode().map_err(|e| PingError(e.to_string()))?;
        if let Some(payload) = v.get("payload") {
            if payload.get("n").and_then(|n| n.as_i64()).is_none() {
                return Err(PingError("payload.n must be an integer".into()));
            }
        }
        Ok(v)
    }
}

const NOW_MICROS: i64 = 1_800_000_000_000_000;

fn now() -> Timestamp {
    Timestamp::from_unix_micros(NOW_MICROS).unwrap()
}

fn secret(byte: u8) -> Secret {
    Secret::new(vec![byte; 32]).unwrap()
}

fn binding(session: &str) -> SessionBinding {
    SessionBinding::new("agent", "project", session)
}

/// A signer with a fixed clock and counting nonces.
fn signer(
    key: u8,
    session: &str,
) -> FrameSigner<impl FnMut() -> Timestamp, impl FnMut(&mut [u8; 16])> {
    let mut counter = 0u8;
    FrameSigner::with_sources(
        secret(key),
        binding(session),
        now,
        move |b: &mut [u8; 16]| {
            counter += 1;
            *b = [counter; 16];
        },
    )
}

fn verifier(key: u8, session: &str) -> FrameVerifier<Ping> {
    FrameVerifier::new(secret(key), binding(session))
}

#[test]
fn round_trip_and_wire_layout() {
    let mut s = signer(1, "s1");
    let wire = s.sign("ping", "f1", br#"{"n":1}"#).unwrap();
    let text = std::str::from_utf8(&wire).unwrap();
    assert!(text.starts_with(r#"{"v":2,"id":"f1","ts":"2027-01-15T08:00:00Z","nonce":"AQEBAQEBAQEBAQEBAQEBAQ","seq":1,"hmac":""#), "{text}");
    assert!(
        text.ends_with(r#"","type":"ping","payload":{"n":1}}"#),
        "{text}"
    );
    let mut v = verifier(1, "s1");
    let verified = v.verify(&wire, now()).unwrap();
    assert_eq!(verified.frame["payload"]["n"], 1);
    assert_eq!(v.guard().last_seq(), 1);
    assert_eq!(s.next_seq(), 2);
}

#[test]
fn replayed_frame_is_refused_and_state_kept() {
    let mut s = signer(1, "s1");
    let first = s.sign("ping", "f1", br#"{"n":1}"#).unwrap();
    let mut v = verifier(1, "s1");
    v.verify(&first, now()).unwrap();
    let err = v.verify(&first, now()).unwrap_err();
    assert!(matches!(
        err,
        VerifyError::Replay(ReplayError::SeqNotIncreasing { seq: 1, last: 1 })
    ));
    assert_eq!(err.refusal(), Refusal::Unauthenticated);
}

#[test]
fn same_seq_with_a_fresh_nonce_is_still_refused() {
    let s = signer(1, "s1");
    let stamp = |nonce: &str| Stamp {
        ts: now(),
        nonce: nonce.into(),
        seq: 7,
    };
    let a = s
        .sign_stamped(&stamp("n-a"), "ping", "f1", br#"{"n":1}"#)
        .unwrap();
    let b = s
        .sign_stamped(&stamp("n-b"), "ping", "f2", br#"{"n":1}"#)
        .unwrap();
    let mut v = verifier(1, "s1");
    v.verify(&a, now()).unwrap();
    assert!(matches!(
        v.verify(&b, now()),
        Err(VerifyError::Replay(ReplayError::SeqNotIncreasing { .. }))
    ));
}

#[test]
fn reused_nonce_with_a_higher_seq_is_refused() {
    let s = signer(1, "s1");
    let a = s
        .sign_stamped(
            &Stamp {
                ts: now(),
                nonce: "same".into(),
                seq: 1,
            },
            "ping",
            "f1",
            br#"{"n":1}"#,
        )
        .unwrap();
    let b = s
        .sign_stamped(
            &Stamp {
                ts: now(),
                nonce: "same".into(),
                seq: 2,
            },
            "ping",
            "f2",
            br#"{"n":1}"#,
        )
        .unwrap();
    let mut v = verifier(1, "s1");
    v.verify(&a, now()).unwrap();
    assert!(matches!(
        v.verify(&b, now()),
        Err(VerifyError::Replay(ReplayError::NonceReused))
    ));
}

#[test]
fn stale_future_and_naive_timestamps_are_refused() {
    let s = signer(1, "s1");
    let mut v = verifier(1, "s1");
    for (offset_s, expected) in [(-61, "stale_timestamp"), (61, "stale_timestamp")] {
        let ts = Timestamp::from_unix_micros(NOW_MICROS + offset_s * 1_000_000).unwrap();
        let wire = s
            .sign_stamped(
                &Stamp {
                    ts,
                    nonce: "n".into(),
                    seq: 1,
                },
                "ping",
                "f",
                br#"{"n":1}"#,
            )
            .unwrap();
        assert_eq!(v.verify(&wire, now()).unwrap_err().kind(), expected);
    }
    // Our signer cannot write a naive ts; a peer holding the key can.
    let naive = sign_raw(
        1,
        "s1",
        r#"{"v":2,"id":"f","ts":"2027-01-15T08:00:00","nonce":"n","seq":1,"type":"ping","payload":{"n":1}}"#,
    );
    assert_eq!(
        v.verify(&naive, now()).unwrap_err().kind(),
        "naive_timestamp"
    );
    assert_eq!(v.guard().last_seq(), 0);
}

#[test]
fn tampered_payload_mac_and_wrong_secret_are_refused() {
    let mut s = signer(1, "s1");
    let wire = s.sign("ping", "f1", br#"{"n":1}"#).unwrap();
    let text = std::str::from_utf8(&wire).unwrap();

    let tampered = text.replace(r#""n":1"#, r#""n":2"#);
    assert!(matches!(
        verifier(1, "s1").verify(tampered.as_bytes(), now()),
        Err(VerifyError::BadSignature)
    ));

    let hmac_at = text.find(r#""hmac":""#).unwrap() + 8;
    let mut flipped = text.to_owned().into_bytes();
    flipped[hmac_at] = if flipped[hmac_at] == b'0' { b'1' } else { b'0' };
    assert!(matches!(
        verifier(1, "s1").verify(&flipped, now()),
        Err(VerifyError::BadSignature)
    ));

    let upper = text.replace(
        &text[hmac_at..hmac_at + 64],
        &text[hmac_at..hmac_at + 64].to_uppercase(),
    );
    if upper != text {
        assert!(matches!(
            verifier(1, "s1").verify(upper.as_bytes(), now()),
            Err(VerifyError::BadSignature)
        ));
    }

    assert!(matches!(
        verifier(2, "s1").verify(&wire, now()),
        Err(VerifyError::BadSignature)
    ));
}

#[test]
fn a_frame_from_another_session_fails_its_mac() {
    let wire = signer(1, "old-session")
        .sign("ping", "f1", br#"{"n":1}"#)
        .unwrap();
    let err = verifier(1, "new-session").verify(&wire, now()).unwrap_err();
    assert!(matches!(err, VerifyError::BadSignature));
    // Binding keys sent on the wire are ignored: the verifier's own binding wins.
    let text =
        std::str::from_utf8(&wire)
            .unwrap()
            .replacen('{', r#"{"session_id":"old-session","#, 1);
    assert!(matches!(
        verifier(1, "new-session").verify(text.as_bytes(), now()),
        Err(VerifyError::BadSignature)
    ));
    assert!(verifier(1, "old-session")
        .verify(text.as_bytes(), now())
        .is_ok());
}

#[test]
fn keyring_accepts_the_previous_key_during_rotation_and_says_so() {
    let old = signer(1, "s1").sign("ping", "f1", br#"{"n":1}"#).unwrap();
    let keys = Keyring::new(secret(2)).with_previous(secret(1));
    let mut v = FrameVerifier::<Ping>::new(keys, binding("s1"));
    let verified = v.verify(&old, now()).unwrap();
    assert_eq!(verified.key.map(|k| k.0), Some(1));
    assert!(!verified.key.unwrap().is_current());

    let mut keys = Keyring::new(secret(1));
    keys.rotate(secret(2), 0);
    let mut v = FrameVerifier::<Ping>::new(keys, binding("s1"));
    assert!(matches!(
        v.verify(&old, now()),
        Err(VerifyError::BadSignature)
    ));
}

#[test]
fn invalid_payload_after_a_good_mac_leaves_no_replay_state() {
    let mut s = signer(1, "s1");
    let bad = s.sign("ping", "f1", br#"{"n":"not a number"}"#).unwrap();
    let mut v = verifier(1, "s1");
    assert!(matches!(
        v.verify(&bad, now()),
        Err(VerifyError::InvalidFrame(_))
    ));
    assert_eq!(v.guard().last_seq(), 0);
    assert_eq!(v.guard().remembered_nonces(), 0);
    let good = s.sign("ping", "f2", br#"{"n":1}"#).unwrap();
    assert!(v.verify(&good, now()).is_ok());
}

#[test]
fn envelope_shape_errors_name_their_kind() {
    let mut v = verifier(1, "s1");
    let cases: &[(&str, &str, Refusal)] = &[
        ("not json", "malformed_json", Refusal::Malformed),
        ("[1]", "not_object", Refusal::Malformed),
        (
            r#"{"v":3,"type":"ping"}"#,
            "unsupported_version",
            Refusal::UnsupportedVersion,
        ),
        (
            r#"{"v":"2","type":"ping"}"#,
            "invalid_version",
            Refusal::Malformed,
        ),
        (
            r#"{"v":2.0,"type":"ping"}"#,
            "invalid_version",
            Refusal::Malformed,
        ),
        (r#"{"v":2}"#, "missing_type", Refusal::Malformed),
        (
            r#"{"v":2,"type":"nope"}"#,
            "unknown_type",
            Refusal::Malformed,
        ),
        (r#"{"type":"ping"}"#, "missing_version", Refusal::Malformed),
        (
            r#"{"v":2,"type":"ping","payload":[]}"#,
            "payload_not_object",
            Refusal::Malformed,
        ),
        (
            r#"{"v":2,"type":"ping","payload":{}}"#,
            "missing_signature",
            Refusal::Unauthenticated,
        ),
        (
            r#"{"v":2,"type":"ping","hmac":""}"#,
            "missing_signature",
            Refusal::Unauthenticated,
        ),
        (
            r#"{"v":2,"type":"ping","hmac":"zz"}"#,
            "bad_signature",
            Refusal::Unauthenticated,
        ),
        (
            r#"{"v":2,"type":"ping","hmac":7}"#,
            "bad_signature",
            Refusal::Unauthenticated,
        ),
        (
            r#"{"v":2,"v":2,"type":"ping"}"#,
            "duplicate_key",
            Refusal::Malformed,
        ),
        (
            r#"{"v":2,"type":"hello","payload":{"n":"x"}}"#,
            "invalid_frame",
            Refusal::Malformed,
        ),
    ];
    for (wire, kind, code) in cases {
        let err = v.verify(wire.as_bytes(), now()).unwrap_err();
        assert_eq!((err.kind(), err.refusal()), (*kind, *code), "{wire}");
    }
    // hello is unsigned and may omit v, as the reference's model defaults it.
    assert!(v
        .verify(br#"{"type":"hello","payload":{"n":1}}"#, now())
        .is_ok());
}

#[test]
fn base64_mac_is_an_option_on_both_sides() {
    let mut s = signer(1, "s1").mac_encoding(MacEncoding::Base64);
    let wire = s.sign("ping", "f1", br#"{"n":1}"#).unwrap();
    let hmac = serde_json::from_slice::<serde_json::Value>(&wire).unwrap()["hmac"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(hmac.len(), 44);
    assert!(matches!(
        verifier(1, "s1").verify(&wire, now()),
        Err(VerifyError::BadSignature)
    ));
    let mut v = verifier(1, "s1").mac_encoding(MacEncoding::Base64);
    assert!(v.verify(&wire, now()).is_ok());
}

#[test]
fn authenticate_checks_the_mac_but_keeps_no_state() {
    let wire = signer(1, "s1").sign("ping", "f1", br#"{"n":1}"#).unwrap();
    let mut v = verifier(1, "s1");
    assert!(v.authenticate(&wire).is_ok());
    assert!(v.authenticate(&wire).is_ok());
    assert_eq!(v.guard().last_seq(), 0);
}

#[test]
fn signer_refuses_bad_ids_and_payloads_without_consuming_a_seq() {
    let mut s = signer(1, "s1");
    assert_eq!(s.sign("ping", "", b"{}").unwrap_err().kind(), "invalid_id");
    assert_eq!(
        s.sign("ping", &"x".repeat(65), b"{}").unwrap_err().kind(),
        "invalid_id"
    );
    assert_eq!(
        s.sign("ping", "f", b"[]").unwrap_err().kind(),
        "payload_not_object"
    );
    assert_eq!(
        s.sign("ping", "f", br#"{"x":NaN}"#).unwrap_err().kind(),
        "non_finite_number"
    );
    assert_eq!(s.next_seq(), 1);
}

/// Signs an arbitrary envelope text with the key, as a peer that builds frames by hand
/// would: canonical(envelope + binding) under HMAC-SHA256, hex, spliced in as `hmac`.
fn sign_raw(key: u8, session: &str, unsigned: &str) -> Vec<u8> {
    use hmac::{Hmac, KeyInit, Mac};
    let mut value: serde_json::Value = serde_json::from_str(unsigned).unwrap();
    let obj = value.as_object_mut().unwrap();
    let mut envelope = obj.clone();
    envelope.insert("agent_id".into(), "agent".into());
    envelope.insert("project_id".into(), "project".into());
    envelope.insert("session_id".into(), session.into());
    let text = serde_json::to_vec(&envelope).unwrap();
    let canonical = brainwire_core::canonicalize(&text, &Default::default()).unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&[key; 32]).unwrap();
    mac.update(&canonical);
    obj.insert(
        "hmac".into(),
        hex::encode(mac.finalize().into_bytes()).into(),
    );
    serde_json::to_vec(&value).unwrap()
}
