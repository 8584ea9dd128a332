//! brainwire against vectors that the reference (z4j-core 1.13.0) produced itself.
//! Regenerate with `tests/reference/generate_vectors.py`.

use brainwire_core::{canonicalize, Limits, Timestamp};
use brainwire_sign::{
    decode_agent_hmac_secret, derive_project_secret, FrameSigner, SessionBinding, Stamp,
};
use brainwire_v2::{decode, sign_stamped, FrameVerifier};
use serde_json::Value;

use crate::vector_rows;

fn text<'a>(row: &'a Value, key: &str) -> &'a str {
    row[key]
        .as_str()
        .unwrap_or_else(|| panic!("vector has no {key}: {row}"))
}

#[test]
fn canonical_bytes_equal_the_reference() {
    let rows = vector_rows("canonical.jsonl");
    assert!(rows.len() > 3000);
    let (mut agreed, mut refused) = (0, 0);
    for row in &rows {
        let wire = text(row, "wire");
        let ours = canonicalize(wire.as_bytes(), &Limits::default());
        match row.get("canonical") {
            Some(expected) => {
                let ours = ours.unwrap_or_else(|e| panic!("refused {wire:.120}: {e}"));
                assert_eq!(
                    std::str::from_utf8(&ours).unwrap(),
                    expected.as_str().unwrap(),
                    "{wire:.120}"
                );
                agreed += 1;
            }
            None => {
                let err = ours.expect_err(wire);
                assert_eq!(err.kind(), text(row, "brainwire_error"), "{wire:.120}");
                refused += 1;
            }
        }
    }
    assert!(
        agreed > 3000 && refused > 15,
        "{agreed} agreed, {refused} refused"
    );
}

#[test]
fn reference_signed_frames_verify_and_resign_to_the_same_mac() {
    let rows = vector_rows("signed.jsonl");
    let types: std::collections::HashSet<&str> = rows.iter().map(|r| text(r, "type")).collect();
    assert_eq!(
        types.len(),
        9,
        "every signed frame type has vectors: {types:?}"
    );
    for row in &rows {
        let secret = decode_agent_hmac_secret(text(row, "secret_b64")).unwrap();
        let binding = SessionBinding::new(
            text(row, "agent_id"),
            text(row, "project_id"),
            text(row, "session_id"),
        );
        let wire = text(row, "wire").as_bytes();

        // Verified with the replay rules at the frame's own time.
        let frame = decode(wire).unwrap();
        let ts = frame.ts.expect("signed frames carry ts");
        let mut verifier = FrameVerifier::new(secret.clone(), binding.clone());
        let verified = verifier
            .verify(wire, ts)
            .unwrap_or_else(|e| panic!("{e:?}: {}", text(row, "wire")));
        assert_eq!(verified.frame, frame);

        // Our signer, given the same stamp and the typed payload, makes the same MAC.
        let sig = frame.signature.clone().unwrap();
        let stamp = Stamp {
            ts,
            nonce: sig.nonce.clone(),
            seq: sig.seq,
        };
        let signer = FrameSigner::new(secret, binding);
        let ours = sign_stamped(&signer, &stamp, &frame.id, &frame.payload).unwrap();
        let ours = decode(&ours).unwrap();
        assert_eq!(
            ours.signature.unwrap().hmac,
            text(row, "hmac"),
            "{}",
            text(row, "wire")
        );
        assert_eq!(ours.payload, frame.payload);
    }
}

#[test]
fn reference_envelopes_are_canonical_fixed_points() {
    // What the reference MACed is already canonical by brainwire's rules too.
    for row in vector_rows("signed.jsonl") {
        let envelope = text(&row, "envelope_canonical");
        let ours = canonicalize(envelope.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(std::str::from_utf8(&ours).unwrap(), envelope);
    }
}

#[test]
fn secrets_match_the_reference_or_are_refused_as_documented() {
    for row in vector_rows("secrets.jsonl") {
        let result = match text(&row, "op") {
            "derive" => derive_project_secret(
                &hex::decode(text(&row, "master_hex")).unwrap(),
                uuid::Uuid::parse_str(text(&row, "project_id")).unwrap(),
            ),
            _ => decode_agent_hmac_secret(text(&row, "value")),
        };
        match row.get("secret_hex") {
            Some(expected) => assert_eq!(
                hex::encode(result.unwrap().expose()),
                expected.as_str().unwrap()
            ),
            None => assert_eq!(
                result.unwrap_err().kind(),
                text(&row, "brainwire_error"),
                "{row}"
            ),
        }
    }
}

#[test]
fn a_vector_replayed_is_refused() {
    let row = &vector_rows("signed.jsonl")[0];
    let secret = decode_agent_hmac_secret(text(row, "secret_b64")).unwrap();
    let binding = SessionBinding::new(
        text(row, "agent_id"),
        text(row, "project_id"),
        text(row, "session_id"),
    );
    let wire = text(row, "wire").as_bytes();
    let ts: Timestamp = decode(wire).unwrap().ts.unwrap();
    let mut verifier = FrameVerifier::new(secret, binding);
    verifier.verify(wire, ts).unwrap();
    assert_eq!(
        verifier.verify(wire, ts).unwrap_err().kind(),
        "seq_not_increasing"
    );
}
