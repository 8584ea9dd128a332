//! The frame: envelope fields plus one typed payload, and its decode, encode and sign.

use brainwire_core::Clock;
use brainwire_core::{
    write_canonical_value, Kind, Limits, Node, RawTexts, ShapeError, Tape, Timestamp,
};
use brainwire_sign::{EnvelopeFields, FrameKind, FrameSchema, FrameSigner, NonceSource, Stamp};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{DecodeError, EncodeError};
use brainwire_core::check::{chars, one};

/// Generates, from one row per frame type, everything that lists the frame types:
/// [`FrameType`] with its wire names, kinds and doc table, [`Payload`], and the decode
/// dispatch. Adding a v2 frame type is its payload file, one row here, and its tests.
macro_rules! frames {
    ($( $variant:ident($payload:ident) = $wire:literal, $form:ident, $direction:literal; )*) => {
        /// The frame types of v2: a closed set, since an unknown type is refused.
        ///
        /// | type | signed | direction | payload |
        /// |---|---|---|---|
        $(
            #[doc = concat!("| `", $wire, "` | ", signed_doc!($form), " | ", $direction, " | [`", stringify!($payload), "`](crate::", stringify!($payload), ") |")]
        )*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum FrameType {
            $(
                #[doc = concat!("`", $wire, "` (", signed_doc!($form), "signed)")]
                $variant,
            )*
        }

        impl FrameType {
            /// Every type, in the reference's order.
            pub const ALL: &'static [FrameType] = &[$(Self::$variant),*];

            /// The wire `type`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)*
                }
            }

            /// Whether frames of this type are signed (all but the handshake pair).
            pub const fn kind(self) -> FrameKind {
                match self {
                    $(Self::$variant => kind_of!($form),)*
                }
            }
        }

        /// The typed payload of a frame; its variant decides the wire `type`.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum Payload {
            $(
                #[doc = concat!("The payload of `", $wire, "`.")]
                $variant(crate::$payload),
            )*
        }

        impl Payload {
            /// The frame type this payload travels in.
            pub const fn frame_type(&self) -> FrameType {
                match self {
                    $(Self::$variant(_) => FrameType::$variant,)*
                }
            }

            /// Checks the reference's caps and bounds.
            ///
            /// # Errors
            ///
            /// [`ShapeError::Field`] (in [`DecodeError::Shape`]) naming the first field
            /// out of bounds.
            pub fn validate(&self) -> Result<(), DecodeError> {
                match self {
                    $(Self::$variant(p) => p.validate().map_err(DecodeError::Shape),)*
                }
            }
        }

        impl Serialize for Payload {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(Self::$variant(p) => p.serialize(serializer),)*
                }
            }
        }

        /// Decodes the frame of `frame_type` from its envelope members into exactly one
        /// struct.
        fn decode_one(
            frame_type: FrameType,
            fields: &EnvelopeFields<'_>,
        ) -> Result<Frame, DecodeError> {
            let envelope = Envelope(fields);
            match frame_type {
                $(FrameType::$variant => $form(envelope, Payload::$variant),)*
            }
        }
    };
}

/// The [`FrameKind`] of a decode form.
macro_rules! kind_of {
    (unsigned) => {
        FrameKind::Unsigned
    };
    (signed) => {
        FrameKind::Signed
    };
    (signed_or_default) => {
        FrameKind::Signed
    };
}

/// The "signed" column of the doc table: empty or "un".
macro_rules! signed_doc {
    (unsigned) => {
        "un"
    };
    (signed) => {
        ""
    };
    (signed_or_default) => {
        ""
    };
}

// The one list of v2 frame types: variant(payload struct) = wire type, decode form
// (`unsigned`, `signed`, or `signed_or_default` where the reference defaults a missing
// payload), direction.
frames! {
    Hello(Hello) = "hello", unsigned, "agent → brain";
    HelloAck(HelloAck) = "hello_ack", unsigned, "brain → agent";
    EventBatch(EventBatch) = "event_batch", signed, "agent → brain";
    EventBatchAck(EventBatchAck) = "event_batch_ack", signed, "brain → agent";
    Heartbeat(Heartbeat) = "heartbeat", signed, "agent → brain";
    Command(Command) = "command", signed, "brain → agent";
    CommandAck(CommandAck) = "command_ack", signed_or_default, "agent → brain";
    CommandResult(CommandResult) = "command_result", signed, "agent → brain";
    RegistryDelta(RegistryDelta) = "registry_delta", signed, "agent → brain";
    Error(ErrorReport) = "error", signed, "both";
    AgentStatus(AgentStatus) = "agent_status", signed, "agent → brain";
}

