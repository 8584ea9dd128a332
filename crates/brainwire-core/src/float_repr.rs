//! Python's `repr(float)`, with the shortest round-trip digits taken from `ryu`.
//!
//! `ryu` finds the digits; only their placement differs from Python: positional notation
//! for `1e-4 <= |x| < 1e16` with at least one fractional digit, otherwise `d[.ddd]e±XX`
//! with at least two exponent digits.

/// Most significant digits a shortest round-trip `f64` has (ryu writes at most 17).
const MAX_DIGITS: usize = 17;

/// Appends Python's `repr(value)` to `out`. `value` must be finite. Allocates nothing
/// beyond `out`: this runs for every float of every verified frame.
pub(crate) fn write_python_repr(value: f64, out: &mut Vec<u8>) {
    debug_assert!(value.is_finite());
    if value.is_sign_negative() {
        out.push(b'-');
    }
    if value == 0.0 {
        out.extend_from_slice(b"0.0");
        return;
    }
    let mut buffer = ryu::Buffer::new();
    let mut digits = [0u8; MAX_DIGITS];
    let (len, decpt) = digits_and_point(buffer.format_finite(value.abs()), &mut digits);
    let digits = &digits[..len];
    let n = len as i32;
    if decpt <= -4 || decpt > 16 {
        out.push(digits[0]);
        if n > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        let exp = decpt - 1;
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        // |exp| is at most 324: two or three digits, Python writes at least two.
        let exp = exp.unsigned_abs();
        if exp >= 100 {
            out.push(b'0' + (exp / 100) as u8);
        }
        out.push(b'0' + (exp / 10 % 10) as u8);
        out.push(b'0' + (exp % 10) as u8);
    } else if decpt <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-decpt) as usize));
        out.extend_from_slice(digits);
    } else if decpt >= n {
        out.extend_from_slice(digits);
        out.extend(std::iter::repeat_n(b'0', (decpt - n) as usize));
        out.extend_from_slice(b".0");
    } else {
        let (int, frac) = digits.split_at(decpt as usize);
        out.extend_from_slice(int);
        out.push(b'.');
        out.extend_from_slice(frac);
    }
}

/// Whether a JSON number literal is already Python's `repr` of its value, so that the
/// canonical writer may copy it: positional (`-?int.frac`, no exponent), no trailing zero
/// in the fraction but a lone `.0`, `1e-4 <= |x| < 1e16` or zero, and the shortest
/// round-trip digits. Up to 15 significant digits always are (no other decimal of 15
/// digits or fewer rounds to the same `f64`); 16 or 17 (a `time.time()` stamp has 17)
/// are compared with ryu's. Anything else takes [`write_python_repr`].
pub(crate) fn is_python_repr(literal: &str) -> bool {
    match spelling(literal.as_bytes()) {
        Spelling::Repr => true,
        Spelling::NotRepr => false,
        Spelling::LongDigits => is_shortest(literal.strip_prefix('-').unwrap_or(literal)),
    }
}

/// What the digits alone say of a literal being its value's `repr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spelling {
    /// It is.
    Repr,
    /// It is not.
    NotRepr,
    /// Shaped like one, with 16 or 17 significant digits: whether they are the shortest
    /// takes ryu (the parser leaves that to the canonical writer).
    LongDigits,
}

/// [`is_python_repr`] without the ryu comparison.
pub(crate) fn spelling(literal: &[u8]) -> Spelling {
    let unsigned = literal.strip_prefix(b"-").unwrap_or(literal);
    let Some(point) = unsigned.iter().position(|&b| b == b'.') else {
        return Spelling::NotRepr;
    };
    let (int, frac) = (&unsigned[..point], &unsigned[point + 1..]);
    let digits = |part: &[u8]| !part.is_empty() && part.iter().all(u8::is_ascii_digit);
    if !digits(int) || !digits(frac) {
        return Spelling::NotRepr;
    }
    positional_spelling(int, frac)
}

/// [`spelling`] of a literal the parser has split already: `int` and `frac`, the digits
/// before and after its point (one or more each), and no exponent.
pub(crate) fn positional_spelling(int: &[u8], frac: &[u8]) -> Spelling {
    let long = |significant: usize| match significant {
        0..=15 => Spelling::Repr,
        16..=MAX_DIGITS => Spelling::LongDigits,
        _ => Spelling::NotRepr,
    };
    if int.len() > 1 && int[0] == b'0' {
        return Spelling::NotRepr;
    }
    let lone_zero = frac == b"0";
    if !lone_zero && frac.ends_with(b"0") {
        return Spelling::NotRepr;
    }
    if int == b"0" {
        let zeros = frac.iter().take_while(|&&b| b == b'0').count();
        return match (lone_zero, zeros <= 3) {
            (true, _) => Spelling::Repr,
            (false, true) => long(frac.len() - zeros),
            (false, false) => Spelling::NotRepr,
        };
    }
    let significant = if lone_zero {
        int.len() - int.iter().rev().take_while(|&&b| b == b'0').count()
    } else {
        int.len() + frac.len()
    };
    if int.len() > 16 {
        return Spelling::NotRepr;
    }
    long(significant)
}

