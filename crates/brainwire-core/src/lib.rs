//! The shared ground of the brainwire crates: canonical JSON exactly as the v2 reference
//! signs it, the wire's [`Timestamp`], the [`Limits`] every decoder applies, and
//! [`JsonObject`]/[`JsonValue`] for the open-ended members of frames, kept as exact text.
//!
//! This crate does no I/O. It turns bytes into bytes.
//!
//! # One parse
//!
//! A [`Tape`] parses a document once, under [`Limits`], into a flat list of nodes that
//! keep their wire text. Everything reads from it: the canonical writer
//! ([`Node::write_canonical`], chunked for a MAC with [`Node::write_canonical_chunked`]),
//! typed decoding with serde ([`Node::decode`], [`decode_by_type`]), and the verifier of
//! `brainwire-sign`, which keeps one tape per session so that a steady verify allocates
//! only what the typed frame owns.
//!
//! # Canonical JSON
//!
//! The v2 reference (`z4j-core` 1.13.0) signs `json.dumps(json.loads(wire),
//! sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)`. Python's
//! number and string model decides those bytes, so [`canonicalize`] reproduces it rather
//! than serializing a `serde_json::Value`:
//!
//! | input | Python's model | canonical |
//! |---|---|---|
//! | `-0`, `123456789012345678901234567890` | exact `int` | `0`, the same digits |
//! | `1E2`, `1e16`, `0.00001`, `1e15` | `float`, printed by `repr` | `100.0`, `1e+16`, `1e-05`, `1000000000000000.0` |
//! | `"\u00e9\u2028\/"` | `str` | raw UTF-8 except `"` `\` and U+0000..U+001F |
//! | `{"b":1,"a":2}` | `dict` | keys sorted by code point (UTF-8 byte order) |
//!
//! Where Python is loose, brainwire refuses with a typed [`JsonError`]:
//!
//! | input | Python | brainwire |
//! |---|---|---|
//! | `NaN`, `Infinity`, `1e400` | parses, then refuses to sign | [`JsonError::NonFiniteNumber`] |
//! | `{"a":1,"a":2}` | last key wins | [`JsonError::DuplicateKey`] (RFC 7493) |
//! | `"\ud800"` | parses, then cannot encode | [`JsonError::LoneSurrogate`] |
//! | UTF-8 BOM, UTF-16, UTF-32 | detected and decoded | [`JsonError::ByteOrderMark`], [`JsonError::NotUtf8`] |
//! | more than 4300 integer digits | refuses | [`JsonError::IntegerTooLong`] |
//! | deeper than [`Limits::max_depth`] (default 256) | ~990 levels | [`JsonError::TooDeep`] |
//!
//! ```
//! use brainwire_core::{canonicalize, Limits};
//!
//! let wire = br#"{"ts": 1746428308.9996243, "n": -0, "big": 18446744073709551616}"#;
//! let canonical = canonicalize(wire, &Limits::default())?;
//! assert_eq!(canonical, br#"{"big":18446744073709551616,"n":0,"ts":1746428308.9996243}"#);
//! # Ok::<(), brainwire_core::JsonError>(())
//! ```
//!
//! # Crate features
//!
//! None: this crate is always the same.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod canonical;
mod canonical_serializer;
pub mod check;
mod clock;
mod error;
mod fanout;
mod float_repr;
mod limits;
mod peek;
mod raw_json;
mod scan;
mod shape;
mod tape;
mod tape_serde;
mod timestamp;
mod value;

/// The shared byte buffer every encoder returns (from the `bytes` crate), named here so
/// that users need not depend on `bytes` to hold one.
pub use bytes::Bytes;
pub use canonical::{canonicalize, write_string};
pub use canonical_serializer::{canonicalize_value, write_canonical_value, RawTexts};
pub use clock::{Clock, SystemClock, WallClock};
pub use error::JsonError;
pub use fanout::Fanout;
pub use limits::{Limits, MAX_DEPTH_CEILING};
pub use peek::{decode_by_type, peek_type};
pub use raw_json::{JsonObject, JsonValue};
/// An exact JSON number (from `serde_json`), as run and channel payloads carry progress
/// and durations.
pub use serde_json::Number;
pub use shape::{FieldProblem, ShapeError, MAX_TYPE_CHARS_KEPT};
pub use tape::{Document, Items, Kind, Members, Node, Tape, MAX_DOCUMENT_BYTES};
pub use tape_serde::NodeError;
pub use timestamp::{Timestamp, TimestampError};

/// What the `canonical` fuzz target checks the tape's canonical writer against: the older
/// tree ([`testing::Value`]) and its own canonical writer. Not part of the stable API.
#[doc(hidden)]
pub mod testing {
    pub use crate::value::Value;
}