impl FrameType {
    /// The type named `name` on the wire, if v2 defines it.
    pub fn from_wire(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.as_str() == name)
    }
}

impl Payload {
    /// The payload's JSON text, every field written (optional ones as `null`), in the
    /// reference's field order.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("payloads serialize to JSON")
    }
}

/// The fields a signed frame carries besides its payload.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Signature {
    /// The nonce, at most 32 characters.
    pub nonce: String,
    /// The sequence number.
    pub seq: u64,
    /// The MAC as sent, at most 128 characters.
    pub hmac: String,
}

/// A v2 frame: `v: 2`, `id`, `ts`, the signature fields of signed types, and the payload.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Frame {
    /// The frame's id, 1 to 64 characters.
    pub id: String,
    /// When it was sent (`null` is allowed on the handshake frames).
    pub ts: Option<Timestamp>,
    /// `nonce`, `seq` and `hmac`, on signed types.
    pub signature: Option<Signature>,
    /// The typed payload.
    pub payload: Payload,
}

impl Frame {
    /// An unsigned-shaped frame (no ts, no signature): what [`encode`] sends for `hello`
    /// and `hello_ack`.
    pub fn new(id: impl Into<String>, payload: Payload) -> Self {
        Self {
            id: id.into(),
            ts: None,
            signature: None,
            payload,
        }
    }

    /// The frame's type.
    pub const fn frame_type(&self) -> FrameType {
        self.payload.frame_type()
    }
}

/// Decodes a frame under the default [`Limits`], without checking any signature.
///
/// A brain or agent receiving frames should use [`crate::FrameVerifier`], which checks
/// the MAC and replay rules before it decodes.
///
/// # Errors
///
/// [`DecodeError`], each naming its close code.
pub fn decode(wire: &[u8]) -> Result<Frame, DecodeError> {
    decode_with(wire, &Limits::default())
}

/// [`decode`] under `limits`.
///
/// # Errors
///
/// [`DecodeError`], each naming its close code.
pub fn decode_with(wire: &[u8], limits: &Limits) -> Result<Frame, DecodeError> {
    let mut tape = Tape::new();
    let root = tape.parse(wire, limits).map_err(ShapeError::Json)?.root();
    if root.kind() != Kind::Object {
        return Err(ShapeError::NotObject.into());
    }
    let fields = EnvelopeFields::of(root);
    // The version gate comes first, as in the verifier and the reference.
    if let Some(v) = fields.v.and_then(|v| v.as_integer()) {
        if v != "2" {
            return Err(DecodeError::UnsupportedVersion);
        }
    }
    let frame_type = fields
        .frame_type
        .and_then(|t| t.as_str())
        .ok_or(ShapeError::MissingType)?;
    let frame_type =
        FrameType::from_wire(frame_type).ok_or_else(|| ShapeError::unknown_type(frame_type))?;
    decode_checked(frame_type, &fields)
}

/// The envelope members of a frame ([`EnvelopeFields`], one walk), each decoded on its
/// own, with the same defaults and errors as a `#[derive(Deserialize)]` struct of them
/// would give, without serde's per-key dispatch: on a heartbeat, that dispatch was a third
/// of the typed decode.
#[derive(Clone, Copy)]
struct Envelope<'e, 't>(&'e EnvelopeFields<'t>);

impl Envelope<'_, '_> {
    /// The version (2 when absent), refused unless 2.
    fn check_version(&self) -> Result<(), DecodeError> {
        check_version(field_or(self.0.v, || 2)?)
    }

    fn id(&self) -> Result<String, DecodeError> {
        match self.0.id {
            Some(id) => field(id),
            None => Err(ShapeError::Schema(serde::de::Error::missing_field("id")).into()),
        }
    }

    fn ts(&self) -> Result<Option<Timestamp>, DecodeError> {
        field_or(self.0.ts, || None)
    }

