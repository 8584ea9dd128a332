//! The canonical writer over `Node`: the reference's `json.dumps(sort_keys=True)` bytes.

use super::*;
use crate::canonical::key_order;
use crate::float_repr::{is_python_repr, write_python_repr};

impl<'t> Node<'t> {
    /// Appends this value's canonical form (see [`canonicalize`](crate::canonicalize)).
    pub fn write_canonical(&self, out: &mut Vec<u8>) {
        self.write(
            out,
            &mut Flush {
                at: usize::MAX,
                sink: &mut |_| {},
                floats_refused: false,
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
                floats_refused: false,
            },
        );
    }

    /// [`write_canonical_chunked`](Self::write_canonical_chunked) of this object with the
    /// members whose key `skip` names left out and the members of `extra` merged in, each
    /// a key with its whole member's canonical text (`"key":value`), in key order. A
    /// verifier writes a signed envelope this way: the frame without its MAC, with the
    /// session's binding, never held whole and without copying the frame. A key of
    /// `extra` that the object also has must be skipped, or both members are written;
    /// debug builds panic on that and on `extra` out of key order. Any other value than an
    /// object is written as `write_canonical_chunked` writes it.
    ///
    /// ```
    /// use brainwire_core::{Limits, Tape};
    ///
    /// let mut tape = Tape::new();
    /// let doc = tape.parse(br#"{"v":2,"mac":"x","b":[1, 2]}"#, &Limits::default())?;
    /// let mut out = Vec::new();
    /// let extra: [(&str, &[u8]); 2] = [("a", br#""a":0"#), ("c", br#""c":"s""#)];
    /// doc.root().write_canonical_merged(|key| key == "mac", extra, &mut out, 1024, &mut |_| {});
    /// assert_eq!(out, br#"{"a":0,"b":[1,2],"c":"s","v":2}"#);
    /// # Ok::<(), brainwire_core::JsonError>(())
    /// ```
    pub fn write_canonical_merged<'e>(
        &self,
        skip: impl Fn(&str) -> bool,
        extra: impl IntoIterator<Item = (&'e str, &'e [u8])>,
        buffer: &mut Vec<u8>,
        chunk_bytes: usize,
        sink: &mut impl FnMut(&[u8]),
    ) {
        let flush = &mut Flush {
            at: chunk_bytes,
            sink,
            floats_refused: false,
        };
        if self.entry().tag() != Tag::Object {
            self.write(buffer, flush);
            return;
        }
        let mut extra = extra
            .into_iter()
            .scan(None::<&str>, |previous, (key, member)| {
                debug_assert!(
                    previous.is_none_or(|p| key_order(p.as_bytes(), key.as_bytes()).is_lt()),
                    "extra members must come in key order, once each"
                );
                *previous = Some(key);
                Some((key, member))
            })
            .peekable();
        let mut first = true;
        let mut comma = |out: &mut Vec<u8>| {
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
        };
        buffer.push(b'{');
        for (key, value) in self.members() {
            if skip(key) {
                continue;
            }
            while let Some((_, member)) = extra
                .next_if(|(extra_key, _)| key_order(extra_key.as_bytes(), key.as_bytes()).is_lt())
            {
                comma(buffer);
                flush.copy(member, buffer);
            }
            debug_assert!(
                extra.peek().is_none_or(|(extra_key, _)| *extra_key != key),
                "an extra member repeats the key {key:?}, which is not skipped"
            );
            comma(buffer);
            self.write_member(value.index - 1, buffer, flush);
            flush.offer(buffer);
        }
        for (_, member) in extra {
            comma(buffer);
            flush.copy(member, buffer);
        }
        buffer.push(b'}');
    }

    /// Writes the member whose key is at `key` of this object: `"key":value` copied
    /// whole when the wire wrote it compactly and canonically, else key and value each
    /// written.
    fn write_member(&self, key: usize, out: &mut Vec<u8>, flush: &mut Flush<'_>) {
        let (k, v) = (self.doc.entry(key), self.doc.entry(key + 1));
        if k.tag() == Tag::RawString
            && v.start() == k.end + 1
            && self.at(key + 1).is_canonical_scalar()
        {
            out.extend_from_slice(&self.doc.text.as_bytes()[k.start() as usize..v.end as usize]);
        } else {
            self.at(key).write(out, flush);
            out.push(b':');
            self.at(key + 1).write(out, flush);
        }
    }

    /// The canonical writer; `flush` is offered the output after every item and member.
    pub(super) fn write(&self, out: &mut Vec<u8>, flush: &mut Flush<'_>) {
        let e = self.entry();
        match e.tag() {
            Tag::Array | Tag::Object if e.b == CANONICAL => {
                flush.copy(self.raw_text().as_bytes(), out);
            }
            Tag::Array | Tag::Object if e.b == CANONICAL_IF_FLOATS && !flush.floats_refused => {
                if self.long_floats_are_repr() {
                    flush.copy(self.raw_text().as_bytes(), out);
                } else {
                    // Inside, no container checks its floats again: each is checked once.
                    flush.floats_refused = true;
                    self.write(out, flush);
                    flush.floats_refused = false;
                }
            }
            Tag::Null => out.extend_from_slice(b"null"),
            Tag::True => out.extend_from_slice(b"true"),
            Tag::False => out.extend_from_slice(b"false"),
            Tag::Integer => {
                let digits = self.raw_text().as_bytes();
                if integer_is_canonical(digits) {
                    out.extend_from_slice(digits);
                } else {
                    out.push(b'0');
                }
            }
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
                    self.write_member(key, out, flush);
                    flush.offer(out);
                };
                if in_key_order(e.b) {
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

    /// Whether every float in this container is its `repr` (in a
    /// [`CANONICAL_IF_FLOATS`] container, only those of 16 or 17 digits can differ).
    pub(super) fn long_floats_are_repr(&self) -> bool {
        let end = self.entry().a as usize;
        (self.index + 1..end).all(|index| {
            let e = self.doc.entry(index);
            e.tag() != Tag::Float || is_python_repr(self.at(index).raw_text())
        })
    }
}

/// Where a chunked canonical write hands its output over, and from what size.
pub(super) struct Flush<'s> {
    pub(super) at: usize,
    pub(super) sink: &'s mut dyn FnMut(&[u8]),
    /// Set while writing a [`CANONICAL_IF_FLOATS`] container whose floats were refused.
    pub(super) floats_refused: bool,
}

impl Flush<'_> {
    /// Hands `out` over once it holds a chunk.
    #[inline]
    pub(super) fn offer(&mut self, out: &mut Vec<u8>) {
        if out.len() >= self.at {
            (self.sink)(out);
            out.clear();
        }
    }

    /// Appends `text`, already canonical; a chunk or more of it goes to the sink as it
    /// is, after what `out` holds, rather than through `out`.
    #[inline]
    pub(super) fn copy(&mut self, text: &[u8], out: &mut Vec<u8>) {
        if text.len() >= self.at {
            (self.sink)(out);
            out.clear();
            (self.sink)(text);
        } else {
            out.extend_from_slice(text);
        }
    }
}
