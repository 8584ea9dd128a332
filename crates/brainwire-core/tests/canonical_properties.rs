//! Properties of `canonicalize` over generated documents.

use brainwire_core::{canonicalize, Limits};
use proptest::prelude::*;

/// Generated JSON as a `serde_json::Value` (so both parsers can read its text), with
/// numbers that stay inside what serde_json represents exactly.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..8)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn canonical_output_is_a_fixed_point(v in json_value()) {
        let text = serde_json::to_vec(&v).unwrap();
        let once = canonicalize(&text, &Limits::default()).unwrap();
        let twice = canonicalize(&once, &Limits::default()).unwrap();
        prop_assert_eq!(once, twice);
    }

    #[test]
    fn canonical_output_means_what_serde_json_reads(v in json_value()) {
        let text = serde_json::to_vec(&v).unwrap();
        let canonical = canonicalize(&text, &Limits::default()).unwrap();
        let reread: serde_json::Value = serde_json::from_slice(&canonical).unwrap();
        prop_assert_eq!(reread, v);
    }

    #[test]
    fn member_order_and_whitespace_do_not_matter(
        members in prop::collection::btree_map("[a-z\u{e9}\u{1F600}]{0,4}", any::<i32>(), 0..10),
        seed in any::<u64>(),
    ) {
        let mut pairs: Vec<_> = members.iter().collect();
        // A cheap deterministic shuffle driven by the seed.
        let mut s = seed;
        for i in (1..pairs.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            pairs.swap(i, (s >> 33) as usize % (i + 1));
        }
        let spaced = format!(
            "{{ {} }}",
            pairs.iter().map(|(k, v)| format!("{:?} :\t{v}", k)).collect::<Vec<_>>().join(" ,\n")
        );
        let sorted = serde_json::to_vec(&members).unwrap();
        prop_assert_eq!(
            canonicalize(spaced.as_bytes(), &Limits::default()).unwrap(),
            canonicalize(&sorted, &Limits::default()).unwrap()
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_accepted_input_is_stable(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(out) = canonicalize(&bytes, &Limits::default()) {
            prop_assert_eq!(canonicalize(&out, &Limits::default()).unwrap(), out);
        }
    }
}
