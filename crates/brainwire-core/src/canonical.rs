//! Canonical JSON, Python's `json.dumps(v, sort_keys=True, separators=(",", ":"),
//! ensure_ascii=False, allow_nan=False)`: the entry point over bytes and the string
//! writer. Values are written by the one canonical writer over [`Node`](crate::Node)
//! (`tape/canonical.rs`).

use crate::scan::plain_run_end;
use crate::{JsonError, Limits, Tape};

/// Canonical bytes of a JSON document, exactly as the v2 reference signs it.
///
/// Equivalent to Python's
/// `json.dumps(json.loads(input), sort_keys=True, separators=(",", ":"),
/// ensure_ascii=False, allow_nan=False).encode()`, refusing with a typed error where the
/// reference cannot sign, or where brainwire is stricter than Python (see [`JsonError`]).
///
/// ```
/// let out = brainwire_core::canonicalize(br#"{"b": 1E2, "a": [1e-5, -0, "\u00e9"]}"#,
///     &brainwire_core::Limits::default())?;
/// assert_eq!(out, r#"{"a":[1e-05,0,"é"],"b":100.0}"#.as_bytes());
/// # Ok::<(), brainwire_core::JsonError>(())
/// ```
///
/// # Errors
///
/// Any [`JsonError`] from [`Tape::parse`]. To canonicalize many documents without
/// allocating, keep a [`Tape`] and call [`Node::write_canonical`](crate::Node::write_canonical).
pub fn canonicalize(input: &[u8], limits: &Limits) -> Result<Vec<u8>, JsonError> {
    let mut tape = Tape::new();
    let doc = tape.parse(input, limits)?;
    let mut out = Vec::with_capacity(input.len());
    doc.root().write_canonical(&mut out);
    Ok(out)
}

/// A string with only `"`, `\` and U+0000..U+001F escaped, like `ensure_ascii=False`.
pub fn write_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut at = 0;
    loop {
        let run_end = plain_run_end(bytes, at);
        out.extend_from_slice(&bytes[at..run_end]);
        let Some(&b) = bytes.get(run_end) else { break };
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            _ => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ],
        };
        out.extend_from_slice(short);
        at = run_end + 1;
    }
    out.push(b'"');
}

/// The canonical order of two keys' bytes (UTF-8 byte order is code point order, as
/// Python sorts). Compared byte by byte inline: keys are short and neighbours differ
/// within their first few bytes, where a call to `memcmp` costs more than the loop.
pub(crate) fn key_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.iter()
        .zip(b)
        .find(|(x, y)| x != y)
        .map_or_else(|| a.len().cmp(&b.len()), |(x, y)| x.cmp(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        String::from_utf8(canonicalize(s.as_bytes(), &Limits::default()).unwrap()).unwrap()
    }

    /// Expected strings were produced by CPython 3.11's `json.dumps(json.loads(x),
    /// sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)`.
    #[test]
    fn matches_python_dumps() {
        let cases: &[(&str, &str)] = &[
            (
                r#" { "b" : 1 , "a" : [ true , false , null ] } "#,
                r#"{"a":[true,false,null],"b":1}"#,
            ),
            ("-0", "0"),
            ("-0.0", "-0.0"),
            ("1E2", "100.0"),
            ("1e16", "1e+16"),
            ("0.00001", "1e-05"),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567890",
            ),
            (
                r#""\u0000\u001f\u007f\b\f\n\r\t\"\\\/""#,
                "\"\\u0000\\u001f\u{7f}\\b\\f\\n\\r\\t\\\"\\\\/\"",
            ),
            (
                r#""\u2028\u2029\ufeff\uffff""#,
                "\"\u{2028}\u{2029}\u{feff}\u{ffff}\"",
            ),
            (
                r#"{"é":1,"z":2,"\ud83d\ude00":3,"\uffff":4}"#,
                "{\"z\":2,\"é\":1,\"\u{ffff}\":4,\"😀\":3}",
            ),
            ("[]", "[]"),
            ("{}", "{}"),
            (r#"[{}, [], [[]]]"#, "[{},[],[[]]]"),
        ];
        for (input, expected) in cases {
            assert_eq!(canon(input), *expected, "canonical({input})");
        }
    }

    /// Expected strings from CPython 3.11, as in `matches_python_dumps`: a key before its
    /// own extension, keys written raw beside keys written with escapes (which the parser
    /// compares from different places), and a duplicate hidden by an escape.
    #[test]
    fn keys_sort_like_python_across_prefixes_and_escapes() {
        let cases: &[(&str, &str)] = &[
            (r#"{"ab":1,"a":2}"#, r#"{"a":2,"ab":1}"#),
            (r#"{"a":1,"ab":2}"#, r#"{"a":1,"ab":2}"#),
            (r#"{"b":1,"\u0061":2}"#, r#"{"a":2,"b":1}"#),
            (r#"{"\u0061b":1,"a":2}"#, r#"{"a":2,"ab":1}"#),
            (r#"{"a\u0000":1,"a":2}"#, r#"{"a":2,"a\u0000":1}"#),
            (
                r#"{"az":1,"a\u00e9":2,"a":3}"#,
                "{\"a\":3,\"az\":1,\"aé\":2}",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(canon(input), *expected, "canonical({input})");
        }
        let duplicate = canonicalize(br#"{"a":1,"\u0061":2}"#, &Limits::default());
        assert!(
            matches!(&duplicate, Err(JsonError::DuplicateKey { key }) if key == "a"),
            "{duplicate:?}"
        );
    }

    #[test]
    fn keys_sort_by_code_point_not_utf16() {
        // U+FFFF sorts before U+1F600 by code point; UTF-16 (JCS) would put the
        // surrogate pair 0xD83D first.
        assert_eq!(canon(r#"{"😀":1,"\uffff":2}"#), "{\"\u{ffff}\":2,\"😀\":1}");
    }
}
