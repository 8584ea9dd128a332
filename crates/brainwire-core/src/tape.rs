//! The parser: one pass over a document into a flat tape of nodes, in the reference's
//! data model.
//!
//! A [`Tape`] is reused from document to document, so that steady-state parsing allocates
//! nothing: nodes are 16 bytes in one `Vec`, strings and integers are spans of the input,
//! and only strings holding escapes are decoded (into one shared buffer). Objects keep
//! their members in wire order; an object whose keys are not already sorted gets a sorted
//! index of its members, which is also where duplicate keys are found.

use crate::float_repr::{is_python_repr, write_python_repr};
use crate::scan::plain_run_end;
use crate::{JsonError, Limits};

/// What a node is. Every node also has its span in the input (`start..end`, quotes and
/// brackets included), which is its exact wire text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Tag {
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
    /// `a`: index of the node after the array.
    Array,
    /// `a`: index of the node after the object, `b`: where its sorted member index starts
    /// in `order` (a count, then that many key indices), or [`IN_ORDER`].
    Object,
}

/// An object whose members came sorted, so its wire order is its canonical order.
const IN_ORDER: u32 = u32::MAX;

/// One node in 16 bytes: the tag rides in the top four bits of `start`, which is why
/// documents are limited to [`MAX_DOCUMENT_BYTES`].
#[derive(Debug, Clone, Copy)]
struct Entry {
    tag_and_start: u32,
    end: u32,
    a: u32,
    b: u32,
}

/// Largest document a tape takes, whatever the [`Limits`]: offsets have 28 bits.
pub const MAX_DOCUMENT_BYTES: usize = (1 << 28) - 1;

const START_BITS: u32 = 28;
const START_MASK: u32 = (1 << START_BITS) - 1;
/// The tags by discriminant, to read one back from an entry; sixteen, so that any four
/// bits index it without a bounds check (only the first ten are ever written).
const TAGS: [Tag; 16] = [
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
    const fn new(tag: Tag, start: u32, end: u32) -> Self {
        Self {
            tag_and_start: (tag as u32) << START_BITS | start,
            end,
            a: 0,
            b: 0,
        }
    }

    fn tag(&self) -> Tag {
        TAGS[(self.tag_and_start >> START_BITS) as usize]
    }

    const fn start(&self) -> u32 {
        self.tag_and_start & START_MASK
    }
}

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

/// What kind of JSON value a [`Node`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// `null`
    Null,
    /// `true` or `false`
    Bool,
    /// A number without `.`, `e` or `E`: Python's exact `int`.
    Integer,
    /// Any other number: Python's `float`, always finite.
    Float,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

/// One value of a [`Document`].
#[derive(Debug, Clone, Copy)]
pub struct Node<'t> {
    doc: Document<'t>,
    index: usize,
}

impl<'t> Node<'t> {
    fn entry(&self) -> Entry {
        self.doc.entry(self.index)
    }

