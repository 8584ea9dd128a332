//! The signed envelope: what the MAC covers.

use std::borrow::Cow;

use brainwire_core::{write_members, Value};

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

/// Writes the canonical envelope of a parsed frame: its members without `hmac` and
/// without any wire copy of the binding keys, plus the session's binding, sorted.
pub(crate) fn write_envelope(
    members: &[(Cow<'_, str>, Value<'_>)],
    binding: &SessionBinding,
    out: &mut Vec<u8>,
) {
    let agent = Value::String(Cow::Borrowed(&binding.agent_id));
    let project = Value::String(Cow::Borrowed(&binding.project_id));
    let session = Value::String(Cow::Borrowed(&binding.session_id));
    let mut all: Vec<(&str, &Value<'_>)> = members
        .iter()
        .map(|(k, v)| (&**k, v))
        .filter(|(k, _)| !matches!(*k, "hmac" | "agent_id" | "project_id" | "session_id"))
        .collect();
    all.extend([
        ("agent_id", &agent),
        ("project_id", &project),
        ("session_id", &session),
    ]);
    all.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    write_members(all, out);
}
