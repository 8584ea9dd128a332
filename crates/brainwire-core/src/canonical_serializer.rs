//! Canonical JSON straight from a `Serialize` value: what the reference would sign for
//! the text `serde_json` writes of it, without writing that text and parsing it back.
//!
//! Members are written as they come and put in key order when their object ends (one
//! copy of that object's text, only when it was out of order). A [`JsonObject`] built by
//! [`JsonObject::from_serialize`] is canonical already and is copied; other raw JSON
//! (text as received) is parsed and written canonically.

use serde::ser::{self, Impossible, Serialize};

use crate::canonical::key_order;
use crate::float_repr::write_python_repr;
use crate::raw_json::CANONICAL_TOKEN;
use crate::tape::duplicate_key;
#[cfg(doc)]
use crate::JsonObject;
use crate::{write_string, JsonError, Limits, Tape};

/// The struct name `serde_json` gives its raw values (`RawValue`'s `Serialize`).
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// The canonical JSON of `value`, exactly [`canonicalize`](crate::canonicalize) of
/// `serde_json::to_vec(value)`, written in one pass.
///
/// Like `serde_json`, it writes non-finite floats as `null` and integer map keys as
/// strings. Raw JSON it meets ([`JsonObject`], [`JsonValue`](crate::JsonValue)) is parsed
/// under `limits`, unless it is a [`JsonObject`] already in canonical form.
///
/// ```
/// use std::collections::BTreeMap;
///
/// #[derive(serde::Serialize)]
/// struct Status { zeta: f64, alpha: Option<u8>, tags: BTreeMap<u16, &'static str> }
///
/// let status = Status { zeta: 1e16, alpha: None, tags: BTreeMap::from([(10, "b"), (9, "a")]) };
/// let canonical = brainwire_core::canonicalize_value(&status, &brainwire_core::Limits::default())?;
/// assert_eq!(canonical, br#"{"alpha":null,"tags":{"10":"b","9":"a"},"zeta":1e+16}"#);
/// # Ok::<(), brainwire_core::JsonError>(())
/// ```
///
/// # Errors
///
/// [`JsonError::Unserializable`] when the value refuses to serialize or has a map key
/// that is not a string or an integer, [`JsonError::DuplicateKey`] for two members with
/// one key, and the parser's error for raw JSON it refuses.
pub fn canonicalize_value<T: Serialize + ?Sized>(
    value: &T,
    limits: &Limits,
) -> Result<Vec<u8>, JsonError> {
    let mut out = Vec::with_capacity(256);
    write_canonical_value(value, limits, &mut out)?;
    Ok(out)
}

/// How [`write_canonical_value`] wrote the raw JSON texts ([`JsonObject`],
/// [`JsonValue`](crate::JsonValue)) a value holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RawTexts {
    /// None was written other than as it is held: there was none, or each was a
    /// canonical [`JsonObject`], copied. The output is then fit to send as well as to
    /// sign: it spells every held text as the value holds it.
    Copied,
    /// At least one (received, or given as text) was parsed and written in canonical
    /// form: right for a MAC, but it respells that text on the wire.
    Respelled,
}

/// [`canonicalize_value`] appending to `out`, saying whether raw JSON texts were
/// respelled; on an error, `out` holds a partial text.
///
/// # Errors
///
/// As [`canonicalize_value`].
pub fn write_canonical_value<T: Serialize + ?Sized>(
    value: &T,
    limits: &Limits,
    out: &mut Vec<u8>,
) -> Result<RawTexts, JsonError> {
    let mut writer = Writer {
        out,
        limits,
        // Room for the members of a typical payload and the objects it nests.
        members: Vec::with_capacity(16),
        tape: None,
        raw_is_canonical: false,
    };
    value.serialize(&mut writer).map_err(|e| e.0)?;
    Ok(if writer.tape.is_some() {
        RawTexts::Respelled
    } else {
        RawTexts::Copied
    })
}

/// A serialization error: the [`JsonError`] it becomes.
#[derive(Debug)]
struct Error(JsonError);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        unserializable(msg.to_string())
    }
}

