//! v2 decode: never panics; decode(encode(decode(x))) equals decode(x).
#![no_main]

use brainwire_v2::{decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(frame) = decode(data) else { return };
    let again = decode(&encode(&frame)).expect("an encoded frame decodes");
    assert_eq!(frame, again);
});