    fn at(&self, index: usize) -> Node<'t> {
        Node {
            doc: self.doc,
            index,
        }
    }

    /// What kind of value this is.
    pub fn kind(&self) -> Kind {
        match self.entry().tag() {
            Tag::Null => Kind::Null,
            Tag::True | Tag::False => Kind::Bool,
            Tag::Integer => Kind::Integer,
            Tag::Float | Tag::ReprFloat => Kind::Float,
            Tag::RawString | Tag::DecodedString => Kind::String,
            Tag::Array => Kind::Array,
            Tag::Object => Kind::Object,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        self.entry().tag() == Tag::Null
    }

    /// The boolean, when this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self.entry().tag() {
            Tag::True => Some(true),
            Tag::False => Some(false),
            _ => None,
        }
    }

    /// The exact digits (with an optional leading `-`), when this is an integer.
    pub fn as_integer(&self) -> Option<&'t str> {
        (self.entry().tag() == Tag::Integer).then(|| self.raw_text())
    }

    /// The value, correctly rounded like Python's `float()`, when this is a float.
    pub fn as_f64(&self) -> Option<f64> {
        matches!(self.entry().tag(), Tag::Float | Tag::ReprFloat)
            .then(|| self.raw_text().parse().expect("checked while parsing"))
    }

    /// The decoded text, when this is a string.
    pub fn as_str(&self) -> Option<&'t str> {
        self.doc.str_at(self.index)
    }

    /// This value exactly as the input wrote it (without the whitespace around it).
    pub fn raw_text(&self) -> &'t str {
        let e = self.entry();
        &self.doc.text[e.start() as usize..e.end as usize]
    }

    /// Where this integer, or this string without escapes, sits in the input (the
    /// string's quotes excluded).
    pub(crate) fn input_span(&self) -> Option<std::ops::Range<usize>> {
        let e = self.entry();
        match e.tag() {
            Tag::Integer => Some(e.start() as usize..e.end as usize),
            Tag::RawString => Some(e.start() as usize + 1..e.end as usize - 1),
            _ => None,
        }
    }

    /// The key of `value`, a member of this object.
    pub(crate) fn key_of(&self, value: Node<'t>) -> Node<'t> {
        self.at(value.index - 1)
    }

    /// Items of an array, members of an object, 0 otherwise (counted: linear time).
    pub fn len(&self) -> usize {
        match self.kind() {
            Kind::Array => self.items().count(),
            Kind::Object => self.members().count(),
            _ => 0,
        }
    }

    /// Whether this has no items or members (also for scalars).
    pub fn is_empty(&self) -> bool {
        let e = self.entry();
        !matches!(e.tag(), Tag::Array | Tag::Object) || e.a as usize == self.index + 1
    }

    /// The items, when this is an array (none otherwise).
    pub fn items(&self) -> Items<'t> {
        let e = self.entry();
        let end = if e.tag() == Tag::Array {
            e.a as usize
        } else {
            0
        };
        Items {
            doc: self.doc,
            next: self.index + 1,
            end,
        }
    }

    /// The members in canonical order (by key bytes), when this is an object (none
    /// otherwise).
    pub fn members(&self) -> Members<'t> {
        let e = self.entry();
        if e.tag() != Tag::Object {
            return Members {
                doc: self.doc,
                order: Order::Wire { next: 0, end: 0 },
            };
        }
        let order = if e.b == IN_ORDER {
            Order::Wire {
                next: self.index + 1,
                end: e.a as usize,
            }
        } else {
            let count = self.doc.tape.order[e.b as usize] as usize;
            let first = e.b as usize + 1;
            Order::Sorted {
                next: first,
                end: first + count,
            }
        };
        Members {
            doc: self.doc,
            order,
        }
    }

    /// The members in wire order, when this is an object (none otherwise): cheaper than
    /// [`members`](Self::members) when order does not matter.
    pub fn members_in_wire_order(&self) -> Members<'t> {
        let e = self.entry();
        let end = if e.tag() == Tag::Object {
            e.a as usize
        } else {
            0
        };
        Members {
            doc: self.doc,
            order: Order::Wire {
                next: self.index + 1,
                end,
            },
        }
    }

    /// Whether this is a scalar whose wire text is its canonical form.
    fn is_canonical_scalar(&self) -> bool {
        match self.entry().tag() {
            Tag::Null | Tag::True | Tag::False | Tag::RawString | Tag::ReprFloat => true,
            Tag::Integer => self.raw_text() != "-0",
            Tag::Float | Tag::DecodedString | Tag::Array | Tag::Object => false,
        }
    }

    /// The member named `key`, when this is an object that has one.
    pub fn get(&self, key: &str) -> Option<Node<'t>> {
        self.members_in_wire_order()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }

    /// Appends this value's canonical form (see [`canonicalize`](crate::canonicalize)).
    pub fn write_canonical(&self, out: &mut Vec<u8>) {
        self.write(
            out,
            &mut Flush {
                at: usize::MAX,
                sink: &mut |_| {},
            },
        );
    }

    /// Writes this value's canonical form through `buffer`, handing `sink` what the
    /// buffer holds whenever it reaches `chunk_bytes` between two values; what is left
    /// stays in `buffer`. A MAC fed this way never needs the whole canonical text.
    ///
    /// ```
    /// use brainwire_core::{Limits, Tape};
    ///
    /// let mut tape = Tape::new();
    /// let doc = tape.parse(br#"{"b":[1,2,3],"a":"x"}"#, &Limits::default())?;
    /// let (mut buffer, mut chunks) = (Vec::new(), Vec::new());
    /// doc.root().write_canonical_chunked(&mut buffer, 4, &mut |chunk| chunks.push(chunk.to_vec()));
    /// chunks.push(buffer);
    /// assert_eq!(chunks.concat(), br#"{"a":"x","b":[1,2,3]}"#);
    /// assert!(chunks.len() > 1);
    /// # Ok::<(), brainwire_core::JsonError>(())
    /// ```
    pub fn write_canonical_chunked(
        &self,
        buffer: &mut Vec<u8>,
        chunk_bytes: usize,
        sink: &mut impl FnMut(&[u8]),
    ) {
        self.write(
            buffer,
            &mut Flush {
                at: chunk_bytes,
                sink,
            },
        );
    }

    /// The canonical writer; `flush` is offered the output after every item and member.
    fn write(&self, out: &mut Vec<u8>, flush: &mut Flush<'_>) {
        let e = self.entry();
        match e.tag() {
            Tag::Null => out.extend_from_slice(b"null"),
            Tag::True => out.extend_from_slice(b"true"),
            Tag::False => out.extend_from_slice(b"false"),
            Tag::Integer => match self.raw_text() {
                // Python's int has no negative zero.
                "-0" => out.push(b'0'),
                digits => out.extend_from_slice(digits.as_bytes()),
            },
            Tag::Float => write_python_repr(self.as_f64().expect("a float"), out),
            Tag::ReprFloat => out.extend_from_slice(self.raw_text().as_bytes()),
            // No escape on the wire: no `"`, `\` or control character inside either, so
            // the quoted wire text is already canonical.
            Tag::RawString => out.extend_from_slice(self.raw_text().as_bytes()),
            Tag::DecodedString => crate::write_string(self.as_str().expect("a string"), out),
            Tag::Array => {
                out.push(b'[');
                for (i, item) in self.items().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write(out, flush);
                    flush.offer(out);
                }
                out.push(b']');
            }
            Tag::Object => {
                out.push(b'{');
                let mut first = true;
                let mut write_member = |key: usize| {
                    if !std::mem::take(&mut first) {
                        out.push(b',');
                    }
                    let (k, v) = (self.doc.entry(key), self.doc.entry(key + 1));
                    if k.tag() == Tag::RawString
                        && v.start() == k.end + 1
                        && self.at(key + 1).is_canonical_scalar()
                    {
                        // `"key":value` written compactly on the wire is already canonical.
                        out.extend_from_slice(
                            &self.doc.text.as_bytes()[k.start() as usize..v.end as usize],
                        );
                    } else {
                        self.at(key).write(out, flush);
                        out.push(b':');
                        self.at(key + 1).write(out, flush);
                    }
                    flush.offer(out);
                };
                if e.b == IN_ORDER {
                    let mut key = self.index + 1;
                    while key < e.a as usize {
                        write_member(key);
                        key = self.doc.next(key + 1);
                    }
                } else {
                    let count = self.doc.tape.order[e.b as usize] as usize;
                    let first_key = e.b as usize + 1;
                    for &key in &self.doc.tape.order[first_key..first_key + count] {
                        write_member(key as usize);
                    }
                }
                out.push(b'}');
            }
        }
    }
}

