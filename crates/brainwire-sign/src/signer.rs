//! The signer of one direction of one session.

use base64::Engine as _;
use brainwire_core::{write_string, Clock, JsonError, Kind, Limits, SystemClock, Tape, Timestamp};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use hmac::Mac as _;

use crate::envelope::{BoundText, CHUNK_BYTES};
use crate::mac::MAX_TAG_JSON;
use crate::{MacEncoding, Secret, SessionBinding};

/// Where the signer takes the 16 random bytes of each nonce from.
pub trait NonceSource {
    /// Fills `bytes` with fresh random bytes.
    fn fill(&mut self, bytes: &mut [u8; 16]);
}

/// Nonces from the operating system (`getrandom`), fetched [`OsNonces::BATCH`] at a time:
/// one system call per 32 frames instead of one per frame (it was a fifth of the time to
/// sign a heartbeat). Nonces travel in clear, so holding the next few in memory reveals
/// nothing a peer will not see anyway. A clone starts with an empty buffer, so two
/// signers never hand out the same bytes.
#[derive(Debug)]
pub struct OsNonces {
    buffer: [u8; 16 * OsNonces::BATCH],
    /// Bytes of `buffer` already handed out (all of it when empty).
    used: usize,
}

impl OsNonces {
    /// Nonces fetched per system call.
    pub const BATCH: usize = 32;

    /// A source with an empty buffer.
    pub fn new() -> Self {
        Self {
            buffer: [0; 16 * Self::BATCH],
            used: 16 * Self::BATCH,
        }
    }
}

impl Default for OsNonces {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for OsNonces {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl NonceSource for OsNonces {
    fn fill(&mut self, bytes: &mut [u8; 16]) {
        if self.used + 16 > self.buffer.len() {
            getrandom::getrandom(&mut self.buffer)
                .expect("the operating system provides randomness");
            self.used = 0;
        }
        bytes.copy_from_slice(&self.buffer[self.used..self.used + 16]);
        self.used += 16;
    }
}

impl<F: FnMut(&mut [u8; 16])> NonceSource for F {
    fn fill(&mut self, bytes: &mut [u8; 16]) {
        self(bytes);
    }
}

/// A [`NonceSource`] that can be cloned and shared: what sessions hold, so that every
/// signer they make draws from the one (real or seeded) source.
#[derive(Clone)]
pub struct SharedNonces(Arc<Mutex<dyn NonceSource + Send>>);

impl SharedNonces {
    /// Shares `source`.
    pub fn new(source: impl NonceSource + Send + 'static) -> Self {
        Self(Arc::new(Mutex::new(source)))
    }

    /// The operating system's randomness ([`OsNonces`]).
    pub fn os() -> Self {
        Self::new(OsNonces::new())
    }
}

impl NonceSource for SharedNonces {
    fn fill(&mut self, bytes: &mut [u8; 16]) {
        // A source that panicked mid-fill left no state worth refusing to read.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .fill(bytes);
    }
}

impl std::fmt::Debug for SharedNonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedNonces")
    }
}

/// The per-frame values the signer stamps: freshness, uniqueness and order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// The frame's `ts`.
    pub ts: Timestamp,
    /// The frame's `nonce` (the reference makes 22 urlsafe characters from 16 bytes).
    pub nonce: String,
    /// The frame's `seq`.
    pub seq: u64,
}

/// Why a frame could not be signed. These are the caller's mistakes, not the peer's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The payload is not JSON brainwire can sign.
    #[error("payload refused")]
    Payload(#[source] JsonError),
    /// The payload is JSON but not an object.
    #[error("payload is not a JSON object")]
    PayloadNotObject,
    /// The frame id is not 1 to 64 characters, as the reference requires.
    #[error("frame id must have 1 to 64 characters, not {chars}")]
    InvalidId {
        /// Characters given.
        chars: usize,
    },
    /// The nonce is not 1 to 32 characters.
    #[error("nonce must have 1 to 32 characters, not {chars}")]
    InvalidNonce {
        /// Characters given.
        chars: usize,
    },
    /// The sequence number is 0 (it starts at 1) or has run out.
    #[error("seq must be at least 1")]
    InvalidSeq,
}

impl SignError {
    /// A stable snake_case name for tools and logs.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Payload(e) => e.kind(),
            Self::PayloadNotObject => "payload_not_object",
            Self::InvalidId { .. } => "invalid_id",
            Self::InvalidNonce { .. } => "invalid_nonce",
            Self::InvalidSeq => "invalid_seq",
        }
    }
}