/// Whether an unsigned positional literal (digits, one point, no trailing zero but a
/// lone `.0`) has ryu's shortest round-trip digits at the same place.
fn is_shortest(text: &str) -> bool {
    let value: f64 = text.parse().expect("a positional literal reads as a float");
    let mut buffer = ryu::Buffer::new();
    let ryu_text = buffer.format_finite(value);
    // ryu writes most values of this range as Python does (`time.time()` stamps among
    // them): the same text is the same digits at the same place.
    if ryu_text == text {
        return true;
    }
    let (mut written, mut shortest) = ([0u8; MAX_DIGITS], [0u8; MAX_DIGITS]);
    let (len, decpt) = digits_and_point(text, &mut written);
    digits_and_point(ryu_text, &mut shortest) == (len, decpt) && written[..len] == shortest[..len]
}

/// Reads ryu's text for a positive finite non-zero value into `digits`: its significant
/// digits (no leading or trailing zeros). Returns how many, and the decimal point
/// position `decpt`, so that the value is `0.DIGITS × 10^decpt`.
fn digits_and_point(text: &str, digits: &mut [u8; MAX_DIGITS]) -> (usize, i32) {
    let (mantissa, exp) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().expect("ryu writes a decimal exponent")),
        None => (text, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut decpt = int.len() as i32 + exp;
    let mut len = 0;
    for d in int.bytes().chain(frac.bytes()) {
        if len == 0 && d == b'0' {
            // A leading zero moves the point, it is not a digit.
            decpt -= 1;
            continue;
        }
        if len == MAX_DIGITS {
            // Past 17 significant digits ryu can only write zeros, which are trailing.
            debug_assert_eq!(d, b'0');
            continue;
        }
        digits[len] = d;
        len += 1;
    }
    while len > 0 && digits[len - 1] == b'0' {
        len -= 1;
    }
    (len, decpt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repr(v: f64) -> String {
        let mut out = Vec::new();
        write_python_repr(v, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// Expected strings are CPython 3.11's `repr()` of the same doubles.
    #[test]
    fn matches_cpython_repr() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e5, "100000.0"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e300, "1.5e+300"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (1e-7, "1e-07"),
            (5e-324, "5e-324"),
            (1746428308.9996243, "1746428308.9996243"),
            (4.567776956184722e-07, "4.567776956184722e-07"),
            (123456789012345680000.0, "1.2345678901234568e+20"),
            (-2.5, "-2.5"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (9007199254740993.0, "9007199254740992.0"),
            (0.00012345, "0.00012345"),
        ];
        for (value, expected) in cases {
            assert_eq!(repr(*value), *expected, "repr({value:e})");
        }
    }

    #[test]
    fn literals_it_copies_are_their_own_repr() {
        let cases = [
            ("0.25", true),
            ("-0.0", true),
            ("0.0", true),
            ("5.0", true),
            ("1000.0", true),
            ("0.0001", true),
            ("123456789012.345", true),
            ("1000000000000000.0", true),
            ("0.00001", false),
            ("2.50", false),
            ("10000000000000000.0", false),
            // 16 and 17 digits, against CPython's repr of the same literals.
            ("1746428308.9996243", true),
            ("0.30000000000000004", true),
            ("0.0001234567890123456", true),
            ("0.10000000000000001", false),
            ("9007199254740993.0", false),
            ("1234567890123456.7", false),
            ("1e5", false),
            ("1.5E2", false),
            ("12", false),
        ];
        for (literal, copied) in cases {
            assert_eq!(is_python_repr(literal), copied, "{literal}");
            if copied {
                assert_eq!(repr(literal.parse().unwrap()), literal);
            }
        }
        // Random positional literals: whenever one is copied, it is what repr writes.
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut copied = 0;
        for _ in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let int_len = (seed % 18) as usize;
            let frac_len = 1 + (seed >> 8) as usize % 18;
            let mut digits = seed.wrapping_mul(0x2545_f491_4f6c_dd1d);
            let mut next = || {
                digits = digits.rotate_left(5) ^ 0x5851_f42d;
                char::from(b'0' + (digits % 10) as u8)
            };
            let int: String = (0..int_len).map(|_| next()).collect();
            let frac: String = (0..frac_len).map(|_| next()).collect();
            let int = int.trim_start_matches('0');
            let int = if int.is_empty() { "0" } else { int };
            let literal = format!("{}{int}.{frac}", if seed & 1 == 1 { "-" } else { "" });
            if is_python_repr(&literal) {
                copied += 1;
                assert_eq!(repr(literal.parse().unwrap()), literal);
            }
            // The parser splits the literal itself; what it copies is repr too.
            let canonical = crate::canonicalize(literal.as_bytes(), &crate::Limits::default());
            assert_eq!(
                canonical.unwrap(),
                repr(literal.parse().unwrap()).into_bytes()
            );
        }
        assert!(copied > 10_000, "only {copied} copied");
    }
}