/// Where a chunked canonical write hands its output over, and from what size.
struct Flush<'s> {
    at: usize,
    sink: &'s mut dyn FnMut(&[u8]),
}

impl Flush<'_> {
    /// Hands `out` over once it holds a chunk.
    #[inline]
    fn offer(&mut self, out: &mut Vec<u8>) {
        if out.len() >= self.at {
            (self.sink)(out);
            out.clear();
        }
    }
}

/// The items of an array [`Node`].
#[derive(Debug, Clone)]
pub struct Items<'t> {
    doc: Document<'t>,
    next: usize,
    end: usize,
}

impl<'t> Iterator for Items<'t> {
    type Item = Node<'t>;

    fn next(&mut self) -> Option<Node<'t>> {
        if self.next >= self.end {
            return None;
        }
        let index = self.next;
        self.next = self.doc.next(index);
        Some(Node {
            doc: self.doc,
            index,
        })
    }
}

/// The members of an object [`Node`], in canonical or wire order.
#[derive(Debug, Clone)]
pub struct Members<'t> {
    doc: Document<'t>,
    order: Order,
}

#[derive(Debug, Clone)]
enum Order {
    /// Walking the tape: the next key, and the index after the object.
    Wire { next: usize, end: usize },
    /// Walking the object's sorted index in `order`.
    Sorted { next: usize, end: usize },
}

