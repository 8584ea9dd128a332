//! The one-pass parser that fills a `Tape`.

use super::*;
use crate::canonical::key_order;
use crate::float_repr::{positional_spelling, Spelling};
use crate::scan::plain_run_end;

pub(super) struct Parser<'a, 'l> {
    pub(super) text: &'a str,
    pub(super) bytes: &'a [u8],
    pub(super) pos: usize,
    pub(super) depth_left: usize,
    pub(super) limits: &'l Limits,
    pub(super) tape: &'a mut Tape,
}

/// How far a value's wire text is from its canonical form, least first; a container is
/// as far as its farthest member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Wire {
    /// Written differently: whitespace, keys out of order, an escape or number Python
    /// spells otherwise.
    Respelled,
    /// Canonical if its floats of 16 or 17 digits are their shortest spelling.
    CanonicalIfFloats,
    /// Exactly the canonical form.
    Canonical,
}

impl Wire {
    fn of(canonical: bool) -> Self {
        if canonical {
            Self::Canonical
        } else {
            Self::Respelled
        }
    }
}

/// Offsets and counts fit in u32: the input was checked to be under
/// [`MAX_DOCUMENT_BYTES`].
pub(super) fn u32_of(n: usize) -> u32 {
    u32::try_from(n).expect("documents are under 4 GiB")
}

/// A key just parsed: its tape index, its bytes when they are a span of the input, and
/// how far its wire text is from canonical.
#[derive(Clone, Copy)]
struct Key<'a> {
    index: usize,
    text: Option<&'a [u8]>,
    wire: Wire,
}

