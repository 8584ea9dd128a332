//! HMAC secrets: how they are held, derived and decoded.

use std::fmt;

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// The fewest bytes a secret may have, as the reference requires.
pub const MIN_SECRET_BYTES: usize = 32;

/// Domain-separation label of the reference's `derive_project_secret`.
const PROJECT_SECRET_LABEL: &[u8] = b"z4j-project-secret-v1:";

/// An HMAC key of at least 32 bytes.
///
/// Zeroized on drop, printed as `[REDACTED]`, compared in constant time.
///
/// It also holds its HMAC state keyed once (the inner and outer pads absorbed), so that a
/// MAC per frame clones that state instead of keying again; the state is zeroized like
/// the bytes.
#[derive(Clone)]
pub struct Secret {
    bytes: Vec<u8>,
    keyed: Hmac<Sha256>,
}

impl Zeroize for Secret {
    fn zeroize(&mut self) {
        self.bytes.zeroize();
        // The replaced state zeroizes itself as it is dropped (`hmac`'s `zeroize`).
        self.keyed = keyed(&[]);
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // The keyed state zeroizes itself when dropped after this.
        self.bytes.zeroize();
    }
}

impl ZeroizeOnDrop for Secret {}

/// HMAC-SHA256 keyed with `key`.
fn keyed(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length")
}

/// Why a secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// Fewer than [`MIN_SECRET_BYTES`] bytes.
    #[error("secret has {len} bytes, fewer than 32")]
    TooShort {
        /// Bytes given.
        len: usize,
    },
    /// An empty (or all-whitespace) configured value.
    #[error("secret is empty")]
    Empty,
    /// A configured value that is not urlsafe base64.
    #[error("secret is not urlsafe base64")]
    NotBase64,
}

impl SecretError {
    /// A stable snake_case name for tools and logs.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "secret_too_short",
            Self::Empty => "secret_empty",
            Self::NotBase64 => "secret_not_base64",
        }
    }
}

impl Secret {
    /// Takes `bytes` as a secret.
    ///
    /// # Errors
    ///
    /// [`SecretError::TooShort`] below [`MIN_SECRET_BYTES`].
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, SecretError> {
        let bytes = bytes.into();
        if bytes.len() < MIN_SECRET_BYTES {
            let len = bytes.len();
            let mut bytes = bytes;
            bytes.zeroize();
            return Err(SecretError::TooShort { len });
        }
        let keyed = keyed(&bytes);
        Ok(Self { bytes, keyed })
    }

    /// The secret's bytes; keep the borrow short.
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// A MAC keyed with this secret. Its state (the key's inner and outer pads, as good
    /// as the key for forging) is zeroized when it is dropped (`sha2`'s `zeroize`).
    pub(crate) fn mac(&self) -> Hmac<Sha256> {
        self.keyed.clone()
    }

    /// The secret as urlsafe base64 with padding: the form the brain hands out.
    pub fn to_urlsafe_base64(&self) -> String {
        base64::engine::general_purpose::URL_SAFE.encode(&self.bytes)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.bytes.ct_eq(&other.bytes).into()
    }
}

impl Eq for Secret {}

/// The per-project signing secret the brain derives from its master secret:
/// `HMAC-SHA256(master, "z4j-project-secret-v1:" || project_id.bytes_le)`, as the
/// reference's `derive_project_secret` (the UUID's fields in little-endian order).
///
/// # Errors
///
/// [`SecretError::TooShort`] when `master` has fewer than 32 bytes.
pub fn derive_project_secret(master: &[u8], project_id: uuid::Uuid) -> Result<Secret, SecretError> {
    let master = Secret::new(master.to_vec())?;
    let mut mac = master.mac();
    mac.update(PROJECT_SECRET_LABEL);
    mac.update(&project_id.to_bytes_le());
    // The MAC state and its output zeroize themselves on drop; so does this copy.
    let derived = Zeroizing::new(<[u8; 32]>::from(mac.finalize().into_bytes()));
    Secret::new(derived.to_vec())
}

