//! The signer over arbitrary payloads: whatever it signs verifies, twice refused as a
//! replay; the payload on the wire means what was given (same canonical form); and the
//! MAC is HMAC-SHA256 over the canonical envelope built independently: the wire's
//! members as exact text, `hmac` out, the binding in, through `canonicalize`.
#![no_main]

use std::collections::BTreeMap;
use std::convert::Infallible;

use brainwire_core::{canonicalize, Limits, Timestamp};
use brainwire_sign::{
    EnvelopeFields, FrameKind, FrameSchema, FrameSigner, FrameVerifier, Secret, SessionBinding,
};
use hmac::{Hmac, KeyInit, Mac};
use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;

/// One signed type, `x`, with any payload.
struct Any;

impl FrameSchema for Any {
    type Frame = ();
    type Error = Infallible;
    type FrameType = ();
    const VERSION: u64 = 2;
    fn frame_type(name: &str) -> Option<()> {
        (name == "x").then_some(())
    }
    fn kind(_: ()) -> FrameKind {
        FrameKind::Signed
    }
    fn decode(_: (), _: &EnvelopeFields<'_>) -> Result<(), Infallible> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let now = Timestamp::from_unix_micros(1_800_000_000_000_000).unwrap();
    let secret = Secret::new(vec![9; 32]).unwrap();
    let binding = SessionBinding::new("agent-é", "project", "session");
    let mut counter = 0u8;
    let mut signer = FrameSigner::with_sources(
        secret.clone(),
        binding.clone(),
        move || now,
        move |bytes: &mut [u8; 16]| {
            counter = counter.wrapping_add(1);
            *bytes = [counter; 16];
        },
    );
    let Ok(wire) = signer.sign("x", "frame-1", data) else {
        return;
    };
    let mut verifier = FrameVerifier::<Any>::new(secret.clone(), binding.clone());
    verifier
        .verify(&wire, now)
        .expect("what the signer signs verifies");
    assert!(verifier.verify(&wire, now).is_err(), "and only once");

    let members: BTreeMap<String, Box<RawValue>> =
        serde_json::from_slice(&wire).expect("the wire is a JSON object");
    let limits = Limits::default();
    let payload = members.get("payload").expect("a payload");
    assert_eq!(
        canonicalize(payload.get().as_bytes(), &limits).unwrap(),
        canonicalize(data, &limits).unwrap(),
        "the payload means what was given"
    );
    let hmac: String = serde_json::from_str(members["hmac"].get()).unwrap();
    let mut envelope = members.clone();
    envelope.remove("hmac");
    for (key, value) in [
        ("agent_id", &binding.agent_id),
        ("project_id", &binding.project_id),
        ("session_id", &binding.session_id),
    ] {
        envelope.insert(
            key.to_owned(),
            serde_json::value::to_raw_value(value).unwrap(),
        );
    }
    let text = serde_json::to_vec(&envelope).unwrap();
    let canonical = canonicalize(&text, &limits).expect("the envelope canonicalizes");
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.expose()).unwrap();
    mac.update(&canonical);
    assert_eq!(hmac, hex::encode(mac.finalize().into_bytes()));
});
