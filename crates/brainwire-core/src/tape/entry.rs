//! Node packing: what a node is and how it fits in 16 bytes.

/// What a node is. Every node also has its span in the input (`start..end`, quotes and
/// brackets included), which is its exact wire text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Tag {
    Null,
    True,
    False,
    Integer,
    /// Checked finite while reading; parsed when asked for.
    Float,
    /// A float whose wire text is already Python's `repr` of it (see
    /// [`is_python_repr`]), so the canonical writer copies it.
    ReprFloat,
    /// No escape: the text is the span without its quotes.
    RawString,
    /// `a`: start in the decoded buffer, `b`: length.
    DecodedString,
    /// `a`: index of the node after the array, `b`: [`CANONICAL`],
    /// [`CANONICAL_IF_FLOATS`] or [`IN_ORDER`].
    Array,
    /// `a`: index of the node after the object, `b`: where its sorted member index starts
    /// in `order` (a count, then that many key indices), or [`IN_ORDER`], or
    /// [`CANONICAL`] or [`CANONICAL_IF_FLOATS`] (in order too).
    Object,
}

/// An object whose members came sorted, so its wire order is its canonical order.
pub(super) const IN_ORDER: u32 = u32::MAX;

/// An array, or an object in order, whose whole wire text is already its canonical form
/// (compact, every key and value canonical): the writer copies its span. What brainwire
/// signs is sent this way, so on a verify most of a payload is one copy.
pub(super) const CANONICAL: u32 = u32::MAX - 1;

/// [`CANONICAL`] if each of its floats with 16 or 17 significant digits (all other
/// floats in it are their `repr`) is the shortest spelling: the writer checks them, once,
/// rather than the parser, which would slow every decode that never canonicalizes.
pub(super) const CANONICAL_IF_FLOATS: u32 = u32::MAX - 2;

/// Whether an object's members come in key order (`b` of an object entry).
pub(super) const fn in_key_order(b: u32) -> bool {
    b >= CANONICAL_IF_FLOATS
}

/// Whether an integer's wire digits are already its canonical form: Python's `int` has
/// no negative zero, so `-0` is written `0`. The parser's verdict, the writer's member
/// copy and its respelling all ask this one rule.
pub(super) fn integer_is_canonical(digits: &[u8]) -> bool {
    digits != b"-0"
}

/// One node in 16 bytes: the tag rides in the top four bits of `start`, which is why
/// documents are limited to [`MAX_DOCUMENT_BYTES`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    pub(super) tag_and_start: u32,
    pub(super) end: u32,
    pub(super) a: u32,
    pub(super) b: u32,
}

/// Largest document a tape takes, whatever the [`Limits`](crate::Limits): offsets have 28 bits.
pub const MAX_DOCUMENT_BYTES: usize = (1 << 28) - 1;

pub(super) const START_BITS: u32 = 28;
pub(super) const START_MASK: u32 = (1 << START_BITS) - 1;
/// The tags by discriminant, to read one back from an entry; sixteen, so that any four
/// bits index it without a bounds check (only the first ten are ever written).
pub(super) const TAGS: [Tag; 16] = [
    Tag::Null,
    Tag::True,
    Tag::False,
    Tag::Integer,
    Tag::Float,
    Tag::ReprFloat,
    Tag::RawString,
    Tag::DecodedString,
    Tag::Array,
    Tag::Object,
    Tag::Null,
    Tag::Null,
    Tag::Null,
    Tag::Null,
    Tag::Null,
    Tag::Null,
];

impl Entry {
    pub(super) const fn new(tag: Tag, start: u32, end: u32) -> Self {
        Self {
            tag_and_start: (tag as u32) << START_BITS | start,
            end,
            a: 0,
            b: 0,
        }
    }

    pub(super) fn tag(&self) -> Tag {
        TAGS[(self.tag_and_start >> START_BITS) as usize]
    }

    pub(super) const fn start(&self) -> u32 {
        self.tag_and_start & START_MASK
    }
}
