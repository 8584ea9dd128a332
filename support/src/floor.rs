//! The MAC floor of a verifier: one HMAC-SHA256 over the bytes, with the key's state
//! prepared once and cloned per message (the cheapest way to MAC many messages under one
//! key).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// HMAC-SHA256 keyed once.
#[derive(Clone)]
pub struct KeyedMac(Hmac<Sha256>);

impl KeyedMac {
    /// The state keyed with `key`.
    pub fn new(key: &[u8]) -> Self {
        Self(Hmac::new_from_slice(key).expect("HMAC takes a key of any length"))
    }

    /// The tag of `bytes`.
    pub fn tag(&self, bytes: &[u8]) -> [u8; 32] {
        let mut mac = self.0.clone();
        mac.update(bytes);
        mac.finalize().into_bytes().into()
    }
}
