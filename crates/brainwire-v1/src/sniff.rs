//! Which protocol a connection speaks, from its first frame.

use serde::Deserialize;

/// The protocol a first frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolVersion {
    /// A v1 `hello` (`"type": "hello"`, `"protocol": "v1"`).
    V1,
    /// A v2 frame (`"v": 2`).
    V2,
    /// Neither.
    Unknown,
}

impl ProtocolVersion {
    /// A stable name: `v1`, `v2` or `unknown`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
            Self::Unknown => "unknown",
        }
    }
}

/// Says which protocol a connection's first frame speaks, reading only the top-level
/// `type`, `protocol` and `v` (other members are skipped, not decoded), so a server can
/// route the connection or close it with the right code: 4001 on a v1 endpoint, 4426 on a
/// v2 one.
///
/// ```
/// use brainwire_v1::{sniff, ProtocolVersion};
/// assert_eq!(sniff(br#"{"type":"hello","protocol":"v1","agent_name":"a"}"#), ProtocolVersion::V1);
/// assert_eq!(sniff(br#"{"v":2,"id":"h","type":"hello","payload":{}}"#), ProtocolVersion::V2);
/// assert_eq!(sniff(b"GET / HTTP/1.1"), ProtocolVersion::Unknown);
/// ```
pub fn sniff(first_frame: &[u8]) -> ProtocolVersion {
    #[derive(Deserialize)]
    struct Peek<'a> {
        #[serde(rename = "type", borrow, default)]
        frame_type: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow, default)]
        protocol: Option<std::borrow::Cow<'a, str>>,
        #[serde(default)]
        v: Option<serde_json::Number>,
    }
    let Ok(peek) = serde_json::from_slice::<Peek<'_>>(first_frame) else {
        return ProtocolVersion::Unknown;
    };
    if peek.v.as_ref().and_then(serde_json::Number::as_u64) == Some(2) {
        ProtocolVersion::V2
    } else if peek.frame_type.as_deref() == Some("hello") && peek.protocol.as_deref() == Some("v1")
    {
        ProtocolVersion::V1
    } else {
        ProtocolVersion::Unknown
    }
}
