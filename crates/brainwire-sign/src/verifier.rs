//! The verifier of one direction of one session.

use std::marker::PhantomData;

use brainwire_core::{JsonError, Kind, Limits, Tape, Timestamp, MAX_TYPE_CHARS_KEPT};

use hmac::Mac as _;

use crate::envelope::{write_envelope, BoundText, EnvelopeFields, CHUNK_BYTES};
use crate::{mac, MacEncoding, ReplayError, ReplayGuard, Secret, SessionBinding};

/// Whether a frame type is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// Carries `nonce`, `seq` and `hmac`; verified and replay-checked.
    Signed,
    /// A handshake frame (`hello`, `hello_ack`): no key is agreed yet.
    Unsigned,
}

/// What a protocol crate tells the verifier about its frames.
///
/// `brainwire-v2` implements this for its `Frame`; the verifier does the rest.
pub trait FrameSchema {
    /// The typed frame a successful verify returns.
    type Frame;

    /// Why the typed decode refused a frame (the protocol crate's own error).
    type Error: std::error::Error + Send + Sync + 'static;

    /// The protocol's frame types, looked up once per frame from the wire `type`.
    type FrameType: Copy;

    /// The protocol version in the `v` field.
    const VERSION: u64;

    /// The type named `name` on the wire, if this protocol defines it.
    fn frame_type(name: &str) -> Option<Self::FrameType>;

    /// Whether frames of `frame_type` are signed.
    fn kind(frame_type: Self::FrameType) -> FrameKind;

    /// Decodes and validates the whole frame (caps, required fields) from its envelope
    /// members, found by the verifier's one walk over the parsed frame
    /// ([`Node::decode`](brainwire_core::Node::decode) reads any of them with serde without
    /// a second parse).
    ///
    /// # Errors
    ///
    /// The protocol crate's decode error.
    fn decode(
        frame_type: Self::FrameType,
        fields: &EnvelopeFields<'_>,
    ) -> Result<Self::Frame, Self::Error>;
}

/// The current secret and, during a rotation, the previous ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyring {
    keys: Vec<Secret>,
}

/// Which key of a [`Keyring`] verified a frame: 0 is the current one, 1 the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub usize);

impl KeyId {
    /// Whether the current key matched (rather than one kept for a rotation).
    pub const fn is_current(self) -> bool {
        self.0 == 0
    }
}

impl Keyring {
    /// A keyring holding only `current`.
    pub fn new(current: Secret) -> Self {
        Self {
            keys: vec![current],
        }
    }

    /// Also accepts frames signed with `previous` (tried after the keys already held).
    #[must_use]
    pub fn with_previous(mut self, previous: Secret) -> Self {
        self.keys.push(previous);
        self
    }

    /// Makes `next` the current key, keeping at most `keep_previous` older ones.
    pub fn rotate(&mut self, next: Secret, keep_previous: usize) {
        self.keys.insert(0, next);
        self.keys.truncate(keep_previous + 1);
    }

    /// The keys, current first.
    pub fn keys(&self) -> &[Secret] {
        &self.keys
    }
}

impl From<Secret> for Keyring {
    fn from(secret: Secret) -> Self {
        Self::new(secret)
    }
}

/// A frame that passed verification.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Verified<F> {
    /// The typed frame.
    pub frame: F,
    /// The key that verified it; `None` for an unsigned handshake frame.
    pub key: Option<KeyId>,
}

