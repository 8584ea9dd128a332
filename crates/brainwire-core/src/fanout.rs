//! Encode once, fan out: what every broadcasting side of the family hands its server.

use bytes::Bytes;

/// A message serialized once, and every connection it goes to: send the same `Bytes`
/// (a reference-counted buffer, cloned without copying) to each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fanout<C> {
    /// The encoded message, shared by all recipients.
    pub bytes: Bytes,
    /// Who gets it.
    pub recipients: Vec<C>,
}