fn unserializable(reason: impl Into<String>) -> Error {
    let mut reason = reason.into();
    if reason.len() > 128 {
        let mut end = 128;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    Error(JsonError::Unserializable { reason })
}

/// Where one member of an open object sits in the output: its key's text (without
/// quotes) and the whole `"key":value`.
#[derive(Clone, Copy)]
struct MemberSpan {
    key: (usize, usize),
    member: (usize, usize),
    /// Whether the key was written with an escape (then its text does not sort as the
    /// key does).
    escaped: bool,
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
    limits: &'a Limits,
    /// The members of every object still open, innermost last.
    members: Vec<MemberSpan>,
    /// For raw JSON that is not known to be canonical (made at the first such text, so
    /// it also says whether there was one).
    tape: Option<Tape>,
    /// Set by a canonical [`JsonObject`] for the raw value it serializes next.
    raw_is_canonical: bool,
}

impl<'a> Writer<'a> {
    fn raw(&mut self, text: &str, canonical: bool) -> Result<(), Error> {
        if canonical {
            self.out.extend_from_slice(text.as_bytes());
            return Ok(());
        }
        let tape = self.tape.get_or_insert_with(Tape::new);
        let doc = tape.parse(text.as_bytes(), self.limits).map_err(Error)?;
        doc.root().write_canonical(self.out);
        Ok(())
    }

    fn float(&mut self, value: f64) {
        if value.is_finite() {
            write_python_repr(value, self.out);
        } else {
            self.out.extend_from_slice(b"null");
        }
    }

    fn integer(&mut self, value: impl itoa_like::Integer) {
        value.write(self.out);
    }

    fn open_object<'w>(&'w mut self, in_variant: bool) -> Object<'w, 'a> {
        self.out.push(b'{');
        let first = self.members.len();
        Object {
            writer: self,
            first,
            raw: None,
            in_variant,
        }
    }
}

/// Integers written in decimal without going through `fmt`.
mod itoa_like {
    /// An integer type the writer prints.
    pub(super) trait Integer {
        fn write(self, out: &mut Vec<u8>);
    }

    macro_rules! unsigned {
        ($($t:ty),*) => {$(
            impl Integer for $t {
                fn write(self, out: &mut Vec<u8>) {
                    let mut digits = [0u8; 40];
                    let mut at = digits.len();
                    let mut n = self;
                    loop {
                        at -= 1;
                        digits[at] = b'0' + (n % 10) as u8;
                        n /= 10;
                        if n == 0 {
                            break;
                        }
                    }
                    out.extend_from_slice(&digits[at..]);
                }
            }
        )*};
    }

    macro_rules! signed {
        ($($t:ty => $u:ty),*) => {$(
            impl Integer for $t {
                fn write(self, out: &mut Vec<u8>) {
                    if self < 0 {
                        out.push(b'-');
                    }
                    self.unsigned_abs().write(out);
                }
            }
        )*};
    }

    unsigned!(u8, u16, u32, u64, u128);
    signed!(i8 => u8, i16 => u16, i32 => u32, i64 => u64, i128 => u128);
}

/// An object being written; its members are sorted when it ends.
struct Object<'w, 'a> {
    writer: &'w mut Writer<'a>,
    /// Its first entry in `writer.members`.
    first: usize,
    /// For `serde_json`'s raw value struct: whether its text is known canonical.
    raw: Option<bool>,
    /// Whether a `{"variant":` wraps it.
    in_variant: bool,
}

impl Object<'_, '_> {
    /// Writes `"key":value` with the key written by `write_key`, and records where.
    fn member(
        &mut self,
        write_key: impl FnOnce(&mut Vec<u8>) -> Result<bool, Error>,
        value: &(impl Serialize + ?Sized),
    ) -> Result<(), Error> {
        let out = &mut *self.writer.out;
        if self.writer.members.len() > self.first {
            out.push(b',');
        }
        let start = out.len();
        let escaped = write_key(out)?;
        let key = (start + 1, out.len() - 1);
        out.push(b':');
        value.serialize(&mut *self.writer)?;
        let end = self.writer.out.len();
        self.writer.members.push(MemberSpan {
            key,
            member: (start, end),
            escaped,
        });
        Ok(())
    }