impl<'t> Iterator for Members<'t> {
    type Item = (&'t str, Node<'t>);

    fn next(&mut self) -> Option<Self::Item> {
        let key = match &mut self.order {
            Order::Wire { next, end } => {
                if *next >= *end {
                    return None;
                }
                let key = *next;
                *next = self.doc.next(key + 1);
                key
            }
            Order::Sorted { next, end } => {
                if *next >= *end {
                    return None;
                }
                *next += 1;
                self.doc.tape.order[*next - 1] as usize
            }
        };
        let name = self.doc.str_at(key).expect("keys are strings");
        Some((
            name,
            Node {
                doc: self.doc,
                index: key + 1,
            },
        ))
    }
}

struct Parser<'a, 'l> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth_left: usize,
    limits: &'l Limits,
    tape: &'a mut Tape,
}

/// Offsets and counts fit in u32: the input was checked to be under
/// [`MAX_DOCUMENT_BYTES`].
fn u32_of(n: usize) -> u32 {
    u32::try_from(n).expect("documents are under 4 GiB")
}

impl Parser<'_, '_> {
    fn malformed(&self, reason: &'static str) -> JsonError {
        JsonError::Malformed {
            offset: self.pos,
            reason,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn push(&mut self, entry: Entry) -> usize {
        self.tape.entries.push(entry);
        self.tape.entries.len() - 1
    }

    /// JSON's four whitespace bytes, the same set Python's scanner skips.
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn literal(&mut self, literal: &'static str, tag: Tag) -> Result<(), JsonError> {
        if self.bytes[self.pos..].starts_with(literal.as_bytes()) {
            let start = u32_of(self.pos);
            self.pos += literal.len();
            self.push(Entry::new(tag, start, u32_of(self.pos)));
            Ok(())
        } else {
            Err(self.malformed("expected a value"))
        }
    }

    fn value(&mut self) -> Result<(), JsonError> {
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => self.string(),
            Some(b't') => self.literal("true", Tag::True),
            Some(b'f') => self.literal("false", Tag::False),
            Some(b'n') => self.literal("null", Tag::Null),
            Some(b'N' | b'I') => Err(JsonError::NonFiniteNumber { offset: self.pos }),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.malformed("expected a value")),
            None => Err(self.malformed("unexpected end of input")),
        }
    }

    /// Opens a container: checks the depth and pushes its node; returns the node's index.
    fn enter(&mut self, tag: Tag) -> Result<usize, JsonError> {
        if self.depth_left == 0 {
            return Err(JsonError::TooDeep {
                max: self.limits.effective_depth(),
            });
        }
        self.depth_left -= 1;
        let mut entry = Entry::new(tag, u32_of(self.pos), 0);
        entry.b = IN_ORDER;
        self.pos += 1;
        Ok(self.push(entry))
    }

    /// Closes the container at `at` on its closing bracket.
    fn leave(&mut self, at: usize) {
        self.pos += 1;
        self.depth_left += 1;
        let next = u32_of(self.tape.entries.len());
        let entry = &mut self.tape.entries[at];
        entry.end = u32_of(self.pos);
        entry.a = next;
    }

