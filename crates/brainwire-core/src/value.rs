//! A borrowed JSON tree in the reference's data model, and its parser.
//!
//! The tree is what Python's `json.loads` would build, minus what Python gets wrong for
//! signing: integers keep their exact digits, floats are `f64`, strings are decoded (and
//! borrowed from the input when they hold no escape), and object members are sorted by
//! key bytes (code point order) with duplicates refused.

use std::borrow::Cow;

use crate::{JsonError, Limits};

/// One JSON value borrowed from the input document.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A number without `.`, `e` or `E`: its exact digits, with an optional leading `-`.
    /// `-0` is kept as written; the canonical writer prints it as `0`, like Python.
    Integer(&'a str),
    /// Any other number, correctly rounded like Python's `float()`, always finite.
    Float(f64),
    /// A string with its escapes decoded.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Value<'a>>),
    /// An object, members sorted by key bytes, keys unique.
    Object(Vec<(Cow<'a, str>, Value<'a>)>),
}

impl<'a> Value<'a> {
    /// Parses a whole document under `limits`.
    ///
    /// # Errors
    ///
    /// Any [`JsonError`]: not UTF-8, a byte order mark, malformed JSON, a non-finite
    /// number, an over-long integer, a lone surrogate, a duplicate key, too deep or too
    /// large.
    pub fn parse(input: &'a [u8], limits: &Limits) -> Result<Self, JsonError> {
        if input.len() > limits.max_bytes {
            return Err(JsonError::TooLarge {
                size: input.len(),
                max: limits.max_bytes,
            });
        }
        if input.starts_with(b"\xEF\xBB\xBF") {
            return Err(JsonError::ByteOrderMark);
        }
        let text = std::str::from_utf8(input).map_err(|e| JsonError::NotUtf8 {
            valid_up_to: e.valid_up_to(),
        })?;
        let mut parser = Parser {
            text,
            bytes: input,
            pos: 0,
            depth_left: limits.effective_depth(),
            limits,
        };
        parser.skip_ws();
        let value = parser.value()?;
        parser.skip_ws();
        if parser.pos != input.len() {
            return Err(parser.malformed("trailing characters"));
        }
        Ok(value)
    }

    /// The member named `key`, when this is an object.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Self::Object(members) => members
                .binary_search_by(|(k, _)| k.as_bytes().cmp(key.as_bytes()))
                .ok()
                .map(|i| &members[i].1),
            _ => None,
        }
    }

    /// The string, when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The members, when this is an object.
    pub fn as_object(&self) -> Option<&[(Cow<'a, str>, Value<'a>)]> {
        match self {
            Self::Object(members) => Some(members),
            _ => None,
        }
    }
}

struct Parser<'a, 'l> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth_left: usize,
    limits: &'l Limits,
}

impl<'a> Parser<'a, '_> {
    fn malformed(&self, reason: &'static str) -> JsonError {
        JsonError::Malformed {
            offset: self.pos,
            reason,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// JSON's four whitespace bytes, the same set Python's scanner skips.
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn eat_literal(&mut self, literal: &'static str) -> Result<(), JsonError> {
        if self.bytes[self.pos..].starts_with(literal.as_bytes()) {
            self.pos += literal.len();
            Ok(())
        } else {
            Err(self.malformed("expected a value"))
        }
    }

    fn value(&mut self) -> Result<Value<'a>, JsonError> {
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b't') => self.eat_literal("true").map(|()| Value::Bool(true)),
            Some(b'f') => self.eat_literal("false").map(|()| Value::Bool(false)),
            Some(b'n') => self.eat_literal("null").map(|()| Value::Null),
            Some(b'N' | b'I') => Err(JsonError::NonFiniteNumber { offset: self.pos }),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.malformed("expected a value")),
            None => Err(self.malformed("unexpected end of input")),
        }
    }

    fn enter(&mut self) -> Result<(), JsonError> {
        if self.depth_left == 0 {
            return Err(JsonError::TooDeep {
                max: self.limits.effective_depth(),
            });
        }
        self.depth_left -= 1;
        self.pos += 1;
        Ok(())
    }

    fn array(&mut self) -> Result<Value<'a>, JsonError> {
        self.enter()?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth_left += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    self.depth_left += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.malformed("expected ',' or ']'")),
            }
        }
    }

    fn object(&mut self) -> Result<Value<'a>, JsonError> {
        self.enter()?;
        let mut members: Vec<(Cow<'a, str>, Value<'a>)> = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth_left += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.malformed("expected a string key"));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.malformed("expected ':'"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value()?;
            members.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    self.depth_left += 1;
                    break;
                }
                _ => return Err(self.malformed("expected ',' or '}'")),
            }
        }
        // Members are usually written in order already; sort only when they are not.
        if !members
            .windows(2)
            .all(|w| w[0].0.as_bytes() < w[1].0.as_bytes())
        {
            members.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            if let Some(dup) = members.windows(2).find(|w| w[0].0 == w[1].0) {
                return Err(duplicate_key(&dup[0].0));
            }
        }
        Ok(Value::Object(members))
    }

    fn number(&mut self) -> Result<Value<'a>, JsonError> {
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
        if let Some(b'e' | b'E') = self.peek() {
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
        let literal = &self.text[start..self.pos];
        if !is_float {
            if int_digits > self.limits.max_integer_digits {
                return Err(JsonError::IntegerTooLong {
                    offset: start,
                    digits: int_digits,
                    max: self.limits.max_integer_digits,
                });
            }
            return Ok(Value::Integer(literal));
        }
        // The literal matched JSON's number grammar, which Rust's float parser accepts.
        let value: f64 = literal
            .parse()
            .map_err(|_| self.malformed("number out of range"))?;
        if !value.is_finite() {
            return Err(JsonError::NonFiniteNumber { offset: start });
        }
        Ok(Value::Float(value))
    }

    fn skip_digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    /// Parses a string starting at its opening quote; borrows when it holds no escape.
    fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek() {
                Some(b'"') => {
                    let s = &self.text[start..self.pos];
                    self.pos += 1;
                    return Ok(Cow::Borrowed(s));
                }
                Some(b'\\') => break,
                Some(0..=0x1f) => return Err(self.malformed("control character in string")),
                Some(_) => self.pos += 1,
                None => return Err(self.malformed("unterminated string")),
            }
        }
        let mut owned = String::with_capacity(self.pos - start + 16);
        owned.push_str(&self.text[start..self.pos]);
        loop {
            let run_start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            owned.push_str(&self.text[run_start..self.pos]);
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(owned));
                }
                Some(b'\\') => self.escape(&mut owned)?,
                Some(_) => return Err(self.malformed("control character in string")),
                None => return Err(self.malformed("unterminated string")),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
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
                out.push(c);
                return Ok(());
            }
            _ => return Err(self.malformed("invalid escape")),
        };
        self.pos += 1;
        out.push(c);
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

