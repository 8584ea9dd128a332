//! The parser: one pass over a document into a flat tape of nodes, in the reference's
//! data model.
//!
//! A [`Tape`] is reused from document to document, so that steady-state parsing allocates
//! nothing: nodes are 16 bytes in one `Vec`, strings and integers are spans of the input,
//! and only strings holding escapes are decoded (into one shared buffer). Objects keep
//! their members in wire order; an object whose keys are not already sorted gets a sorted
//! index of its members, which is also where duplicate keys are found.

mod canonical;
mod entry;
mod iter;
mod node;
mod parser;
#[cfg(test)]
mod tests;

pub use entry::MAX_DOCUMENT_BYTES;
use entry::*;
use iter::Order;
pub use iter::{Items, Members};
pub use node::{Kind, Node};
use parser::Parser;

use crate::{JsonError, Limits};

/// A reusable parse buffer: [`Tape::parse`] a document into it, read it through the
/// returned [`Document`], parse the next one.
///
/// ```
/// use brainwire_core::{Limits, Tape};
///
/// let mut tape = Tape::new();
/// let doc = tape.parse(br#"{"type":"heartbeat","seq":7,"payload":{"b":1.5,"a":null}}"#, &Limits::default())?;
/// let root = doc.root();
/// assert_eq!(root.get("type").and_then(|t| t.as_str()), Some("heartbeat"));
/// assert_eq!(root.get("seq").and_then(|s| s.as_integer()), Some("7"));
/// let mut canonical = Vec::new();
/// root.write_canonical(&mut canonical);
/// assert_eq!(canonical, br#"{"payload":{"a":null,"b":1.5},"seq":7,"type":"heartbeat"}"#);
/// # Ok::<(), brainwire_core::JsonError>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct Tape {
    entries: Vec<Entry>,
    decoded: String,
    order: Vec<u32>,
}

impl Tape {
    /// An empty tape.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a whole document under `limits`, replacing what the tape held.
    ///
    /// # Errors
    ///
    /// Any [`JsonError`]: not UTF-8, a byte order mark, malformed JSON, a non-finite
    /// number, an over-long integer, a lone surrogate, a duplicate key, too deep or too
    /// large.
    pub fn parse<'t>(
        &'t mut self,
        input: &'t [u8],
        limits: &Limits,
    ) -> Result<Document<'t>, JsonError> {
        self.release_oversized();
        self.entries.clear();
        self.decoded.clear();
        self.order.clear();
        if input.len() > limits.max_bytes {
            return Err(JsonError::TooLarge {
                size: input.len(),
                max: limits.max_bytes,
            });
        }
        if input.len() > MAX_DOCUMENT_BYTES {
            return Err(JsonError::TooLarge {
                size: input.len(),
                max: MAX_DOCUMENT_BYTES,
            });
        }
        if input.starts_with(b"\xEF\xBB\xBF") {
            return Err(JsonError::ByteOrderMark);
        }
        let text = simdutf8::compat::from_utf8(input).map_err(|e| JsonError::NotUtf8 {
            valid_up_to: e.valid_up_to(),
        })?;
        // Room for a frame's worth of nodes up front (task events take about one per 14
        // bytes), so that a first large frame does not double its way there.
        self.entries.reserve(input.len() / 12);
        let mut parser = Parser {
            text,
            bytes: input,
            pos: 0,
            depth_left: limits.effective_depth(),
            limits,
            tape: self,
        };
        parser.skip_ws();
        parser.value()?;
        parser.skip_ws();
        if parser.pos != input.len() {
            return Err(parser.malformed("trailing characters"));
        }
        Ok(Document { tape: self, text })
    }
}

impl Tape {
    /// Frees buffers a pathological document grew past [`RETAINED_ENTRIES`], so that a
    /// long-lived tape (one per session) does not keep the worst case it ever saw.
    fn release_oversized(&mut self) {
        if self.entries.capacity() > RETAINED_ENTRIES {
            *self = Self::default();
        }
    }
}

/// Nodes a tape keeps room for between documents: 2 MiB of them, enough for a realistic
/// frame at the default 1 MiB limit (a 271 KB batch of 500 task events takes about
/// 30,000); past that the next parse starts afresh.
const RETAINED_ENTRIES: usize = 128 * 1024;

/// A document parsed into a [`Tape`], borrowed from it and from the input.
#[derive(Debug, Clone, Copy)]
pub struct Document<'t> {
    tape: &'t Tape,
    text: &'t str,
}

impl<'t> Document<'t> {
    /// The top-level value.
    pub fn root(&self) -> Node<'t> {
        Node {
            doc: *self,
            index: 0,
        }
    }

    fn entry(&self, index: usize) -> Entry {
        self.tape.entries[index]
    }

    /// The index of the node after the value at `index`.
    fn next(&self, index: usize) -> usize {
        let e = self.entry(index);
        match e.tag() {
            Tag::Array | Tag::Object => e.a as usize,
            _ => index + 1,
        }
    }

    fn str_at(&self, index: usize) -> Option<&'t str> {
        let e = self.entry(index);
        match e.tag() {
            Tag::RawString => Some(&self.text[e.start() as usize + 1..e.end as usize - 1]),
            Tag::DecodedString => Some(&self.tape.decoded[e.a as usize..(e.a + e.b) as usize]),
            _ => None,
        }
    }
}
