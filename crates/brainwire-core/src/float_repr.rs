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
}