    fn array(&mut self) -> Result<(), JsonError> {
        let at = self.enter(Tag::Array)?;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.leave(at);
            return Ok(());
        }
        loop {
            self.skip_ws();
            self.value()?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.leave(at);
                    return Ok(());
                }
                _ => return Err(self.malformed("expected ',' or ']'")),
            }
        }
    }

    fn object(&mut self) -> Result<(), JsonError> {
        let at = self.enter(Tag::Object)?;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.leave(at);
            return Ok(());
        }
        let mut count = 0;
        let mut in_order = true;
        let mut previous_key = None;
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.malformed("expected a string key"));
            }
            let key = self.tape.entries.len();
            self.string()?;
            if let (true, Some(previous)) = (in_order, previous_key) {
                in_order = key_less(self.key(previous), self.key(key));
            }
            previous_key = Some(key);
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.malformed("expected ':'"));
            }
            self.pos += 1;
            self.skip_ws();
            self.value()?;
            count += 1;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.leave(at);
                    break;
                }
                _ => return Err(self.malformed("expected ',' or '}'")),
            }
        }
        if !in_order {
            self.sort_members(at, count)?;
        }
        Ok(())
    }

    /// The bytes of the key string at `index`.
    fn key(&self, index: usize) -> &[u8] {
        let e = self.tape.entries[index];
        match e.tag() {
            Tag::RawString => &self.bytes[e.start() as usize + 1..e.end as usize - 1],
            _ => &self.tape.decoded.as_bytes()[e.a as usize..(e.a + e.b) as usize],
        }
    }

    /// Writes the sorted member index of the object at `at` (its `count`, then its keys'
    /// indices); refuses duplicate keys.
    fn sort_members(&mut self, at: usize, count: usize) -> Result<(), JsonError> {
        let start = self.tape.order.len();
        self.tape.order.push(u32_of(count));
        let mut key = at + 1;
        for _ in 0..count {
            self.tape.order.push(u32_of(key));
            let value = key + 1;
            key = match self.tape.entries[value].tag() {
                Tag::Array | Tag::Object => self.tape.entries[value].a as usize,
                _ => value + 1,
            };
        }
        let mut order = std::mem::take(&mut self.tape.order);
        let members = &mut order[start + 1..];
        members.sort_unstable_by(|&x, &y| self.key(x as usize).cmp(self.key(y as usize)));
        let duplicate = members
            .windows(2)
            .find(|w| self.key(w[0] as usize) == self.key(w[1] as usize))
            .map(|w| duplicate_key(self.key(w[0] as usize)));
        self.tape.order = order;
        if let Some(error) = duplicate {
            return Err(error);
        }
        self.tape.entries[at].b = u32_of(start);
        Ok(())
    }

    fn number(&mut self) -> Result<(), JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
            if self.peek() == Some(b'I') {
                return Err(JsonError::NonFiniteNumber { offset: start });
            }
        }
        let int_start = self.pos;
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.skip_digits(),
            _ => return Err(self.malformed("expected a digit")),
        }
        let int_digits = self.pos - int_start;
        let mut is_float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.malformed("expected a digit after '.'"));
            }
            self.skip_digits();
            is_float = true;
        }
        let has_exponent = matches!(self.peek(), Some(b'e' | b'E'));
        if has_exponent {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.malformed("expected a digit in the exponent"));
            }
            self.skip_digits();
            is_float = true;
        }
        if !is_float {
            if int_digits > self.limits.max_integer_digits {
                return Err(JsonError::IntegerTooLong {
                    offset: start,
                    digits: int_digits,
                    max: self.limits.max_integer_digits,
                });
            }
            self.push(Entry::new(Tag::Integer, u32_of(start), u32_of(self.pos)));
            return Ok(());
        }
        // Without an exponent, fewer than 309 integer digits cannot overflow: the value is
        // finite and is parsed only when asked for.
        if !has_exponent && int_digits <= 308 {
            let tag = if is_python_repr(&self.bytes[start..self.pos]) {
                Tag::ReprFloat
            } else {
                Tag::Float
            };
            self.push(Entry::new(tag, u32_of(start), u32_of(self.pos)));
            return Ok(());
        }
        // The literal matched JSON's number grammar, which Rust's float parser accepts.
        let value: f64 = self.text[start..self.pos]
            .parse()
            .map_err(|_| self.malformed("number out of range"))?;
        if !value.is_finite() {
            return Err(JsonError::NonFiniteNumber { offset: start });
        }
        self.push(Entry::new(Tag::Float, u32_of(start), u32_of(self.pos)));
        Ok(())
    }

    fn skip_digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    /// Parses a string starting at its opening quote. Without escapes it stays a span of
    /// the input; with them it is decoded into the tape's buffer.
    fn string(&mut self) -> Result<(), JsonError> {
        let quote = u32_of(self.pos);
        self.pos += 1;
        let start = self.pos;
        self.pos = plain_run_end(self.bytes, self.pos);
        match self.peek() {
            Some(b'"') => {
                self.pos += 1;
                self.push(Entry::new(Tag::RawString, quote, u32_of(self.pos)));
                return Ok(());
            }
            Some(b'\\') => {}
            Some(_) => return Err(self.malformed("control character in string")),
            None => return Err(self.malformed("unterminated string")),
        }
        let decoded_start = self.tape.decoded.len();
        self.tape.decoded.push_str(&self.text[start..self.pos]);
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    let mut entry = Entry::new(Tag::DecodedString, quote, u32_of(self.pos));
                    entry.a = u32_of(decoded_start);
                    entry.b = u32_of(self.tape.decoded.len() - decoded_start);
                    self.push(entry);
                    return Ok(());
                }
                Some(b'\\') => self.escape()?,
                Some(_) => return Err(self.malformed("control character in string")),
                None => return Err(self.malformed("unterminated string")),
            }
            let run_start = self.pos;
            self.pos = plain_run_end(self.bytes, self.pos);
            self.tape.decoded.push_str(&self.text[run_start..self.pos]);
        }
    }

    fn escape(&mut self) -> Result<(), JsonError> {
        let escape_at = self.pos;
        self.pos += 1;
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                let unit = self.hex4()?;
                let c = match unit {
                    0xD800..=0xDBFF => {
                        if !self.bytes[self.pos..].starts_with(b"\\u") {
                            return Err(JsonError::LoneSurrogate { offset: escape_at });
                        }
                        self.pos += 2;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(JsonError::LoneSurrogate { offset: escape_at });
                        }
                        let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                        char::from_u32(code)
                            .ok_or(JsonError::LoneSurrogate { offset: escape_at })?
                    }
                    0xDC00..=0xDFFF => return Err(JsonError::LoneSurrogate { offset: escape_at }),
                    _ => char::from_u32(unit)
                        .ok_or(JsonError::LoneSurrogate { offset: escape_at })?,
                };
                self.tape.decoded.push(c);
                return Ok(());
            }
            _ => return Err(self.malformed("invalid escape")),
        };
        self.pos += 1;
        self.tape.decoded.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .bytes
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.malformed("truncated \\u escape"))?;
        let mut unit = 0u32;
        for &d in digits {
            let nibble = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return Err(self.malformed("invalid \\u escape")),
            };
            unit = unit << 4 | u32::from(nibble);
        }
        self.pos += 4;
        Ok(unit)
    }
}

