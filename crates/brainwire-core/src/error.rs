//! Why a JSON document was refused.

/// A JSON document that brainwire will not parse or canonicalize.
///
/// Each variant says whose rule refused it: plain JSON syntax, the reference's own refusals
/// (non-finite numbers, over-long integers, lone surrogates) or brainwire's stricter rules
/// where Python is loose (duplicate keys, byte order marks).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// The bytes are not UTF-8. Python would also try UTF-16/32; brainwire refuses.
    #[error("document is not UTF-8 (valid up to byte {valid_up_to})")]
    NotUtf8 {
        /// Length of the longest valid UTF-8 prefix.
        valid_up_to: usize,
    },
    /// The document starts with a UTF-8 byte order mark. Python accepts it; brainwire
    /// refuses, as RFC 8259 allows.
    #[error("document starts with a byte order mark")]
    ByteOrderMark,
    /// Not JSON.
    #[error("malformed JSON at byte {offset}: {reason}")]
    Malformed {
        /// Byte offset where the parser gave up.
        offset: usize,
        /// What it expected.
        reason: &'static str,
    },
    /// `NaN`, `Infinity`, `-Infinity` or a float that overflows: the reference parses
    /// these and then refuses to sign them.
    #[error("non-finite number at byte {offset}")]
    NonFiniteNumber {
        /// Byte offset of the number.
        offset: usize,
    },
    /// An integer with more digits than the limit (CPython refuses more than 4300).
    #[error("integer at byte {offset} has {digits} digits, more than {max}")]
    IntegerTooLong {
        /// Byte offset of the number.
        offset: usize,
        /// Digits it has.
        digits: usize,
        /// Digits allowed.
        max: usize,
    },
    /// A `\u` escape that names half a surrogate pair: Python parses it and then cannot
    /// encode the canonical form as UTF-8.
    #[error("lone surrogate escape at byte {offset}")]
    LoneSurrogate {
        /// Byte offset of the escape.
        offset: usize,
    },
    /// An object names the same key twice. Python lets the last one win; brainwire refuses
    /// (RFC 7493), because the two sides could otherwise read different frames.
    #[error("duplicate key {key:?}")]
    DuplicateKey {
        /// The key, cut to at most 64 bytes.
        key: String,
    },
    /// Nested deeper than [`Limits::max_depth`](crate::Limits::max_depth).
    #[error("nesting deeper than {max}")]
    TooDeep {
        /// Depth allowed.
        max: usize,
    },
    /// A value that has no JSON text to canonicalize: its `Serialize` refused, a map key
    /// is not a string or an integer, or two members share a key
    /// ([`canonicalize_value`](crate::canonicalize_value)).
    #[error("value cannot be written as JSON: {reason}")]
    Unserializable {
        /// Why, cut to 128 bytes.
        reason: String,
    },
    /// Larger than [`Limits::max_bytes`](crate::Limits::max_bytes).
    #[error("document of {size} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Bytes received.
        size: usize,
        /// Bytes allowed.
        max: usize,
    },
}

impl JsonError {
    /// A stable snake_case name for tools and logs.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::NotUtf8 { .. } => "not_utf8",
            Self::ByteOrderMark => "byte_order_mark",
            Self::Malformed { .. } => "malformed_json",
            Self::NonFiniteNumber { .. } => "non_finite_number",
            Self::IntegerTooLong { .. } => "integer_too_long",
            Self::LoneSurrogate { .. } => "lone_surrogate",
            Self::DuplicateKey { .. } => "duplicate_key",
            Self::TooDeep { .. } => "too_deep",
            Self::Unserializable { .. } => "unserializable",
            Self::TooLarge { .. } => "too_large",
        }
    }
}