/// Signs the outbound frames of one direction of one session.
///
/// Each call to [`sign`](Self::sign) stamps `ts` from the clock, a 22-character urlsafe
/// nonce from 16 random bytes and the next `seq` (from 1), MACs the canonical envelope
/// (the frame's fields minus `hmac`, plus the [`SessionBinding`]) and writes the wire
/// frame in the reference's field order: `v, id, ts, nonce, seq, hmac, type, payload`.
///
/// The MAC is computed over the canonical form of the very bytes sent, so a verifier that
/// re-parses the wire (as the reference does) computes the same envelope.
pub struct FrameSigner<C = SystemClock, N = OsNonces> {
    secret: Secret,
    binding: SessionBinding,
    bound: BoundText,
    next_seq: u64,
    encoding: MacEncoding,
    limits: Limits,
    clock: C,
    nonces: N,
}

impl<C, N> std::fmt::Debug for FrameSigner<C, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameSigner")
            .field("secret", &self.secret)
            .field("binding", &self.binding)
            .field("next_seq", &self.next_seq)
            .field("encoding", &self.encoding)
            .finish_non_exhaustive()
    }
}

impl FrameSigner {
    /// A signer using the system clock and OS randomness.
    pub fn new(secret: Secret, binding: SessionBinding) -> Self {
        Self::with_sources(secret, binding, SystemClock, OsNonces::new())
    }
}

impl<C: Clock, N: NonceSource> FrameSigner<C, N> {
    /// A signer with an injected clock and nonce source (deterministic tests).
    pub fn with_sources(secret: Secret, binding: SessionBinding, clock: C, nonces: N) -> Self {
        Self {
            secret,
            bound: BoundText::of(&binding),
            binding,
            next_seq: 1,
            encoding: MacEncoding::default(),
            limits: Limits::default(),
            clock,
            nonces,
        }
    }