/// Why a frame was refused; `E` is the schema's own decode error
/// ([`FrameSchema::Error`]).
///
/// This crate knows no close codes: [`refusal`](Self::refusal) sorts each error into the
/// three classes a protocol maps to its own codes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError<E> {
    /// The bytes are not JSON brainwire accepts.
    #[error("frame is not acceptable JSON")]
    Json(#[source] JsonError),
    /// JSON, but not an object.
    #[error("frame is not a JSON object")]
    NotObject,
    /// `v` is present but not an integer (the reference treats this as malformed).
    #[error("frame version is not an integer")]
    InvalidVersion,
    /// A signed frame without `v`.
    #[error("signed frame has no version")]
    MissingVersion,
    /// `v` is an integer other than the supported version.
    #[error("unsupported frame version {found}")]
    UnsupportedVersion {
        /// The version sent (cut to 20 characters).
        found: String,
    },
    /// No string `type`.
    #[error("frame has no type")]
    MissingType,
    /// A `type` this protocol does not define.
    #[error("unknown frame type {found:?}")]
    UnknownType {
        /// The type sent (cut to [`MAX_TYPE_CHARS_KEPT`] characters).
        found: String,
    },
    /// A signed frame whose `payload` is neither an object nor absent.
    #[error("signed frame payload is not an object")]
    PayloadNotObject,
    /// A signed frame with no (or an empty) `hmac`.
    #[error("signed frame has no hmac")]
    MissingSignature,
    /// The `hmac` is malformed or matches no key.
    #[error("hmac does not match")]
    BadSignature,
    /// A validly signed frame that breaks a replay rule.
    #[error("replay check failed")]
    Replay(#[source] ReplayError),
    /// A frame whose fields break the protocol's schema (types, caps, required fields).
    #[error("invalid frame")]
    InvalidFrame(#[source] E),
}

/// The class of a [`VerifyError`], for a protocol to map to its close code.
///
/// Exhaustive on purpose: a new class must make every protocol's mapping fail to compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// The frame is malformed (JSON, envelope or schema).
    Malformed,
    /// The frame asks for a protocol version this verifier does not speak.
    UnsupportedVersion,
    /// The frame could not be authenticated: a missing or wrong MAC, or a replay.
    Unauthenticated,
}

impl<E> VerifyError<E> {
    /// A stable snake_case name for tools and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Json(e) => e.kind(),
            Self::NotObject => "not_object",
            Self::InvalidVersion => "invalid_version",
            Self::MissingVersion => "missing_version",
            Self::UnsupportedVersion { .. } => "unsupported_version",
            Self::MissingType => "missing_type",
            Self::UnknownType { .. } => "unknown_type",
            Self::PayloadNotObject => "payload_not_object",
            Self::MissingSignature => "missing_signature",
            Self::BadSignature => "bad_signature",
            Self::Replay(e) => e.kind(),
            Self::InvalidFrame(_) => "invalid_frame",
        }
    }

    /// Which class of refusal this is.
    pub fn refusal(&self) -> Refusal {
        match self {
            Self::UnsupportedVersion { .. } => Refusal::UnsupportedVersion,
            Self::MissingSignature | Self::BadSignature | Self::Replay(_) => {
                Refusal::Unauthenticated
            }
            Self::Json(_)
            | Self::NotObject
            | Self::InvalidVersion
            | Self::MissingVersion
            | Self::MissingType
            | Self::UnknownType { .. }
            | Self::PayloadNotObject
            | Self::InvalidFrame(_) => Refusal::Malformed,
        }
    }
}

/// Verifies the inbound frames of one direction of one session.
///
/// Order of checks, each refusing with its own [`VerifyError`]: JSON (with [`Limits`]) →
/// object → version gate → known type → unsigned handshake, or the signed path: MAC over
/// the canonical envelope, constant time, with each key of the [`Keyring`] → replay rules
/// (checked only) → typed validation → replay state committed. Nothing changes unless the
/// frame is accepted whole, and no replay state is touched before the MAC verifies.
///
/// The verifier never reads a clock: `now` is an argument.
pub struct FrameVerifier<S> {
    keys: Keyring,
    binding: SessionBinding,
    bound: BoundText,
    encoding: MacEncoding,
    limits: Limits,
    guard: ReplayGuard,
    /// Canonical text on its way to the MAC.
    buffer: Vec<u8>,
    tape: Tape,
    schema: PhantomData<fn() -> S>,
}

impl<S> std::fmt::Debug for FrameVerifier<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameVerifier")
            .field("keys", &self.keys)
            .field("binding", &self.binding)
            .field("encoding", &self.encoding)
            .field("limits", &self.limits)
            .field("last_seq", &self.guard.last_seq())
            .finish_non_exhaustive()
    }
}

impl<S: FrameSchema> FrameVerifier<S> {
    /// A verifier for the session `binding`, accepting MACs made with any key of `keys`.
    pub fn new(keys: impl Into<Keyring>, binding: SessionBinding) -> Self {
        Self {
            keys: keys.into(),
            bound: BoundText::of(&binding),
            binding,
            encoding: MacEncoding::default(),
            limits: Limits::default(),
            guard: ReplayGuard::default(),
            buffer: Vec::new(),
            tape: Tape::new(),
            schema: PhantomData,
        }
    }

