//! Finding the bytes a JSON string cannot hold raw: `"`, `\` and the control
//! characters. Both the parser and the canonical writer skip everything else in runs.

/// The offset of the first `"`, `\` or control character at or after `from` (or the
/// end): eight bytes at a time, as strings are most of a frame.
pub(crate) fn plain_run_end(bytes: &[u8], mut at: usize) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const QUOTES: u64 = u64::from_ne_bytes([b'"'; 8]);
    const BACKSLASHES: u64 = u64::from_ne_bytes([b'\\'; 8]);
    const SPACES: u64 = u64::from_ne_bytes([0x20; 8]);
    let zero_byte = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        // A byte below 0x20 borrows in `w - 0x20..`; a `"` or `\` is zero after the xor.
        // The lowest flagged byte is exact (borrows only run upwards).
        let found = zero_byte(w ^ QUOTES)
            | zero_byte(w ^ BACKSLASHES)
            | (w.wrapping_sub(SPACES) & !w & HIGHS);
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while let Some(&b) = bytes.get(at) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_run_scanner_agrees_with_a_byte_loop() {
        let slow = |bytes: &[u8], from: usize| {
            (from..bytes.len())
                .find(|&i| bytes[i] == b'"' || bytes[i] == b'\\' || bytes[i] < 0x20)
                .unwrap_or(bytes.len())
        };
        let alphabet = [
            b'a', b'"', b'\\', 0x00, 0x1f, 0x20, 0x7f, 0x80, 0xff, b'!', 0x21,
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 24) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|i| {
                    let pick = (seed >> (i % 8 * 8)) as usize % (alphabet.len() * 3);
                    alphabet.get(pick).copied().unwrap_or(b'x')
                })
                .collect();
            let from = (seed >> 40) as usize % (len + 1);
            assert_eq!(
                plain_run_end(&bytes, from),
                slow(&bytes, from),
                "{bytes:?} from {from}"
            );
        }
    }
}
