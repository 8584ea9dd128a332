//! The v2 HMAC-signed envelope: [`FrameSigner`], [`FrameVerifier`], [`ReplayGuard`] and
//! the [`Secret`] they share, byte-compatible with the deployed reference (`z4j-core`
//! 1.13.0).
//!
//! This crate does no I/O and reads no clock on the verify path. The typed frames live in
//! `brainwire-v2`, which plugs them in through [`FrameSchema`].
//!
//! ```text
//!   signer                                     verifier
//!   stamp ts, nonce, seq                       parse (Limits) -> object -> v -> type
//!   envelope = frame - hmac + binding          hello / hello_ack: typed decode, done
//!   hmac = HMAC-SHA256(secret, canonical)      envelope = frame - hmac + binding
//!   wire: v,id,ts,nonce,seq,hmac,type,payload  MAC (each key, constant time)
//!                          ───── bytes ─────▶  replay check -> typed decode -> commit
//! ```
//!
//! The binding (`agent_id`, `project_id`, `session_id`) is never sent; both sides add it
//! to the envelope, so a frame from one session fails its MAC in any other.
//!
//! ```
//! use brainwire_sign::{EnvelopeFields, FrameKind, FrameSchema, FrameSigner, FrameVerifier,
//!     Secret, SessionBinding};
//! # struct AnyFrame;
//! # impl FrameSchema for AnyFrame {
//! #     type Frame = String;
//! #     type Error = std::convert::Infallible;
//! #     type FrameType = ();
//! #     const VERSION: u64 = 2;
//! #     fn frame_type(name: &str) -> Option<()> { (name == "heartbeat").then_some(()) }
//! #     fn kind(_: ()) -> FrameKind { FrameKind::Signed }
//! #     fn decode(_: (), fields: &EnvelopeFields<'_>) -> Result<String, Self::Error> {
//! #         Ok(fields.root.raw_text().to_owned())
//! #     }
//! # }
//!
//! let secret = Secret::new(vec![42u8; 32])?;
//! let binding = SessionBinding::new("agent-1", "project-1", "session-1");
//! let mut signer = FrameSigner::new(secret.clone(), binding.clone());
//! let wire = signer.sign("heartbeat", "frame-1", br#"{"buffer_size":0}"#)?;
//!
//! // `AnyFrame` is the schema: brainwire-v2 provides the real one.
//! let mut verifier = FrameVerifier::<AnyFrame>::new(secret, binding);
//! let verified = verifier.verify(&wire, brainwire_core::Timestamp::now_utc())?;
//! assert!(verified.key.unwrap().is_current());
//! assert!(verifier.verify(&wire, brainwire_core::Timestamp::now_utc()).is_err()); // replay
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Where brainwire is stricter than the reference
//!
//! | input | reference | brainwire |
//! |---|---|---|
//! | duplicate keys, BOM, non-UTF-8 | last key wins / decoded | refused ([`VerifyError::Json`]) |
//! | `seq: true` | accepted as 1 (a Python `bool` is an `int`) | [`ReplayError::InvalidSeq`] |
//! | `seq` beyond `u64` | accepted | [`ReplayError::InvalidSeq`] |
//! | nonce over 32 characters | accepted by the fast path | [`ReplayError::InvalidNonce`] |
//! | `ts` in ISO 8601 basic form, no seconds | accepted | refused (RFC 3339 only) |
//! | field caps of the typed models | skipped after the MAC | enforced by the schema |
//! | secrets: `=` inside, under 32 bytes decoded | accepted until used | refused when decoded |
//!
//! # Crate features
//!
//! None.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod envelope;
mod mac;
mod nonce_window;
mod replay;
mod secret;
mod signer;
mod verifier;

pub use envelope::{EnvelopeFields, SessionBinding};
pub use mac::MacEncoding;
pub use replay::{ReplayConfig, ReplayError, ReplayFields, ReplayGuard, ReplayTicket};
pub use secret::{
    decode_agent_hmac_secret, derive_project_secret, Secret, SecretError, MIN_SECRET_BYTES,
};
pub use signer::{FrameSigner, NonceSource, OsNonces, SharedNonces, SignError, Stamp};
/// The project id [`derive_project_secret`] takes (from the `uuid` crate), named here so
/// that users need not depend on `uuid`.
pub use uuid::Uuid;
pub use verifier::{
    FrameKind, FrameSchema, FrameVerifier, KeyId, Keyring, Refusal, Verified, VerifyError,
};
