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
pub(crate) use parser::duplicate_key;
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
    /// The orders that sorted the last few small objects of distinct shapes (an
    /// envelope and its payload alternate): for each member, its position in wire order.
    /// Held inline, so that a fresh tape (one per decode) allocates nothing for them.
    remembered: [[u32; MAX_REMEMBERED_ORDER]; REMEMBERED_ORDERS],
    /// Members of the order in each slot (0: empty).
    remembered_len: [u8; REMEMBERED_ORDERS],
    /// The slot the next new order replaces.
    next_remembered: usize,
    /// The keys of the object being sorted, in wire order.
    wire_order: Vec<u32>,
}

/// Most members of an object whose sorting order a tape remembers (a frame's envelope
/// has 8, a task event 12); larger objects are sorted each time.
pub(crate) const MAX_REMEMBERED_ORDER: usize = 16;

/// Sorting orders a tape remembers: enough for a frame's envelope, its payload and a
/// nested object or two, few enough that a miss costs little.
pub(crate) const REMEMBERED_ORDERS: usize = 4;

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
        self.entries.clear();
        self.decoded.clear();
        self.order.clear();
        self.release_oversized();
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
    /// Most bytes a tape keeps allocated between documents, whatever it parsed before:
    /// 640 KiB.
    pub const RETAINED_BYTES: usize = RETAINED_ENTRIES * std::mem::size_of::<Entry>()
        + RETAINED_DECODED_BYTES
        + RETAINED_ORDER * std::mem::size_of::<u32>();

    /// Shrinks the (cleared) buffers a large document grew back to their retained sizes,
    /// so that a long-lived tape (one per session) keeps at most about 640 KiB
    /// ([`Tape::RETAINED_BYTES`]) between documents, not the largest one it ever saw.
    fn release_oversized(&mut self) {
        self.entries.shrink_to(RETAINED_ENTRIES);
        self.decoded.shrink_to(RETAINED_DECODED_BYTES);
        self.order.shrink_to(RETAINED_ORDER);
    }
}

/// Nodes a tape keeps room for between documents: 512 KiB of them, enough for a batch of
/// 500 task events (a 271 KB frame takes about 30,000). A larger frame grows the tape for
/// itself and the next parse gives the room back.
const RETAINED_ENTRIES: usize = 32 * 1024;

/// Bytes of decoded (escaped) strings a tape keeps room for between documents.
const RETAINED_DECODED_BYTES: usize = 64 * 1024;

/// Member-order slots (`u32`s, 64 KiB) a tape keeps room for between documents.
const RETAINED_ORDER: usize = 16 * 1024;

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