impl<'a> Parser<'a, '_> {
    pub(super) fn malformed(&self, reason: &'static str) -> JsonError {
        JsonError::Malformed {
            offset: self.pos,
            reason,
        }
    }

    pub(super) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    pub(super) fn push(&mut self, entry: Entry) -> usize {
        self.tape.entries.push(entry);
        self.tape.entries.len() - 1
    }

    /// JSON's four whitespace bytes, the same set Python's scanner skips.
    pub(super) fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// [`skip_ws`](Self::skip_ws), saying whether there was none (canonical text has none
    /// between tokens).
    fn skip_ws_none(&mut self) -> Wire {
        match self.peek() {
            Some(b' ' | b'\t' | b'\n' | b'\r') => {
                self.skip_ws();
                Wire::Respelled
            }
            _ => Wire::Canonical,
        }
    }

    // Inlined into `value`, where each literal's length is known: the comparison is then
    // one load, not a call to `memcmp`.
    #[inline(always)]
    pub(super) fn literal(&mut self, literal: &'static str, tag: Tag) -> Result<Wire, JsonError> {
        if self.bytes[self.pos..].starts_with(literal.as_bytes()) {
            let start = u32_of(self.pos);
            self.pos += literal.len();
            self.push(Entry::new(tag, start, u32_of(self.pos)));
            Ok(Wire::Canonical)
        } else {
            Err(self.malformed("expected a value"))
        }
    }

    /// Parses one value; says how far its wire text is from its canonical form, so that
    /// a container made only of canonical values, written compactly and in key order, is
    /// copied by the canonical writer rather than walked ([`CANONICAL`]).
    pub(super) fn value(&mut self) -> Result<Wire, JsonError> {
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
    pub(super) fn enter(&mut self, tag: Tag) -> Result<usize, JsonError> {
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

    /// Closes the container at `at` on its closing bracket, recording how far its wire
    /// text is from canonical (an object's keys came in order unless `Respelled`).
    pub(super) fn leave(&mut self, at: usize, wire: Wire) -> Wire {
        self.pos += 1;
        self.depth_left += 1;
        let next = u32_of(self.tape.entries.len());
        let entry = &mut self.tape.entries[at];
        entry.end = u32_of(self.pos);
        entry.a = next;
        match wire {
            Wire::Canonical => entry.b = CANONICAL,
            Wire::CanonicalIfFloats => entry.b = CANONICAL_IF_FLOATS,
            Wire::Respelled => {}
        }
        wire
    }

    pub(super) fn array(&mut self) -> Result<Wire, JsonError> {
        let at = self.enter(Tag::Array)?;
        let mut wire = self.skip_ws_none();
        if self.peek() == Some(b']') {
            return Ok(self.leave(at, wire));
        }
        loop {
            wire = wire.min(self.skip_ws_none());
            wire = wire.min(self.value()?);
            wire = wire.min(self.skip_ws_none());
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => return Ok(self.leave(at, wire)),
                _ => return Err(self.malformed("expected ',' or ']'")),
            }
        }
    }

    pub(super) fn object(&mut self) -> Result<Wire, JsonError> {
        let at = self.enter(Tag::Object)?;
        let mut wire = self.skip_ws_none();
        if self.peek() == Some(b'}') {
            return Ok(self.leave(at, wire));
        }
        let mut count = 0;
        let mut in_order = true;
        let mut previous_key = None;
        loop {
            wire = wire.min(self.skip_ws_none());
            if self.peek() != Some(b'"') {
                return Err(self.malformed("expected a string key"));
            }
            let key = self.key_string()?;
            wire = wire.min(key.wire);
            if let (true, Some(previous)) = (in_order, previous_key) {
                in_order = match (previous, key.text) {
                    (Key { text: Some(p), .. }, Some(k)) => key_order(p, k).is_lt(),
                    _ => key_order(self.key(previous.index), self.key(key.index)).is_lt(),
                };
            }
            previous_key = Some(key);
            wire = wire.min(self.skip_ws_none());
            if self.peek() != Some(b':') {
                return Err(self.malformed("expected ':'"));
            }
            self.pos += 1;
            wire = wire.min(self.skip_ws_none());
            wire = wire.min(self.value()?);
            count += 1;
            wire = wire.min(self.skip_ws_none());
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    if !in_order {
                        wire = Wire::Respelled;
                    }
                    wire = self.leave(at, wire);
                    break;
                }
                _ => return Err(self.malformed("expected ',' or '}'")),
            }
        }
        if !in_order {
            self.sort_members(at, count)?;
        }
        Ok(wire)
    }

    /// Parses a key string: [`string`](Self::string), with the key's bytes kept when they
    /// are a span of the input (no escape), so that checking key order need not look
    /// them up on the tape again.
    fn key_string(&mut self) -> Result<Key<'a>, JsonError> {
        let (index, quote) = (self.tape.entries.len(), self.pos);
        let wire = self.string()?;
        let bytes: &'a [u8] = self.bytes;
        let text = (self.tape.entries[index].tag() == Tag::RawString)
            .then(|| &bytes[quote + 1..self.pos - 1]);
        Ok(Key { index, text, wire })
    }

    /// The bytes of the key string at `index`.
    pub(super) fn key(&self, index: usize) -> &[u8] {
        let e = self.tape.entries[index];
        match e.tag() {
            Tag::RawString => &self.bytes[e.start() as usize + 1..e.end as usize - 1],
            _ => &self.tape.decoded.as_bytes()[e.a as usize..(e.a + e.b) as usize],
        }
    }

    /// Writes the sorted member index of the object at `at` (its `count`, then its keys'
    /// indices); refuses duplicate keys. Objects of one shape come again and again (every
    /// frame's envelope has the same keys in the same wire order, and so has its
    /// payload), so the orders that sorted the last few small objects are tried first:
    /// checking one takes `count - 1` comparisons where a sort takes several times that.
    pub(super) fn sort_members(&mut self, at: usize, count: usize) -> Result<(), JsonError> {
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
        let members = start + 1..start + 1 + count;
        let remembered = count <= MAX_REMEMBERED_ORDER;
        if remembered {
            let mut wire = std::mem::take(&mut self.tape.wire_order);
            wire.clear();
            wire.extend_from_slice(&self.tape.order[members.clone()]);
            self.tape.wire_order = wire;
            if self.reuse_remembered_order(members.clone()) {
                self.tape.entries[at].b = u32_of(start);
                return Ok(());
            }
        }
        let mut order = std::mem::take(&mut self.tape.order);
        let sorted = &mut order[members.clone()];
        sorted.sort_unstable_by(|&x, &y| key_order(self.key(x as usize), self.key(y as usize)));
        let duplicate = sorted
            .windows(2)
            .find(|w| self.key(w[0] as usize) == self.key(w[1] as usize))
            .map(|w| duplicate_key(self.key(w[0] as usize)));
        self.tape.order = order;
        if let Some(error) = duplicate {
            return Err(error);
        }
        if remembered {
            self.remember_order(members);
        }
        self.tape.entries[at].b = u32_of(start);
        Ok(())
    }

    /// Puts the keys at `members` of the order (in wire order, as in `wire_order`) in
    /// the first remembered order of their count that sorts them strictly (so without
    /// duplicates too); else leaves them in wire order and says no.
    fn reuse_remembered_order(&mut self, members: std::ops::Range<usize>) -> bool {
        let mut order = std::mem::take(&mut self.tape.order);
        let slots = &mut order[members.clone()];
        let sorted = (0..REMEMBERED_ORDERS)
            .filter(|&slot| usize::from(self.tape.remembered_len[slot]) == members.len())
            .any(|slot| {
                let remembered = &self.tape.remembered[slot][..members.len()];
                for (slot, &rank) in slots.iter_mut().zip(remembered) {
                    *slot = self.tape.wire_order[rank as usize];
                }
                slots
                    .windows(2)
                    .all(|w| key_order(self.key(w[0] as usize), self.key(w[1] as usize)).is_lt())
            });
        if !sorted {
            slots.copy_from_slice(&self.tape.wire_order);
        }
        self.tape.order = order;
        sorted
    }

    /// Records, for each key at `members` (now sorted), its position in wire order, in
    /// place of the oldest remembered order.
    fn remember_order(&mut self, members: std::ops::Range<usize>) {
        let tape = &mut *self.tape;
        let slot = tape.next_remembered;
        tape.next_remembered = (slot + 1) % REMEMBERED_ORDERS;
        for (position, &key) in tape.remembered[slot]
            .iter_mut()
            .zip(&tape.order[members.clone()])
        {
            // Keys in wire order have increasing tape indices.
            *position = u32_of(tape.wire_order.binary_search(&key).unwrap_or(0));
        }
        tape.remembered_len[slot] = u8::try_from(members.len()).expect("at most 16 members");
    }

    pub(super) fn number(&mut self) -> Result<Wire, JsonError> {
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
        let point = self.pos;
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
            return Ok(Wire::of(integer_is_canonical(&self.bytes[start..self.pos])));
        }
        // Without an exponent, fewer than 309 integer digits cannot overflow: the value is
        // finite and is parsed only when asked for.
        if !has_exponent && int_digits <= 308 {
            let (int, frac) = (
                &self.bytes[int_start..point],
                &self.bytes[point + 1..self.pos],
            );
            let (tag, wire) = match positional_spelling(int, frac) {
                Spelling::Repr => (Tag::ReprFloat, Wire::Canonical),
                Spelling::LongDigits => (Tag::Float, Wire::CanonicalIfFloats),
                Spelling::NotRepr => (Tag::Float, Wire::Respelled),
            };
            self.push(Entry::new(tag, u32_of(start), u32_of(self.pos)));
            return Ok(wire);
        }
        // The literal matched JSON's number grammar, which Rust's float parser accepts.
        let value: f64 = self.text[start..self.pos]
            .parse()
            .map_err(|_| self.malformed("number out of range"))?;
        if !value.is_finite() {
            return Err(JsonError::NonFiniteNumber { offset: start });
        }
        self.push(Entry::new(Tag::Float, u32_of(start), u32_of(self.pos)));
        Ok(Wire::Respelled)
    }

    pub(super) fn skip_digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    /// Parses a string starting at its opening quote. Without escapes it stays a span of
    /// the input; with them it is decoded into the tape's buffer. Says whether the wire
    /// text is canonical: every escape one that Python's `json.dumps` writes.
    pub(super) fn string(&mut self) -> Result<Wire, JsonError> {
        let quote = u32_of(self.pos);
        self.pos += 1;
        let start = self.pos;
        self.pos = plain_run_end(self.bytes, self.pos);
        match self.peek() {
            Some(b'"') => {
                self.pos += 1;
                self.push(Entry::new(Tag::RawString, quote, u32_of(self.pos)));
                return Ok(Wire::Canonical);
            }
            Some(b'\\') => {}
            Some(_) => return Err(self.malformed("control character in string")),
            None => return Err(self.malformed("unterminated string")),
        }
        let decoded_start = self.tape.decoded.len();
        self.tape.decoded.push_str(&self.text[start..self.pos]);
        let mut canonical = true;
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    let mut entry = Entry::new(Tag::DecodedString, quote, u32_of(self.pos));
                    entry.a = u32_of(decoded_start);
                    entry.b = u32_of(self.tape.decoded.len() - decoded_start);
                    self.push(entry);
                    return Ok(Wire::of(canonical));
                }
                Some(b'\\') => canonical &= self.escape()?,
                Some(_) => return Err(self.malformed("control character in string")),
                None => return Err(self.malformed("unterminated string")),
            }
            let run_start = self.pos;
            self.pos = plain_run_end(self.bytes, self.pos);
            self.tape.decoded.push_str(&self.text[run_start..self.pos]);
        }
    }

    /// Decodes one escape; says whether it is the one Python's `json.dumps` writes for
    /// its character (`\"`, `\\`, the five short control escapes, `\u00xx` for the
    /// other control characters), so that the escaped wire text is canonical.
    pub(super) fn escape(&mut self) -> Result<bool, JsonError> {
        let escape_at = self.pos;
        self.pos += 1;
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => {
                self.pos += 1;
                self.tape.decoded.push('/');
                return Ok(false);
            }
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
                let digits = &self.bytes[escape_at + 2..self.pos];
                let short_form = matches!(c, '\u{8}' | '\t' | '\n' | '\u{c}' | '\r');
                return Ok(c < ' ' && !short_form && !digits.iter().any(u8::is_ascii_uppercase));
            }
            _ => return Err(self.malformed("invalid escape")),
        };
        self.pos += 1;
        self.tape.decoded.push(c);
        Ok(true)
    }

    pub(super) fn hex4(&mut self) -> Result<u32, JsonError> {
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

pub(crate) fn duplicate_key(key: &[u8]) -> JsonError {
    let key = String::from_utf8_lossy(key);
    let mut end = key.len().min(64);
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    JsonError::DuplicateKey {
        key: key[..end].to_owned(),
    }
}
