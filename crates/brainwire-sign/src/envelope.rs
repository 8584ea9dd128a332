//! The signed envelope: what the MAC covers.

use brainwire_core::{write_string, Node};

use crate::ReplayFields;

/// The session a frame belongs to: bound into every MAC, never sent on the wire.
///
/// The reference binds `agent_id`, `project_id` and `session_id` so that a frame captured
/// in one session fails its MAC in any other, even though each session's seq and nonce
/// state starts empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionBinding {
    /// The authenticated agent's id (a UUID in the deployed brain).
    pub agent_id: String,
    /// The project the session belongs to.
    pub project_id: String,
    /// The session id from `hello_ack` (empty for the reference's legacy callers).
    pub session_id: String,
}

impl SessionBinding {
    /// A binding of the three ids.
    pub fn new(
        agent_id: impl Into<String>,
        project_id: impl Into<String>,
        session_id: impl Into<String>,
    ) -> Self {
        Self {
            agent_id: agent_id.into(),
            project_id: project_id.into(),
            session_id: session_id.into(),
        }
    }
}

/// The binding's three members as canonical JSON text (`"agent_id":"…"`, key and value
/// escaped), in key order: written once per signer or verifier rather than on every
/// frame.
#[derive(Debug, Clone)]
pub(crate) struct BoundText {
    /// `agent_id`, `project_id`, `session_id`: each key beside its member's text.
    pub(crate) members: [(&'static str, Box<[u8]>); 3],
}

impl BoundText {
    pub(crate) fn of(binding: &SessionBinding) -> Self {
        let member = |key: &'static str, value: &str| {
            let mut text = Vec::with_capacity(key.len() + value.len() + 5);
            write_string(key, &mut text);
            text.push(b':');
            write_string(value, &mut text);
            (key, text.into_boxed_slice())
        };
        Self {
            members: [
                member("agent_id", &binding.agent_id),
                member("project_id", &binding.project_id),
                member("session_id", &binding.session_id),
            ],
        }
    }
}

/// The envelope members of a received frame, found in one walk over its members (any
/// other member is ignored, as the reference ignores it). The verifier finds them once
/// and hands them to [`FrameSchema::decode`](crate::FrameSchema::decode), so a frame's
/// members are walked once for both the MAC's checks and the typed decode.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct EnvelopeFields<'t> {
    /// The whole frame, a JSON object.
    pub root: Node<'t>,
    /// `v`, the protocol version.
    pub v: Option<Node<'t>>,
    /// `type`.
    pub frame_type: Option<Node<'t>>,
    /// `id`.
    pub id: Option<Node<'t>>,
    /// `ts`.
    pub ts: Option<Node<'t>>,
    /// `nonce`.
    pub nonce: Option<Node<'t>>,
    /// `seq`.
    pub seq: Option<Node<'t>>,
    /// `hmac`.
    pub hmac: Option<Node<'t>>,
    /// `payload`.
    pub payload: Option<Node<'t>>,
}

impl<'t> EnvelopeFields<'t> {
    /// The envelope members of `root` (none when `root` is not an object).
    pub fn of(root: Node<'t>) -> Self {
        let mut fields = Self {
            root,
            v: None,
            frame_type: None,
            id: None,
            ts: None,
            nonce: None,
            seq: None,
            hmac: None,
            payload: None,
        };
        for (key, value) in root.members_in_wire_order() {
            let slot = match key {
                "v" => &mut fields.v,
                "type" => &mut fields.frame_type,
                "id" => &mut fields.id,
                "ts" => &mut fields.ts,
                "nonce" => &mut fields.nonce,
                "seq" => &mut fields.seq,
                "hmac" => &mut fields.hmac,
                "payload" => &mut fields.payload,
                _ => continue,
            };
            *slot = Some(value);
        }
        fields
    }

    /// What the replay rules read: `ts`, `nonce` and `seq`, where they have the right type.
    pub(crate) fn replay(&self) -> ReplayFields<'t> {
        ReplayFields {
            ts: self.ts.and_then(|n| n.as_str()),
            nonce: self.nonce.and_then(|n| n.as_str()),
            seq: self
                .seq
                .and_then(|n| n.as_integer())
                .and_then(|digits| digits.parse().ok()),
        }
    }
}

/// The keys that never reach the MAC from the wire: the tag itself, and the binding,
/// which the session supplies.
pub(crate) fn excluded(key: &str) -> bool {
    matches!(key, "hmac" | "agent_id" | "project_id" | "session_id")
}

/// How much canonical text is written before it is handed to the MAC: enough to keep
/// SHA-256 busy, small enough to stay in cache.
pub(crate) const CHUNK_BYTES: usize = 16 * 1024;

/// Writes the canonical envelope of a received frame (`root`): its members but the
/// [`excluded`] ones, merged with the session's binding (`bound`), without building
/// anything. The text goes through `buffer` to `sink` in chunks of about
/// [`CHUNK_BYTES`], so a MAC can take it without the whole text ever being held. (The
/// signer, whose envelope keys are fixed, writes its envelope in their sorted order
/// directly.)
pub(crate) fn write_envelope(
    root: Node<'_>,
    bound: &BoundText,
    buffer: &mut Vec<u8>,
    sink: &mut impl FnMut(&[u8]),
) {
    buffer.clear();
    let bound = bound
        .members
        .iter()
        .map(|(key, member)| (*key, &member[..]));
    root.write_canonical_merged(excluded, bound, buffer, CHUNK_BYTES, sink);
    sink(buffer);
    buffer.clear();
}