    /// Writes the MAC in `encoding` (lowercase hex by default).
    #[must_use]
    pub fn mac_encoding(mut self, encoding: MacEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Limits applied to payloads before signing (they bound the canonical pass).
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The `seq` the next frame gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The session this signer binds.
    pub fn binding(&self) -> &SessionBinding {
        &self.binding
    }

    /// Signs a frame of `frame_type` with `id` and `payload` (a JSON object's text),
    /// stamping the next `ts`, nonce and `seq`.
    ///
    /// # Errors
    ///
    /// [`SignError`] when the id or payload is unusable; the seq is then not consumed.
    pub fn sign(&mut self, frame_type: &str, id: &str, payload: &[u8]) -> Result<Bytes, SignError> {
        let mut nonce = [0; NONCE_CHARS];
        let stamp = self.next_stamp(&mut nonce);
        let wire = self.sign_text(stamp, frame_type, id, payload)?;
        self.next_seq = self.next_seq.checked_add(1).ok_or(SignError::InvalidSeq)?;
        Ok(wire)
    }

    /// The stamp of the next frame: now, a fresh nonce (written into `nonce`), the next
    /// seq.
    fn next_stamp<'n>(&mut self, nonce: &'n mut [u8; NONCE_CHARS]) -> StampRef<'n> {
        let mut random = [0u8; 16];
        self.nonces.fill(&mut random);
        let len = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode_slice(random, nonce)
            .expect("22 characters hold 16 bytes in base64");
        StampRef {
            ts: self.clock.now(),
            nonce: std::str::from_utf8(&nonce[..len]).expect("base64 is ASCII"),
            seq: self.next_seq,
        }
    }

    /// Refuses an id, nonce or seq the reference would refuse.
    fn check_stamp(stamp: StampRef<'_>, id: &str) -> Result<(), SignError> {
        let id_chars = id.chars().count();
        if !(1..=64).contains(&id_chars) {
            return Err(SignError::InvalidId { chars: id_chars });
        }
        let nonce_chars = stamp.nonce.chars().count();
        if !(1..=32).contains(&nonce_chars) {
            return Err(SignError::InvalidNonce { chars: nonce_chars });
        }
        if stamp.seq == 0 {
            return Err(SignError::InvalidSeq);
        }
        Ok(())
    }

    /// Signs with a given stamp, leaving the signer's own counter alone: for conformance
    /// vectors and for re-sending a frame exactly as first signed.
    ///
    /// # Errors
    ///
    /// [`SignError`] when the id, nonce, seq or payload is unusable.
    pub fn sign_stamped(
        &self,
        stamp: &Stamp,
        frame_type: &str,
        id: &str,
        payload: &[u8],
    ) -> Result<Bytes, SignError> {
        self.sign_text(stamp.borrowed(), frame_type, id, payload)
    }

    /// [`sign_stamped`](Self::sign_stamped) with the stamp borrowed.
    fn sign_text(
        &self,
        stamp: StampRef<'_>,
        frame_type: &str,
        id: &str,
        payload: &[u8],
    ) -> Result<Bytes, SignError> {
        Self::check_stamp(stamp, id)?;
        let mut tape = Tape::new();
        let payload_root = tape
            .parse(payload, &self.limits)
            .map_err(SignError::Payload)?
            .root();
        if payload_root.kind() != Kind::Object {
            return Err(SignError::PayloadNotObject);
        }
        let mut canonical = Vec::with_capacity(payload.len());
        payload_root.write_canonical(&mut canonical);
        Ok(self.write_signed(stamp, frame_type, id, &canonical, payload))
    }

    /// [`sign`](Self::sign) for a payload whose canonical form the caller wrote
    /// alongside it (as `brainwire_v2::sign` does from a typed payload, with
    /// [`brainwire_core::canonicalize_value`]): `payload` goes on the wire, and the MAC
    /// covers `canonical_payload` without parsing anything. A `canonical_payload` that is
    /// not the canonical form of `payload` is signed all the same, and every verifier
    /// refuses the frame.
    ///
    /// # Errors
    ///
    /// [`SignError`] when the id is unusable or the payload is not an object or too
    /// large; the seq is then not consumed.
    pub fn sign_prepared(
        &mut self,
        frame_type: &str,
        id: &str,
        payload: &[u8],
        canonical_payload: &[u8],
    ) -> Result<Bytes, SignError> {
        let mut nonce = [0; NONCE_CHARS];
        let stamp = self.next_stamp(&mut nonce);
        let wire = self.sign_both(stamp, frame_type, id, payload, canonical_payload)?;
        self.next_seq = self.next_seq.checked_add(1).ok_or(SignError::InvalidSeq)?;
        Ok(wire)
    }

    /// [`sign_prepared`](Self::sign_prepared) with a given stamp, as
    /// [`sign_stamped`](Self::sign_stamped).
    ///
    /// # Errors
    ///
    /// [`SignError`] when the id, nonce, seq or payload is unusable.
    pub fn sign_prepared_stamped(
        &self,
        stamp: &Stamp,
        frame_type: &str,
        id: &str,
        payload: &[u8],
        canonical_payload: &[u8],
    ) -> Result<Bytes, SignError> {
        self.sign_both(stamp.borrowed(), frame_type, id, payload, canonical_payload)
    }

    /// [`sign_prepared_stamped`](Self::sign_prepared_stamped) with the stamp borrowed.
    fn sign_both(
        &self,
        stamp: StampRef<'_>,
        frame_type: &str,
        id: &str,
        payload: &[u8],
        canonical_payload: &[u8],
    ) -> Result<Bytes, SignError> {
        Self::check_stamp(stamp, id)?;
        for text in [payload, canonical_payload] {
            if text.first() != Some(&b'{') {
                return Err(SignError::PayloadNotObject);
            }
            if text.len() > self.limits.max_bytes {
                return Err(SignError::Payload(JsonError::TooLarge {
                    size: text.len(),
                    max: self.limits.max_bytes,
                }));
            }
        }
        Ok(self.write_signed(stamp, frame_type, id, canonical_payload, payload))
    }

    /// [`sign`](Self::sign) for a payload already in canonical form (the bytes
    /// [`canonicalize`](brainwire_core::canonicalize) writes for it, an object): the
    /// payload is neither parsed nor written again, and the same bytes go to the MAC and
    /// on the wire. For payloads the caller built canonically (a batch of events each
    /// canonicalized when queued). A payload that is not canonical is signed all the
    /// same, and every verifier refuses the frame: its MAC covers other bytes than theirs.
    ///
    /// # Errors
    ///
    /// [`SignError`] when the id is unusable; the seq is then not consumed.
    pub fn sign_canonical(
        &mut self,
        frame_type: &str,
        id: &str,
        canonical_payload: &[u8],
    ) -> Result<Bytes, SignError> {
        debug_assert_eq!(
            brainwire_core::canonicalize(canonical_payload, &self.limits).as_deref(),
            Ok(canonical_payload),
            "sign_canonical takes canonical payloads only"
        );
        self.sign_prepared(frame_type, id, canonical_payload, canonical_payload)
    }

    /// The MAC over the canonical envelope and the wire text, `payload` on the wire and
    /// `canonical` (its canonical form) in the MAC.
    ///
    /// The envelope's keys are fixed, so its canonical text is written in their sorted
    /// order directly: `agent_id, id, nonce, payload, project_id, seq, session_id, ts,
    /// type, v` (the verifier's general writer merges whatever keys a frame has). The
    /// strings (id, nonce, ts, type) are written once, there, and copied into the wire
    /// text, which is sized exactly so that `Bytes` takes it without another allocation.
    fn write_signed(
        &self,
        stamp: StampRef<'_>,
        frame_type: &str,
        id: &str,
        canonical: &[u8],
        payload: &[u8],
    ) -> Bytes {
        let mut seq_digits = [0u8; 20];
        let seq = decimal(stamp.seq, &mut seq_digits);

        let [agent_id, project_id, session_id] = &self.bound.members;
        let escaped = |text: &str, out: &mut Vec<u8>| {
            let start = out.len();
            write_string(text, out);
            start..out.len()
        };
        let mut envelope = Vec::with_capacity(512 + canonical.len().min(CHUNK_BYTES));
        let mut mac = self.secret.mac();
        envelope.push(b'{');
        envelope.extend_from_slice(&agent_id.1);
        envelope.extend_from_slice(br#","id":"#);
        let id = escaped(id, &mut envelope);
        envelope.extend_from_slice(br#","nonce":"#);
        let nonce = escaped(stamp.nonce, &mut envelope);
        envelope.extend_from_slice(br#","payload":"#);
        // What of the envelope has gone to the MAC already.
        let mut maced = 0;
        if canonical.len() > CHUNK_BYTES {
            // A large payload goes to the MAC as it is, not through the buffer.
            mac.update(&envelope);
            mac.update(canonical);
            maced = envelope.len();
        } else {
            envelope.extend_from_slice(canonical);
        }
        envelope.push(b',');
        envelope.extend_from_slice(&project_id.1);
        envelope.extend_from_slice(br#","seq":"#);
        envelope.extend_from_slice(seq);
        envelope.push(b',');
        envelope.extend_from_slice(&session_id.1);
        envelope.extend_from_slice(br#","ts":"#);
        let ts = {
            // A timestamp's text needs no escaping.
            let start = envelope.len();
            envelope.push(b'"');
            stamp.ts.write_text(&mut envelope);
            envelope.push(b'"');
            start..envelope.len()
        };
        envelope.extend_from_slice(br#","type":"#);
        let frame_type = escaped(frame_type, &mut envelope);
        envelope.extend_from_slice(br#","v":2}"#);
        mac.update(&envelope[maced..]);
        let tag: [u8; 32] = mac.finalize().into_bytes().into();

        let mut tag_text = [0; MAX_TAG_JSON];
        let parts: [&[u8]; 15] = [
            br#"{"v":2,"id":"#,
            &envelope[id],
            br#","ts":"#,
            &envelope[ts],
            br#","nonce":"#,
            &envelope[nonce],
            br#","seq":"#,
            seq,
            br#","hmac":"#,
            self.encoding.json(&tag, &mut tag_text),
            br#","type":"#,
            &envelope[frame_type],
            br#","payload":"#,
            payload,
            b"}",
        ];
        let mut wire = Vec::with_capacity(parts.iter().map(|part| part.len()).sum());
        for part in parts {
            wire.extend_from_slice(part);
        }
        Bytes::from(wire)
    }
}

/// The characters of a nonce the signer makes: 16 random bytes in unpadded base64.
const NONCE_CHARS: usize = 22;

/// A [`Stamp`] with its nonce borrowed: `sign` makes one per frame without allocating.
#[derive(Debug, Clone, Copy)]
struct StampRef<'a> {
    ts: Timestamp,
    nonce: &'a str,
    seq: u64,
}

impl Stamp {
    fn borrowed(&self) -> StampRef<'_> {
        StampRef {
            ts: self.ts,
            nonce: &self.nonce,
            seq: self.seq,
        }
    }
}

/// `n` in decimal, written at the end of `digits`.
fn decimal(mut n: u64, digits: &mut [u8; 20]) -> &[u8] {
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &digits[at..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_nonces_are_distinct_across_refills_and_clones() {
        let mut source = OsNonces::new();
        let mut seen = std::collections::HashSet::new();
        let mut nonce = [0u8; 16];
        for _ in 0..3 * OsNonces::BATCH {
            source.fill(&mut nonce);
            assert!(seen.insert(nonce), "a nonce came twice");
            // A clone made mid-buffer must not hand out the original's next nonces.
            let mut clone = source.clone();
            clone.fill(&mut nonce);
            assert!(seen.insert(nonce), "a clone repeated a nonce");
        }
        let mut fresh = OsNonces::default();
        fresh.fill(&mut nonce);
        assert_ne!(nonce, [0; 16], "a default source starts empty, not zeroed");
        assert!(seen.insert(nonce));
    }
}
