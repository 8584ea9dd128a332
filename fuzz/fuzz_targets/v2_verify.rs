//! v2 verifier: arbitrary bytes never verify as a signed frame; a validly signed frame
//! with a fuzzer-chosen mutation of its signed content is refused.
#![no_main]

use brainwire_core::Timestamp;
use brainwire_sign::{FrameSigner, Secret, SessionBinding};
use brainwire_v2::{sign, FrameVerifier, Heartbeat, Payload};
use libfuzzer_sys::fuzz_target;

fn session() -> (Secret, SessionBinding) {
    (
        Secret::new(vec![0x5a; 32]).unwrap(),
        SessionBinding::new("a", "p", "s"),
    )
}

fuzz_target!(|data: &[u8]| {
    let (secret, binding) = session();
    let now = Timestamp::from_unix_micros(1_800_000_000_000_000).unwrap();

    // 1. Arbitrary bytes: only unsigned handshake frames may pass without the key.
    let mut verifier = FrameVerifier::new(secret.clone(), binding.clone());
    if let Ok(verified) = verifier.verify(data, now) {
        assert!(verified.key.is_none(), "a frame verified without the key");
    }

    // 2. A signed frame with one byte changed: the MAC must catch any change that alters
    //    the signed content (a change the canonical form does not see, such as
    //    whitespace or an escape spelled differently, may pass).
    let Some((&pos, rest)) = data.split_first() else {
        return;
    };
    let Some(&byte) = rest.first() else { return };
    let mut signer = FrameSigner::with_sources(
        secret.clone(),
        binding.clone(),
        move || now,
        |b: &mut [u8; 16]| *b = [1; 16],
    );
    let mut hb = Heartbeat::default();
    hb.buffer_size = u64::from(pos);
    let wire = sign(&mut signer, "f", &Payload::Heartbeat(hb)).unwrap();
    let mut mutated = wire.to_vec();
    let at = usize::from(pos) % mutated.len();
    if mutated[at] == byte {
        return;
    }
    mutated[at] = byte;
    let mut verifier = FrameVerifier::new(secret, binding.clone());
    if let Ok(verified) = verifier.verify(&mutated, now) {
        let original = brainwire_v2::decode(&wire).unwrap();
        let accepted = verified.frame;
        assert_eq!(
            (accepted.id, accepted.ts, accepted.payload),
            (original.id, original.ts, original.payload),
            "a mutation changed the signed content and still verified"
        );
    }
});