/// Key order, with the first byte (where most neighbouring keys differ) compared inline.
fn key_less(a: &[u8], b: &[u8]) -> bool {
    match (a.first(), b.first()) {
        (Some(x), Some(y)) if x != y => x < y,
        _ => a < b,
    }
}

fn duplicate_key(key: &[u8]) -> JsonError {
    let key = String::from_utf8_lossy(key);
    let mut end = key.len().min(64);
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    JsonError::DuplicateKey {
        key: key[..end].to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_come_in_key_order_and_items_in_wire_order() {
        let mut tape = Tape::new();
        let doc = tape
            .parse(
                br#"{"b":[3,{"y":1,"x":2}],"a":"\u00e9","c":{}}"#,
                &Limits::default(),
            )
            .unwrap();
        let root = doc.root();
        let keys: Vec<&str> = root.members().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert_eq!(root.get("a").unwrap().as_str(), Some("é"));
        let b = root.get("b").unwrap();
        assert_eq!(b.kind(), Kind::Array);
        let items: Vec<Kind> = b.items().map(|n| n.kind()).collect();
        assert_eq!(items, [Kind::Integer, Kind::Object]);
        let inner = b.items().nth(1).unwrap();
        let inner: Vec<&str> = inner.members().map(|(k, _)| k).collect();
        assert_eq!(inner, ["x", "y"]);
        assert!(root.get("c").unwrap().is_empty());
        assert!(root.get("missing").is_none());
    }

    #[test]
    fn a_reused_tape_forgets_the_previous_document() {
        let mut tape = Tape::new();
        let first = tape
            .parse(br#"{"z":1,"a":"\n","m":[1,2]}"#, &Limits::default())
            .unwrap();
        assert_eq!(first.root().len(), 3);
        let second = tape.parse(br#"{"k":"v"}"#, &Limits::default()).unwrap();
        let mut out = Vec::new();
        second.root().write_canonical(&mut out);
        assert_eq!(out, br#"{"k":"v"}"#);
        assert_eq!(tape.entries.len(), 3);
        assert!(tape.order.is_empty() && tape.decoded.is_empty());
    }

    #[test]
    fn members_copied_from_the_wire_are_exactly_the_canonical_ones() {
        let cases = [
            (r#"{"a":1,"b":"x","c":null}"#, r#"{"a":1,"b":"x","c":null}"#),
            (
                r#"{"a":1, "b":2,"c":-0,"d":2.50,"e":"\u0041","f":[1,2 ,3,[4,5],-0,1.5]}"#,
                r#"{"a":1,"b":2,"c":0,"d":2.5,"e":"A","f":[1,2,3,[4,5],0,1.5]}"#,
            ),
            (r#"{"c":3,"a":1,"b":2}"#, r#"{"a":1,"b":2,"c":3}"#),
            (
                r#"{"b":2,"a":1,"c":3,"d":4}"#,
                r#"{"a":1,"b":2,"c":3,"d":4}"#,
            ),
            (
                r#"[{"k":1},2,3,{"j":true},"s"]"#,
                r#"[{"k":1},2,3,{"j":true},"s"]"#,
            ),
            (
                r#"{"a" :1,"b": 2,"c":{"z":0.5,"y":[]}}"#,
                r#"{"a":1,"b":2,"c":{"y":[],"z":0.5}}"#,
            ),
        ];
        let mut tape = Tape::new();
        for (wire, canonical) in cases {
            let doc = tape.parse(wire.as_bytes(), &Limits::default()).unwrap();
            let mut out = Vec::new();
            doc.root().write_canonical(&mut out);
            assert_eq!(std::str::from_utf8(&out).unwrap(), canonical, "{wire}");
        }
    }

    #[test]
    fn nodes_are_sixteen_bytes_and_keep_their_tags() {
        assert_eq!(std::mem::size_of::<Entry>(), 16);
        for (i, tag) in TAGS[..10].iter().enumerate() {
            assert_eq!(*tag as usize, i);
            let entry = Entry::new(*tag, START_MASK, 7);
            assert_eq!((entry.tag(), entry.start()), (*tag, START_MASK));
        }
    }

    #[test]
    fn every_node_knows_its_wire_text() {
        let wire = br#" {"b" : [1 , -0.50e1, "x\ny", true] ,"a":{ "k" : null } } "#;
        let mut tape = Tape::new();
        let root = tape.parse(wire, &Limits::default()).unwrap().root();
        assert_eq!(
            root.raw_text(),
            &std::str::from_utf8(wire).unwrap()[1..wire.len() - 1]
        );
        let items: Vec<&str> = root
            .get("b")
            .unwrap()
            .items()
            .map(|n| n.raw_text())
            .collect();
        assert_eq!(items, ["1", "-0.50e1", r#""x\ny""#, "true"]);
        assert_eq!(root.get("a").unwrap().raw_text(), r#"{ "k" : null }"#);
        assert_eq!(root.len(), 2);
    }

    #[test]
    fn a_pathological_document_is_not_kept() {
        let mut tape = Tape::new();
        let many = format!("[{}0]", "0,".repeat(RETAINED_ENTRIES + 10));
        let limits = Limits::default().max_bytes(many.len());
        assert_eq!(
            tape.parse(many.as_bytes(), &limits).unwrap().root().len(),
            RETAINED_ENTRIES + 11
        );
        assert!(tape.entries.capacity() > RETAINED_ENTRIES);
        tape.parse(b"[1]", &limits).unwrap();
        assert!(tape.entries.capacity() < RETAINED_ENTRIES);
    }
}