/// Decodes a configured agent `hmac_secret` (urlsafe base64, as the brain returns it on
/// agent creation), like the reference's `decode_agent_hmac_secret`: surrounding
/// whitespace is ignored and missing padding is restored.
///
/// Stricter than the reference, on purpose: `=` is accepted only as trailing padding (the
/// reference accepts it anywhere), non-canonical trailing bits are refused, and a value
/// that decodes to fewer than 32 bytes is refused here rather than at first use.
///
/// # Errors
///
/// [`SecretError::Empty`], [`SecretError::NotBase64`] or [`SecretError::TooShort`].
pub fn decode_agent_hmac_secret(value: &str) -> Result<Secret, SecretError> {
    let candidate = value.trim();
    if candidate.is_empty() {
        return Err(SecretError::Empty);
    }
    let unpadded = candidate
        .strip_suffix("==")
        .or_else(|| candidate.strip_suffix('='))
        .unwrap_or(candidate);
    let padding = candidate.len() - unpadded.len();
    let well_formed = unpadded
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    // Padding, when present, must complete the last quantum exactly.
    if !well_formed || (padding > 0 && !candidate.len().is_multiple_of(4)) {
        return Err(SecretError::NotBase64);
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(unpadded)
        .map_err(|_| SecretError::NotBase64)?;
    Secret::new(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_material_zeroizes_itself_on_drop() {
        fn zeroizes_on_drop<T: ZeroizeOnDrop>() {}
        zeroizes_on_drop::<Secret>();
        // A keyed `Hmac<Sha256>` is two of these (the inner and outer pad states, as good
        // as the key): without `sha2`'s `zeroize` feature this does not compile.
        zeroizes_on_drop::<<Sha256 as hmac::digest::block_api::CoreProxy>::Core>();
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(
            Secret::new(vec![0; 31]).unwrap_err(),
            SecretError::TooShort { len: 31 }
        );
        assert!(Secret::new(vec![0; 32]).is_ok());
    }

    #[test]
    fn debug_never_shows_the_bytes() {
        let secret = Secret::new(b"super-secret-value-that-is-long!".to_vec()).unwrap();
        assert_eq!(format!("{secret:?}"), "Secret([REDACTED])");
    }

    #[test]
    fn equality_compares_contents() {
        let a = Secret::new(vec![7; 32]).unwrap();
        assert_eq!(a, Secret::new(vec![7; 32]).unwrap());
        assert_ne!(a, Secret::new(vec![8; 32]).unwrap());
        assert_ne!(a, Secret::new(vec![7; 33]).unwrap());
    }

    #[test]
    fn decoding_restores_padding_and_refuses_garbage() {
        let secret = Secret::new((0u8..32).collect::<Vec<_>>()).unwrap();
        let padded = secret.to_urlsafe_base64();
        assert!(padded.ends_with('='));
        assert_eq!(decode_agent_hmac_secret(&padded).unwrap(), secret);
        assert_eq!(
            decode_agent_hmac_secret(padded.trim_end_matches('=')).unwrap(),
            secret
        );
        assert_eq!(
            decode_agent_hmac_secret(&format!("  {padded}\n")).unwrap(),
            secret
        );
        assert_eq!(decode_agent_hmac_secret("   "), Err(SecretError::Empty));
        assert_eq!(
            decode_agent_hmac_secret("abc$def"),
            Err(SecretError::NotBase64)
        );
        assert_eq!(
            decode_agent_hmac_secret("ab=cdefg"),
            Err(SecretError::NotBase64)
        );
        assert_eq!(
            decode_agent_hmac_secret("AAAAA"),
            Err(SecretError::NotBase64)
        );
        assert_eq!(
            decode_agent_hmac_secret("AAAA"),
            Err(SecretError::TooShort { len: 3 })
        );
    }
}
