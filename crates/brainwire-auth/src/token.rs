//! The bearer token of `auth.request`.

use std::fmt;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// An API key or authentication token: never empty, never printed by `Debug`, zeroized
/// on drop, compared in constant time (for tokens of the same length).
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(transparent)]
pub struct Token(String);

impl Token {
    /// A token; `None` when `value` is empty.
    pub fn new(value: impl Into<String>) -> Option<Self> {
        let value = value.into();
        (!value.is_empty()).then_some(Self(value))
    }

    /// The token's text; keep the borrow short.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn chars(&self) -> usize {
        self.0.chars().count()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([REDACTED])")
    }
}

impl PartialEq for Token {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Token {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_zeroize_and_compare_by_value() {
        fn zeroizes_on_drop<T: ZeroizeOnDrop>() {}
        zeroizes_on_drop::<Token>();
        let key = Token::new("api-key").unwrap();
        assert_eq!(key, Token::new("api-key").unwrap());
        assert_ne!(key, Token::new("api-kez").unwrap());
        assert_ne!(key, Token::new("api-key-longer").unwrap());
        assert_ne!(key, Token::new("api").unwrap());
        assert_eq!(format!("{key:?}"), "Token([REDACTED])");
    }
}
