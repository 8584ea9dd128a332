//! Canonical JSON: never panics; accepted input canonicalizes to a fixed point that means
//! the same as the input; the tape's writer and the tree's writer agree byte for byte;
//! `canonicalize_value` of what serde_json read (and of the text held as a `JsonObject`)
//! agrees with `canonicalize`.
#![no_main]

use brainwire_core::testing::Value;
use brainwire_core::{canonicalize, canonicalize_value, JsonObject, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(once) = canonicalize(data, &Limits::default()) else {
        return;
    };
    let twice = canonicalize(&once, &Limits::default()).expect("canonical output is accepted");
    assert_eq!(once, twice, "canonical output is a fixed point");
    let tree = Value::parse(data, &Limits::default()).expect("the same parser accepts it");
    let mut from_tree = Vec::new();
    tree.write_canonical(&mut from_tree);
    assert_eq!(
        once, from_tree,
        "the tape and the tree write the same bytes"
    );
    // Where serde_json also reads the input (within its own depth limit), both texts mean
    // the same value. serde_json keeps the last duplicate key, but those never get here.
    if let Ok(input) = serde_json::from_slice::<serde_json::Value>(data) {
        let output: serde_json::Value = serde_json::from_slice(&once).expect("canonical is JSON");
        assert!(same(&input, &output), "canonical form changes the value");
        // Writing a value's canonical form directly agrees with writing its text and
        // canonicalizing that.
        let text = serde_json::to_vec(&input).expect("a Value serializes");
        assert_eq!(
            canonicalize_value(&input, &Limits::default()).ok(),
            canonicalize(&text, &Limits::default()).ok(),
            "canonicalize_value and canonicalize disagree"
        );
    }
    // Raw text held as it came is respelled canonically, as canonicalize writes it.
    if let Ok(Ok(object)) = std::str::from_utf8(data).map(JsonObject::from_text) {
        let direct = canonicalize_value(&object, &Limits::default());
        assert_eq!(direct.as_ref(), Ok(&once), "a held object is canonicalized");
    }
});

/// Equality with numbers compared as doubles: serde_json reads `-0` as `-0.0` and big
/// integers as floats, where canonical JSON writes `0` and the exact digits.
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::*;
    match (a, b) {
        (Number(x), Number(y)) => x.as_f64() == y.as_f64(),
        (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
        (Object(x), Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}