    fn signature(&self) -> Result<Signature, DecodeError> {
        Ok(Signature {
            nonce: field_or(self.0.nonce, String::new)?,
            seq: field_or(self.0.seq, || 0)?,
            hmac: field_or(self.0.hmac, String::new)?,
        })
    }

    /// The payload, which must be present (a `null` one is refused by `P` itself).
    fn required_payload<P: DeserializeOwned>(&self) -> Result<P, DecodeError> {
        match self.0.payload {
            Some(payload) => field(payload),
            None => Err(ShapeError::Schema(serde::de::Error::missing_field("payload")).into()),
        }
    }

    /// The payload, `None` when absent or `null`.
    fn payload<P: DeserializeOwned>(&self) -> Result<Option<P>, DecodeError> {
        field_or(self.0.payload, || None)
    }
}

/// One member's typed value.
fn field<T: DeserializeOwned>(node: Node<'_>) -> Result<T, DecodeError> {
    Ok(one(node)?)
}

/// One member's typed value, or `default` when the member is absent.
fn field_or<T: DeserializeOwned>(
    node: Option<Node<'_>>,
    default: impl FnOnce() -> T,
) -> Result<T, DecodeError> {
    node.map_or_else(|| Ok(default()), field)
}

/// Decodes a frame already parsed under limits into exactly one struct, straight from the
/// tape, then checks the caps.
pub(crate) fn decode_checked(
    frame_type: FrameType,
    fields: &EnvelopeFields<'_>,
) -> Result<Frame, DecodeError> {
    let frame = decode_one(frame_type, fields)?;
    chars("id", &frame.id, 1, 64)?;
    if let Some(sig) = &frame.signature {
        chars("nonce", &sig.nonce, 0, 32)?;
        chars("hmac", &sig.hmac, 0, 128)?;
    }
    frame.payload.validate()?;
    Ok(frame)
}

fn check_version(v: u64) -> Result<(), DecodeError> {
    if v == 2 {
        Ok(())
    } else {
        Err(DecodeError::UnsupportedVersion)
    }
}

fn unsigned<P: DeserializeOwned>(
    envelope: Envelope<'_, '_>,
    wrap: fn(P) -> Payload,
) -> Result<Frame, DecodeError> {
    envelope.check_version()?;
    let id = envelope.id()?;
    let ts = envelope.ts()?;
    Ok(Frame {
        id,
        ts,
        signature: None,
        payload: wrap(envelope.required_payload()?),
    })
}

fn signed<P: DeserializeOwned>(
    envelope: Envelope<'_, '_>,
    wrap: fn(P) -> Payload,
) -> Result<Frame, DecodeError> {
    envelope.check_version()?;
    let (id, ts, signature) = (envelope.id()?, envelope.ts()?, envelope.signature()?);
    let payload = envelope
        .payload()?
        .ok_or_else(|| ShapeError::Schema(serde::de::Error::missing_field("payload")))?;
    Ok(Frame {
        id,
        ts,
        signature: Some(signature),
        payload: wrap(payload),
    })
}

/// `command_ack` alone has a default payload in the reference.
fn signed_or_default<P: DeserializeOwned + Default>(
    envelope: Envelope<'_, '_>,
    wrap: fn(P) -> Payload,
) -> Result<Frame, DecodeError> {
    envelope.check_version()?;
    let (id, ts, signature) = (envelope.id()?, envelope.ts()?, envelope.signature()?);
    Ok(Frame {
        id,
        ts,
        signature: Some(signature),
        payload: wrap(envelope.payload()?.unwrap_or_default()),
    })
}

/// The wire form written by [`encode`], in the reference's field order.
#[derive(Serialize)]
struct WireOut<'a> {
    v: u8,
    id: &'a str,
    ts: Option<&'a Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hmac: Option<&'a str>,
    #[serde(rename = "type")]
    frame_type: &'static str,
    payload: &'a Payload,
}

/// Encodes a frame as it stands: `hello`/`hello_ack` as sent, or a signed frame with the
/// signature fields it carries. To sign a frame, use [`sign`].
pub fn encode(frame: &Frame) -> Bytes {
    let sig = frame.signature.as_ref();
    let out = WireOut {
        v: 2,
        id: &frame.id,
        ts: frame.ts.as_ref(),
        nonce: sig.map(|s| s.nonce.as_str()),
        seq: sig.map(|s| s.seq),
        hmac: sig.map(|s| s.hmac.as_str()),
        frame_type: frame.frame_type().as_str(),
        payload: &frame.payload,
    };
    Bytes::from(serde_json::to_vec(&out).expect("frames serialize to JSON"))
}