    fn field(&mut self, key: &str, value: &(impl Serialize + ?Sized)) -> Result<(), Error> {
        self.member(|out| Ok(write_key(key, out)), value)
    }

    fn end(self) -> Result<(), Error> {
        let writer = self.writer;
        let spans = &mut writer.members[self.first..];
        let out = &mut *writer.out;
        let text = |span: &MemberSpan| span.key.0..span.key.1;
        let in_order = if spans.iter().any(|s| s.escaped) {
            sort_escaped(spans, out)
        } else {
            let in_order = spans
                .windows(2)
                .all(|w| key_order(&out[text(&w[0])], &out[text(&w[1])]).is_lt());
            if !in_order {
                spans.sort_unstable_by(|a, b| key_order(&out[text(a)], &out[text(b)]));
            }
            in_order
        };
        if !in_order {
            // One key is always escaped the same way: equal texts are equal keys.
            if let Some(w) = spans
                .windows(2)
                .find(|w| out[text(&w[0])] == out[text(&w[1])])
            {
                let key: Vec<u8> = unescaped(&out[text(&w[0])]).collect();
                return Err(Error(duplicate_key(&key)));
            }
            // The members' text is copied past the end of the output and comes back in
            // key order over the original (no buffer of its own to allocate).
            let region = spans.iter().map(|s| s.member.0).min().unwrap_or(out.len());
            let end = out.len();
            out.extend_from_within(region..end);
            let mut at = region;
            for (i, span) in spans.iter().enumerate() {
                if i > 0 {
                    out[at] = b',';
                    at += 1;
                }
                let (from, to) = (span.member.0 - region + end, span.member.1 - region + end);
                out.copy_within(from..to, at);
                at += to - from;
            }
            debug_assert_eq!(at, end, "the members and their commas fill the region");
            out.truncate(end);
        }
        writer.members.truncate(self.first);
        writer.out.push(b'}');
        if self.in_variant {
            writer.out.push(b'}');
        }
        Ok(())
    }
}

impl ser::SerializeStruct for Object<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        match self.raw {
            // `serde_json`'s raw value: one field, its text.
            Some(canonical) => value.serialize(RawText {
                writer: &mut *self.writer,
                canonical,
            }),
            None => self.field(key, value),
        }
    }

    fn end(self) -> Result<(), Error> {
        match self.raw {
            Some(_) => Ok(()),
            None => Object::end(self),
        }
    }
}

impl ser::SerializeMap for Object<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, _key: &T) -> Result<(), Error> {
        Err(unserializable("map keys come with their values"))
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, _value: &T) -> Result<(), Error> {
        Err(unserializable("map values come with their keys"))
    }

    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), Error> {
        self.member(|out| key.serialize(KeyWriter { out }), value)
    }

    fn end(self) -> Result<(), Error> {
        Object::end(self)
    }
}

impl ser::SerializeStructVariant for Object<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), Error> {
        Object::end(self)
    }
}

/// Sorts the members of an object with an escaped key by what their keys stand for;
/// says whether they were in order already. Off the common path: escaped keys are rare.
#[cold]
fn sort_escaped(spans: &mut [MemberSpan], out: &[u8]) -> bool {
    let order = |a: &MemberSpan, b: &MemberSpan| {
        unescaped(&out[a.key.0..a.key.1]).cmp(unescaped(&out[b.key.0..b.key.1]))
    };
    let in_order = spans.windows(2).all(|w| order(&w[0], &w[1]).is_lt());
    if !in_order {
        spans.sort_unstable_by(order);
    }
    in_order
}

