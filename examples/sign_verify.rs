//! Signs a v2 `event_batch` as an agent would, then verifies it as a brain would, and
//! shows what a replay and a tampered copy get.
//!
//! ```text
//! cargo run -p brainwire-examples --example sign_verify
//! ```

use brainwire_close::NamesCloseCode as _;
use brainwire_core::{JsonObject, Timestamp};
use brainwire_sign::{FrameSigner, Secret, SessionBinding};
use brainwire_v2::{sign, EventBatch, FrameVerifier, Payload, SessionError};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The brain hands out the project secret as urlsafe base64; here we make one up.
    let secret = Secret::new(*b"brainwire-example-secret-32bytes")?;
    // Both sides learn these from hello_ack; they are bound into every MAC.
    let binding = SessionBinding::new(
        "0b6f4c1e-5d0a-4c47-9a55-1f2c3d4e5f60",
        "7d1e2f30-4a5b-4c6d-8e9f-a0b1c2d3e4f5",
        "c0ffee00-1234-4abc-9def-001122334455",
    );

    let event = JsonObject::from_text(
        r#"{"event_type":"task_succeeded","task_id":"t-1","ts":1746428308.9996243,"runtime":0.25}"#,
    )?;
    let mut agent = FrameSigner::new(secret.clone(), binding.clone());
    let wire = sign(
        &mut agent,
        "batch-1",
        &Payload::EventBatch(EventBatch::new(vec![event])),
    )?;
    println!("signed:   {}", String::from_utf8_lossy(&wire));

    let mut brain = FrameVerifier::new(secret, binding);
    let verified = brain.verify(&wire, Timestamp::now_utc())?;
    println!(
        "verified: type={} id={} seq={:?} key={:?}",
        verified.frame.frame_type().as_str(),
        verified.frame.id,
        verified.frame.signature.as_ref().map(|s| s.seq),
        verified.key,
    );

    let replay = brain.verify(&wire, Timestamp::now_utc()).unwrap_err();
    println!(
        "replayed: refused ({}), close {}",
        replay.kind(),
        SessionError::from(replay).close_code()
    );

    let tampered = String::from_utf8_lossy(&wire).replace("t-1", "t-2");
    let err = brain
        .verify(tampered.as_bytes(), Timestamp::now_utc())
        .unwrap_err();
    println!(
        "tampered: refused ({}), close {}",
        err.kind(),
        SessionError::from(err).close_code()
    );
    Ok(())
}