/// Signs `payload` as a frame with `id`, stamping `ts`, nonce and seq from `signer`.
///
/// The payload's canonical form is written once from the typed payload, and that same
/// text is sent: members in key order, as the reference accepts them in any order. A
/// payload holding JSON text received from a peer or given as text (a
/// [`JsonObject`](brainwire_core::JsonObject) not built by
/// [`JsonObject::from_serialize`](brainwire_core::JsonObject::from_serialize)) is sent in the reference's field order
/// with that text exactly as held, and its canonical form goes to the MAC alone.
///
/// # Errors
///
/// [`EncodeError::Unsigned`] for `hello`/`hello_ack`, [`EncodeError::Invalid`] when the
/// payload breaks a cap the peer would refuse, [`EncodeError::Sign`] for a bad id.
pub fn sign<C: Clock, N: NonceSource>(
    signer: &mut FrameSigner<C, N>,
    id: &str,
    payload: &Payload,
) -> Result<Bytes, EncodeError> {
    let prepared = Prepared::of(payload)?;
    signer
        .sign_prepared(
            prepared.frame_type,
            id,
            prepared.wire(),
            &prepared.canonical,
        )
        .map_err(EncodeError::Sign)
}

/// Signs with a given stamp (conformance vectors, exact re-sends); the signer's counter
/// is left alone.
///
/// # Errors
///
/// As [`sign`].
pub fn sign_stamped<C: Clock, N: NonceSource>(
    signer: &FrameSigner<C, N>,
    stamp: &Stamp,
    id: &str,
    payload: &Payload,
) -> Result<Bytes, EncodeError> {
    let prepared = Prepared::of(payload)?;
    signer
        .sign_prepared_stamped(
            stamp,
            prepared.frame_type,
            id,
            prepared.wire(),
            &prepared.canonical,
        )
        .map_err(EncodeError::Sign)
}

/// A payload ready to sign: its canonical form, written from the typed payload (nothing
/// is parsed; task events built with
/// [`JsonObject::from_serialize`](brainwire_core::JsonObject::from_serialize) are copied),
/// and its wire text where that must differ.
struct Prepared {
    frame_type: &'static str,
    canonical: Vec<u8>,
    /// The reference's field order with every held JSON text as it is, when the
    /// canonical form respelled one (text received from a peer, or given as text).
    /// Otherwise the canonical form is sent: one pass writes what is MACed and sent.
    respelled: Option<Vec<u8>>,
}

impl Prepared {
    fn of(payload: &Payload) -> Result<Self, EncodeError> {
        let frame_type = payload.frame_type();
        if frame_type.kind() == FrameKind::Unsigned {
            return Err(EncodeError::Unsigned {
                frame_type: frame_type.as_str(),
            });
        }
        payload.validate().map_err(EncodeError::Invalid)?;
        let mut canonical = Vec::with_capacity(256);
        let raw = write_canonical_value(payload, &Limits::default(), &mut canonical)
            .map_err(|e| EncodeError::Sign(brainwire_sign::SignError::Payload(e)))?;
        Ok(Self {
            frame_type: frame_type.as_str(),
            canonical,
            respelled: (raw == RawTexts::Respelled).then(|| payload.to_json()),
        })
    }

    fn wire(&self) -> &[u8] {
        self.respelled.as_deref().unwrap_or(&self.canonical)
    }
}

/// The v2 protocol as a [`FrameSchema`]: plugs the typed frames into
/// [`brainwire_sign::FrameVerifier`].
#[derive(Debug, Clone, Copy)]
pub enum V2 {}

impl FrameSchema for V2 {
    type Frame = Frame;
    type Error = DecodeError;
    type FrameType = FrameType;
    const VERSION: u64 = 2;

    fn frame_type(name: &str) -> Option<FrameType> {
        FrameType::from_wire(name)
    }

    fn kind(frame_type: FrameType) -> FrameKind {
        frame_type.kind()
    }

    fn decode(frame_type: FrameType, fields: &EnvelopeFields<'_>) -> Result<Frame, DecodeError> {
        decode_checked(frame_type, fields)
    }
}