/// The bytes a string written by [`write_string`] stands for, which is how escaped keys
/// are compared (`\u0000` stands before a space; its backslash would sort after). Its
/// escapes are `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f` and `\u00XX`.
fn unescaped(text: &[u8]) -> impl Iterator<Item = u8> + '_ {
    let mut bytes = text.iter().copied();
    std::iter::from_fn(move || {
        let byte = bytes.next()?;
        if byte != b'\\' {
            return Some(byte);
        }
        Some(match bytes.next()? {
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'u' => {
                let mut hex = [0u8; 4];
                for digit in &mut hex {
                    *digit = bytes.next()?;
                }
                let hex = std::str::from_utf8(&hex).ok()?;
                u8::from_str_radix(hex, 16).ok()?
            }
            other => other,
        })
    })
}

/// An array being written.
struct Array<'w, 'a> {
    writer: &'w mut Writer<'a>,
    empty: bool,
    /// Whether a `{"variant":` wraps it.
    in_variant: bool,
}

impl Array<'_, '_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !std::mem::take(&mut self.empty) {
            self.writer.out.push(b',');
        }
        value.serialize(&mut *self.writer)
    }

    fn close(self) -> Result<(), Error> {
        self.writer.out.push(b']');
        if self.in_variant {
            self.writer.out.push(b'}');
        }
        Ok(())
    }
}

macro_rules! array_impl {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Array<'_, '_> {
            type Ok = ();
            type Error = Error;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.item(value)
            }

            fn end(self) -> Result<(), Error> {
                self.close()
            }
        }
    )*};
}

