//! A borrowed JSON tree in the reference's data model, built from a [`Tape`].
//!
//! The tree is what Python's `json.loads` would build, minus what Python gets wrong for
//! signing: integers keep their exact digits, floats are `f64`, strings are decoded (and
//! borrowed from the input when they hold no escape), and object members are sorted by
//! key bytes (code point order) with duplicates refused. It costs an allocation per
//! container; the hot paths read the [`Tape`] instead.
//!
//! It exists as an oracle: the `canonical` fuzz target checks that this tree's own small
//! writer and the tape's writer produce the same bytes.

use std::borrow::Cow;

use crate::float_repr::write_python_repr;
use crate::tape::{Kind, Node};
use crate::{write_string, JsonError, Limits, Tape};

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
        let mut tape = Tape::new();
        let doc = tape.parse(input, limits)?;
        let text = std::str::from_utf8(input).expect("the tape checked UTF-8");
        Ok(Self::from_node(doc.root(), text))
    }

    /// The tree of a tape node, borrowing from `text` (the tape's input) where it can.
    fn from_node(node: Node<'_>, text: &'a str) -> Self {
        match node.kind() {
            Kind::Null => Self::Null,
            Kind::Bool => Self::Bool(node.as_bool().expect("a bool")),
            Kind::Integer => Self::Integer(&text[node.input_span().expect("an integer")]),
            Kind::Float => Self::Float(node.as_f64().expect("a float")),
            Kind::String => Self::String(Self::text_of(node, text)),
            Kind::Array => Self::Array(node.items().map(|n| Self::from_node(n, text)).collect()),
            Kind::Object => Self::Object(
                node.members()
                    .map(|(_, v)| {
                        (
                            Self::text_of(node.key_of(v), text),
                            Self::from_node(v, text),
                        )
                    })
                    .collect(),
            ),
        }
    }

    fn text_of(string: Node<'_>, text: &'a str) -> Cow<'a, str> {
        match string.input_span() {
            Some(span) => Cow::Borrowed(&text[span]),
            None => Cow::Owned(string.as_str().expect("a string").to_owned()),
        }
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

impl Value<'_> {
    /// Appends this value's canonical form to `out`, written from the tree (an independent
    /// writer, compared against [`Node::write_canonical`] by the fuzz target).
    pub fn write_canonical(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(true) => out.extend_from_slice(b"true"),
            Value::Bool(false) => out.extend_from_slice(b"false"),
            // Python's `int`: exact digits, and `-0` is `0`.
            Value::Integer("-0") => out.push(b'0'),
            Value::Integer(digits) => out.extend_from_slice(digits.as_bytes()),
            Value::Float(f) => write_python_repr(*f, out),
            Value::String(s) => write_string(s, out),
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write_canonical(out);
                }
                out.push(b']');
            }
            Value::Object(members) => {
                out.push(b'{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_string(key, out);
                    out.push(b':');
                    value.write_canonical(out);
                }
                out.push(b'}');
            }
        }
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