    /// Expects MACs in `encoding` (lowercase hex by default).
    #[must_use]
    pub fn mac_encoding(mut self, encoding: MacEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Applies `limits` to every frame.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Uses `guard` (for example with a non-default [`crate::ReplayConfig`]).
    #[must_use]
    pub fn replay_guard(mut self, guard: ReplayGuard) -> Self {
        self.guard = guard;
        self
    }

    /// The replay guard's state.
    pub fn guard(&self) -> &ReplayGuard {
        &self.guard
    }

    /// The session this verifier is bound to.
    pub fn binding(&self) -> &SessionBinding {
        &self.binding
    }

    /// Verifies a frame received at `now`: signature, schema and replay rules, then
    /// records it.
    ///
    /// # Errors
    ///
    /// The first check the frame fails; the verifier's state is then unchanged.
    pub fn verify(
        &mut self,
        wire: &[u8],
        now: Timestamp,
    ) -> Result<Verified<S::Frame>, VerifyError<S::Error>> {
        self.run(wire, Some(now))
    }

    /// Verifies signature and schema only, without replay rules or state: for
    /// conformance tools and for inspecting frames out of band.
    ///
    /// # Errors
    ///
    /// The first check the frame fails.
    pub fn authenticate(
        &mut self,
        wire: &[u8],
    ) -> Result<Verified<S::Frame>, VerifyError<S::Error>> {
        self.run(wire, None)
    }

    fn run(
        &mut self,
        wire: &[u8],
        now: Option<Timestamp>,
    ) -> Result<Verified<S::Frame>, VerifyError<S::Error>> {
        let root = self
            .tape
            .parse(wire, &self.limits)
            .map_err(VerifyError::Json)?
            .root();
        if root.kind() != Kind::Object {
            return Err(VerifyError::NotObject);
        }
        let fields = EnvelopeFields::of(root);
        let version = fields.v;
        match version {
            None => {}
            Some(v) => match v.as_integer() {
                Some(v) if v.parse::<u64>().ok() == Some(S::VERSION) => {}
                Some(v) => {
                    return Err(VerifyError::UnsupportedVersion {
                        found: v.chars().take(20).collect(),
                    })
                }
                None => return Err(VerifyError::InvalidVersion),
            },
        }
        let name = fields
            .frame_type
            .and_then(|t| t.as_str())
            .ok_or(VerifyError::MissingType)?;
        let frame_type = S::frame_type(name).ok_or_else(|| VerifyError::UnknownType {
            found: name.chars().take(MAX_TYPE_CHARS_KEPT).collect(),
        })?;
        if S::kind(frame_type) == FrameKind::Unsigned {
            let frame = S::decode(frame_type, &fields).map_err(VerifyError::InvalidFrame)?;
            return Ok(Verified { frame, key: None });
        }
        if version.is_none() {
            return Err(VerifyError::MissingVersion);
        }
        if !fields
            .payload
            .is_none_or(|p| matches!(p.kind(), Kind::Null | Kind::Object))
        {
            return Err(VerifyError::PayloadNotObject);
        }
        let tag = match fields.hmac {
            None => return Err(VerifyError::MissingSignature),
            Some(hmac) if hmac.is_null() => return Err(VerifyError::MissingSignature),
            Some(hmac) => match hmac.as_str() {
                Some("") => return Err(VerifyError::MissingSignature),
                Some(s) => self.encoding.decode(s).ok_or(VerifyError::BadSignature)?,
                None => return Err(VerifyError::BadSignature),
            },
        };

        // The canonical envelope streams into the MAC through a small buffer; during a
        // rotation each older key takes another pass, only when the newer ones fail.
        // A member larger than a chunk grows the buffer for one frame; give it back.
        self.buffer.shrink_to(2 * CHUNK_BYTES);
        let (bound, buffer) = (&self.bound, &mut self.buffer);
        let key = self
            .keys
            .keys()
            .iter()
            .position(|secret| {
                mac::matches(secret, &tag, |mac| {
                    write_envelope(root, bound, buffer, &mut |c| mac.update(c));
                })
            })
            .map(KeyId)
            .ok_or(VerifyError::BadSignature)?;

        let ticket = match now {
            Some(now) => Some(
                self.guard
                    .check(fields.replay(), now)
                    .map_err(VerifyError::Replay)?,
            ),
            None => None,
        };
        let frame = S::decode(frame_type, &fields).map_err(VerifyError::InvalidFrame)?;
        if let (Some(ticket), Some(now)) = (ticket, now) {
            self.guard.commit(ticket, now);
        }
        Ok(Verified {
            frame,
            key: Some(key),
        })
    }
}