array_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl<'w, 'a> ser::Serializer for &'w mut Writer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Array<'w, 'a>;
    type SerializeTuple = Array<'w, 'a>;
    type SerializeTupleStruct = Array<'w, 'a>;
    type SerializeTupleVariant = Array<'w, 'a>;
    type SerializeMap = Object<'w, 'a>;
    type SerializeStruct = Object<'w, 'a>;
    type SerializeStructVariant = Object<'w, 'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.integer(v);
        Ok(())
    }

    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.integer(v);
        Ok(())
    }

    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.integer(v);
        Ok(())
    }

    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.integer(v);
        Ok(())
    }

    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.integer(v);
        Ok(())
    }

    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.integer(v);
        Ok(())
    }

    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.integer(v);
        Ok(())
    }

    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.integer(v);
        Ok(())
    }

    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.integer(v);
        Ok(())
    }

    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.integer(v);
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        // `serde_json` writes an f32's own shortest digits; Python reads them as a double.
        if v.is_finite() {
            let digits = ryu::Buffer::new().format_finite(v).parse::<f64>();
            self.float(digits.expect("ryu writes a valid float"));
        } else {
            self.float(f64::NAN);
        }
        Ok(())
    }

    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.float(v);
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_string(v.encode_utf8(&mut [0; 4]), self.out);
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_string(v, self.out);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        // As `serde_json`: an array of numbers.
        let mut array = self.serialize_seq(Some(v.len()))?;
        for byte in v {
            ser::SerializeSeq::serialize_element(&mut array, byte)?;
        }
        ser::SerializeSeq::end(array)
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        // A canonical `JsonObject` wraps its raw value in this token.
        self.raw_is_canonical = name == CANONICAL_TOKEN;
        let written = value.serialize(&mut *self);
        self.raw_is_canonical = false;
        written
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        // `{"variant":value}`: one member, in order.
        self.out.push(b'{');
        write_string(variant, self.out);
        self.out.push(b':');
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Array<'w, 'a>, Error> {
        self.out.push(b'[');
        Ok(Array {
            writer: self,
            empty: true,
            in_variant: false,
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<Array<'w, 'a>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Array<'w, 'a>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Array<'w, 'a>, Error> {
        self.out.push(b'{');
        write_string(variant, self.out);
        self.out.extend_from_slice(b":[");
        Ok(Array {
            writer: self,
            empty: true,
            in_variant: true,
        })
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Object<'w, 'a>, Error> {
        Ok(self.open_object(false))
    }

    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<Object<'w, 'a>, Error> {
        let canonical = std::mem::take(&mut self.raw_is_canonical);
        if name == RAW_VALUE_TOKEN {
            let first = self.members.len();
            return Ok(Object {
                writer: self,
                first,
                raw: Some(canonical),
                in_variant: false,
            });
        }
        Ok(self.open_object(false))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Object<'w, 'a>, Error> {
        self.out.push(b'{');
        write_string(variant, self.out);
        self.out.push(b':');
        Ok(self.open_object(true))
    }
}

/// The field of `serde_json`'s raw value struct: its JSON text.
struct RawText<'w, 'a> {
    writer: &'w mut Writer<'a>,
    canonical: bool,
}

/// The serde shapes a text-only serializer ([`RawText`], [`KeyWriter`]) refuses with
/// `$refused`: everything but strings, characters, integers, unit variants and newtype
/// structs, which each of them decides itself.
macro_rules! refuse_other_shapes {
    ($ok:ty, $refused:expr) => {
        type Ok = $ok;
        type Error = Error;
        type SerializeSeq = Impossible<$ok, Error>;
        type SerializeTuple = Impossible<$ok, Error>;
        type SerializeTupleStruct = Impossible<$ok, Error>;
        type SerializeTupleVariant = Impossible<$ok, Error>;
        type SerializeMap = Impossible<$ok, Error>;
        type SerializeStruct = Impossible<$ok, Error>;
        type SerializeStructVariant = Impossible<$ok, Error>;

        fn serialize_bool(self, _: bool) -> Result<$ok, Error> {
            Err($refused)
        }
        fn serialize_f32(self, _: f32) -> Result<$ok, Error> {
            Err($refused)
        }
        fn serialize_f64(self, _: f64) -> Result<$ok, Error> {
            Err($refused)
        }
        fn serialize_bytes(self, _: &[u8]) -> Result<$ok, Error> {
            Err($refused)
        }
        fn serialize_none(self) -> Result<$ok, Error> {
            Err($refused)
        }
        fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<$ok, Error> {
            Err($refused)
        }
        fn serialize_unit(self) -> Result<$ok, Error> {
            Err($refused)
        }
        fn serialize_unit_struct(self, _: &'static str) -> Result<$ok, Error> {
            Err($refused)
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<$ok, Error> {
            Err($refused)
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
            Err($refused)
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
            Err($refused)
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, Error> {
            Err($refused)
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Error> {
            Err($refused)
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
            Err($refused)
        }
        fn serialize_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStruct, Error> {
            Err($refused)
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, Error> {
            Err($refused)
        }
    };
}

impl ser::Serializer for RawText<'_, '_> {
    refuse_other_shapes!((), not_raw_text());

    fn serialize_str(self, text: &str) -> Result<(), Error> {
        self.writer.raw(text, self.canonical)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_char(self, _: char) -> Result<(), Error> {
        Err(not_raw_text())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Error> {
        Err(not_raw_text())
    }
    fn serialize_i8(self, _: i8) -> Result<(), Error> {
        Err(not_raw_text())
    }
    fn serialize_i16(self, _: i16) -> Result<(), Error> {
        Err(not_raw_text())
    }
    fn serialize_i32(self, _: i32) -> Result<(), Error> {
        Err(not_raw_text())
    }
    fn serialize_i64(self, _: i64) -> Result<(), Error> {
        Err(not_raw_text())
    }
    fn serialize_u8(self, _: u8) -> Result<(), Error> {
        Err(not_raw_text())
    }
    fn serialize_u16(self, _: u16) -> Result<(), Error> {
        Err(not_raw_text())
    }
    fn serialize_u32(self, _: u32) -> Result<(), Error> {
        Err(not_raw_text())
    }
    fn serialize_u64(self, _: u64) -> Result<(), Error> {
        Err(not_raw_text())
    }
}

fn not_raw_text() -> Error {
    unserializable("raw JSON is not text")
}

/// Writes a map key as a JSON string: strings as they are, integers in decimal (as
/// `serde_json` does); anything else is refused. Says whether the key took an escape.
struct KeyWriter<'o> {
    out: &'o mut Vec<u8>,
}

impl KeyWriter<'_> {
    fn digits(self, value: impl itoa_like::Integer) -> Result<bool, Error> {
        self.out.push(b'"');
        value.write(self.out);
        self.out.push(b'"');
        Ok(false)
    }
}

impl ser::Serializer for KeyWriter<'_> {
    refuse_other_shapes!(bool, not_key());

    fn serialize_str(self, v: &str) -> Result<bool, Error> {
        Ok(write_key(v, self.out))
    }
    fn serialize_char(self, v: char) -> Result<bool, Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<bool, Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<bool, Error> {
        value.serialize(self)
    }
    fn serialize_i8(self, v: i8) -> Result<bool, Error> {
        self.digits(v)
    }
    fn serialize_i16(self, v: i16) -> Result<bool, Error> {
        self.digits(v)
    }
    fn serialize_i32(self, v: i32) -> Result<bool, Error> {
        self.digits(v)
    }
    fn serialize_i64(self, v: i64) -> Result<bool, Error> {
        self.digits(v)
    }
    fn serialize_i128(self, v: i128) -> Result<bool, Error> {
        self.digits(v)
    }
    fn serialize_u8(self, v: u8) -> Result<bool, Error> {
        self.digits(v)
    }
    fn serialize_u16(self, v: u16) -> Result<bool, Error> {
        self.digits(v)
    }
    fn serialize_u32(self, v: u32) -> Result<bool, Error> {
        self.digits(v)
    }
    fn serialize_u64(self, v: u64) -> Result<bool, Error> {
        self.digits(v)
    }
    fn serialize_u128(self, v: u128) -> Result<bool, Error> {
        self.digits(v)
    }
}

/// Writes `key` as a JSON string; says whether it took an escape.
fn write_key(key: &str, out: &mut Vec<u8>) -> bool {
    let start = out.len();
    write_string(key, out);
    out.len() - start != key.len() + 2
}

fn not_key() -> Error {
    unserializable("map key is not a string or an integer")
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde::Serialize;

    use super::*;
    use crate::{canonicalize, JsonObject, JsonValue};

    /// Fields out of key order, every scalar and compound serde knows.
    #[derive(Serialize)]
    struct Everything {
        zeta: f64,
        alpha: Option<u8>,
        small: f32,
        huge: u128,
        negative: i64,
        nan: f64,
        text: &'static str,
        letter: char,
        bytes: serde_bytes_like::Bytes,
        by_number: BTreeMap<i32, bool>,
        by_name: HashMap<String, Vec<Shape>>,
        raw: JsonValue,
        raw_object: JsonObject,
        built: JsonObject,
        unit: (),
        tuple: (u8, &'static str),
        nested: Nested,
    }

    #[derive(Serialize)]
    struct Nested {
        y: [u8; 2],
        x: Option<Box<Nested>>,
    }

    #[derive(Serialize)]
    enum Shape {
        Dot,
        Circle(f64),
        Pair(u8, u8),
        Box { width: u8, height: u8 },
    }

    mod serde_bytes_like {
        /// Serializes through `serialize_bytes`.
        pub struct Bytes(pub &'static [u8]);

        impl serde::Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(self.0)
            }
        }
    }

    fn everything() -> Everything {
        Everything {
            zeta: 1e16,
            alpha: None,
            small: 0.1,
            huge: u128::MAX,
            negative: i64::MIN,
            nan: f64::NAN,
            text: "\"é\u{2028}\n\u{1}",
            letter: '😀',
            bytes: serde_bytes_like::Bytes(&[0, 255]),
            by_number: BTreeMap::from([(10, true), (9, false), (-1, true)]),
            by_name: HashMap::from([
                ("b".to_owned(), vec![Shape::Dot, Shape::Circle(-0.0)]),
                ("a".to_owned(), vec![Shape::Pair(1, 2)]),
                (
                    "é".to_owned(),
                    vec![Shape::Box {
                        width: 3,
                        height: 4,
                    }],
                ),
            ]),
            raw: JsonValue::from_text(r#"[1E2, {"b": -0, "a": "\u00e9"}]"#).unwrap(),
            raw_object: JsonObject::from_text(r#"{"z": 1e-5, "y": 0.00001}"#).unwrap(),
            built: JsonObject::from_serialize(&serde_json::json!({"q": 1.5e300, "p": [true]}))
                .unwrap(),
            unit: (),
            tuple: (7, "seven"),
            nested: Nested {
                y: [1, 2],
                x: Some(Box::new(Nested { y: [3, 4], x: None })),
            },
        }
    }

    #[test]
    fn agrees_with_canonicalizing_what_serde_json_writes() {
        let value = everything();
        let through_text =
            canonicalize(&serde_json::to_vec(&value).unwrap(), &Limits::default()).unwrap();
        let direct = canonicalize_value(&value, &Limits::default()).unwrap();
        assert_eq!(
            String::from_utf8(direct).unwrap(),
            String::from_utf8(through_text).unwrap()
        );
    }

    #[test]
    fn canonical_objects_are_copied_and_others_parsed() {
        // A text marked canonical is copied as it is: the marker is what saves the parse.
        let built = JsonObject::from_serialize(&serde_json::json!({"b": 1, "a": 1e-5})).unwrap();
        assert_eq!(built.as_str(), r#"{"a":1e-05,"b":1}"#);
        assert!(built.is_canonical());
        // The same text taken as given is parsed, and comes out the same.
        let given = JsonObject::from_text(built.as_str()).unwrap();
        assert!(!given.is_canonical());
        let limits = Limits::default();
        assert_eq!(
            canonicalize_value(&[&built, &given], &limits).unwrap(),
            br#"[{"a":1e-05,"b":1},{"a":1e-05,"b":1}]"#
        );
        let mut out = Vec::new();
        let written = write_canonical_value(&[&built, &built], &limits, &mut out);
        assert_eq!(written, Ok(RawTexts::Copied));
        let written = write_canonical_value(&[&built, &given], &limits, &mut out);
        assert_eq!(written, Ok(RawTexts::Respelled));
        let written = write_canonical_value(&JsonValue::from(7_u64), &limits, &mut out);
        assert_eq!(
            written,
            Ok(RawTexts::Respelled),
            "JsonValue is never known canonical"
        );
        // Raw text refused by the parser is refused here too.
        let deep = JsonObject::from_text(r#"{"a":[[[1]]]}"#).unwrap();
        let err = canonicalize_value(&deep, &Limits::default().max_depth(2)).unwrap_err();
        assert_eq!(err.kind(), "too_deep");
    }

    #[test]
    fn escaped_keys_sort_by_what_they_stand_for() {
        // Written escaped, `\u0000` would sort after a space by its backslash.
        let keys = BTreeMap::from([(" ", 2), ("\u{0}", 3), ("", 1), ("\"", 4), ("!", 5)]);
        let through_text =
            canonicalize(&serde_json::to_vec(&keys).unwrap(), &Limits::default()).unwrap();
        let mut shuffled = HashMap::new();
        shuffled.extend(keys);
        let direct = canonicalize_value(&shuffled, &Limits::default()).unwrap();
        assert_eq!(direct, through_text);
        assert_eq!(direct, br#"{"":1,"\u0000":3," ":2,"!":5,"\"":4}"#);
    }

    #[test]
    fn refuses_keys_json_has_no_text_for_and_duplicate_members() {
        let limits = Limits::default();
        let by_float = BTreeMap::from([(vec![1u8], 1)]);
        assert_eq!(
            canonicalize_value(&by_float, &limits).unwrap_err().kind(),
            "unserializable"
        );
        /// A map that names one key twice.
        struct Twice;
        impl Serialize for Twice {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut map = s.serialize_map(None)?;
                map.serialize_entry("k", &1)?;
                map.serialize_entry(&7, &2)?;
                map.serialize_entry("k", &3)?;
                map.end()
            }
        }
        assert_eq!(
            canonicalize_value(&Twice, &limits).unwrap_err(),
            JsonError::DuplicateKey { key: "k".into() }
        );
        /// A value whose `Serialize` fails.
        struct Fails;
        impl Serialize for Fails {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("no text for this"))
            }
        }
        assert_eq!(
            canonicalize_value(&Fails, &limits).unwrap_err(),
            JsonError::Unserializable {
                reason: "no text for this".into()
            }
        );
    }
}