fn duplicate_key(key: &str) -> JsonError {
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

    fn parse(s: &str) -> Result<Value<'_>, JsonError> {
        Value::parse(s.as_bytes(), &Limits::default())
    }

    #[test]
    fn objects_are_sorted_by_key_bytes() {
        let v = parse(r#"{"b":1,"a":2,"é":3,"z":4}"#).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().iter().map(|(k, _)| &**k).collect();
        assert_eq!(keys, ["a", "b", "z", "é"]);
        assert_eq!(v.get("a"), Some(&Value::Integer("2")));
        assert_eq!(v.get("q"), None);
    }

    #[test]
    fn refusals_name_their_reason() {
        let cases: &[(&str, &str)] = &[
            (r#"{"a":1,"a":2}"#, "duplicate_key"),
            (r#"{"a":1,"b":{"x":1,"x":1}}"#, "duplicate_key"),
            ("NaN", "non_finite_number"),
            ("[Infinity]", "non_finite_number"),
            ("-Infinity", "non_finite_number"),
            ("1e400", "non_finite_number"),
            (r#""\ud800""#, "lone_surrogate"),
            (r#""\udc00x""#, "lone_surrogate"),
            (r#""\ud800\u0041""#, "lone_surrogate"),
            ("01", "malformed_json"),
            ("1.", "malformed_json"),
            ("{\"a\":1,}", "malformed_json"),
            ("\"a\u{1}\"", "malformed_json"),
            (r#""\x""#, "malformed_json"),
            ("", "malformed_json"),
            ("1 2", "malformed_json"),
            ("\u{feff}1", "byte_order_mark"),
        ];
        for (input, kind) in cases {
            let err = parse(input).unwrap_err();
            assert_eq!(err.kind(), *kind, "{input:?} gave {err}");
        }
    }

    #[test]
    fn invalid_utf8_is_refused() {
        let err = Value::parse(b"\"\xff\"", &Limits::default()).unwrap_err();
        assert_eq!(err, JsonError::NotUtf8 { valid_up_to: 1 });
        // CESU-8 encoded surrogate: not UTF-8 either, Python refuses it too.
        let err = Value::parse(b"\"\xed\xa0\x80\"", &Limits::default()).unwrap_err();
        assert_eq!(err.kind(), "not_utf8");
    }

    #[test]
    fn depth_limit_is_exact() {
        let limits = Limits::default().max_depth(3);
        assert!(Value::parse(b"[[[1]]]", &limits).is_ok());
        assert_eq!(
            Value::parse(b"[[[[1]]]]", &limits).unwrap_err(),
            JsonError::TooDeep { max: 3 }
        );
        // Depth is about nesting, not count: siblings do not add up.
        assert!(Value::parse(b"[[[1]],[[2]],{\"a\":[3]}]", &limits).is_ok());
    }

    #[test]
    fn default_depth_accepts_what_the_reference_signer_emits() {
        let deep = format!("{}{}", "[".repeat(256), "]".repeat(256));
        assert!(parse(&deep).is_ok());
        let deeper = format!("{}{}", "[".repeat(257), "]".repeat(257));
        assert_eq!(parse(&deeper).unwrap_err(), JsonError::TooDeep { max: 256 });
    }

    #[test]
    fn hostile_depth_does_not_overflow_the_stack() {
        let hostile = "[".repeat(1_000_000);
        assert_eq!(parse(&hostile).unwrap_err().kind(), "too_deep");
    }

    #[test]
    fn size_is_checked_first() {
        let limits = Limits::default().max_bytes(4);
        assert_eq!(
            Value::parse(b"12345", &limits).unwrap_err(),
            JsonError::TooLarge { size: 5, max: 4 }
        );
    }

    #[test]
    fn integer_digits_follow_cpython() {
        assert!(parse(&"7".repeat(4300)).is_ok());
        assert_eq!(
            parse(&"7".repeat(4301)).unwrap_err().kind(),
            "integer_too_long"
        );
        assert!(parse(&format!("-{}", "7".repeat(4300))).is_ok());
    }

    #[test]
    fn strings_decode_escapes_and_pairs() {
        let v = parse(r#""a\n\u00e9\ud83d\ude00\/""#).unwrap();
        assert_eq!(v.as_str(), Some("a\né😀/"));
        assert!(matches!(
            parse(r#""plain""#).unwrap(),
            Value::String(Cow::Borrowed("plain"))
        ));
    }
}
