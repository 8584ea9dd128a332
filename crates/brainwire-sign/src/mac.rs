//! How the MAC is written on the wire, and checked.

use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use crate::Secret;

/// How the 32-byte MAC is written in the frame's `hmac` field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MacEncoding {
    /// 64 lowercase hex digits: what the reference writes and accepts (the default).
    #[default]
    LowercaseHex,
    /// Standard base64 with padding: what document 001 says, for peers that follow it
    /// literally. The reference refuses it.
    Base64,
}

impl MacEncoding {
    /// `tag` in this encoding as a JSON string (neither encoding has a character to
    /// escape), written into `text`.
    pub(crate) fn json<'t>(self, tag: &[u8; 32], text: &'t mut [u8; MAX_TAG_JSON]) -> &'t [u8] {
        let digits = match self {
            Self::LowercaseHex => {
                // By hand: `hex::encode` pushes one `char` at a time into a `String` of
                // its own, a twentieth of signing a heartbeat.
                const DIGITS: &[u8; 16] = b"0123456789abcdef";
                for (pair, byte) in text[1..].chunks_exact_mut(2).zip(tag) {
                    pair[0] = DIGITS[usize::from(byte >> 4)];
                    pair[1] = DIGITS[usize::from(byte & 0xf)];
                }
                2 * tag.len()
            }
            Self::Base64 => base64::engine::general_purpose::STANDARD
                .encode_slice(tag, &mut text[1..])
                .expect("64 characters hold 32 bytes in base64"),
        };
        text[0] = b'"';
        text[digits + 1] = b'"';
        &text[..digits + 2]
    }

    /// Reads a tag written in this encoding; `None` when it is not one.
    ///
    /// Hex must be lowercase: the reference compares the hex strings, so an uppercase MAC
    /// fails there and must fail here too.
    pub(crate) fn decode(self, text: &str) -> Option<[u8; 32]> {
        let mut tag = [0u8; 32];
        match self {
            Self::LowercaseHex => {
                if text.len() != 64 {
                    return None;
                }
                let mut invalid = 0;
                for (byte, pair) in tag.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
                    let (high, low) = (
                        HEX_VALUE[usize::from(pair[0])],
                        HEX_VALUE[usize::from(pair[1])],
                    );
                    invalid |= high | low;
                    *byte = high << 4 | low;
                }
                if invalid == 0xFF {
                    return None;
                }
            }
            Self::Base64 => {
                if text.len() != 44 {
                    return None;
                }
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .ok()?;
                tag = bytes.try_into().ok()?;
            }
        }
        Some(tag)
    }
}

/// The longest tag as a JSON string: 64 hex digits and two quotes.
pub(crate) const MAX_TAG_JSON: usize = 66;

/// Each byte's value as a lowercase hex digit, or 0xFF. A table rather than branches: MAC
/// digits are random, so branching on digit or letter mispredicts about every third digit
/// (that, and `hex::decode_to_slice` taking uppercase, which the reference refuses).
const HEX_VALUE: [u8; 256] = {
    let mut table = [0xFF; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// Whether `tag` is the MAC under `secret` of what `feed` gives it, compared in constant
/// time.
pub(crate) fn matches(
    secret: &Secret,
    tag: &[u8; 32],
    feed: impl FnOnce(&mut Hmac<Sha256>),
) -> bool {
    let mut mac = secret.mac();
    feed(&mut mac);
    mac.verify_slice(tag).is_ok()
}
