//! The tape's unit tests: order, reuse, canonical copies, node size, wire text, release.

use super::*;

/// What the canonical writer makes of `doc`.
fn canonical_text(doc: Document<'_>) -> String {
    let mut out = Vec::new();
    doc.root().write_canonical(&mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn members_come_in_key_order_and_items_in_wire_order() {
    let mut tape = Tape::new();
    let doc = tape
        .parse(
            br#"{"b":[3,{"y":1,"x":2}],"a":"\u00e9","c":{}}"#,
            &Limits::default(),
        )
        .unwrap();
    let root = doc.root();
    let keys: Vec<&str> = root.members().map(|(k, _)| k).collect();
    assert_eq!(keys, ["a", "b", "c"]);
    assert_eq!(root.get("a").unwrap().as_str(), Some("é"));
    let b = root.get("b").unwrap();
    assert_eq!(b.kind(), Kind::Array);
    let items: Vec<Kind> = b.items().map(|n| n.kind()).collect();
    assert_eq!(items, [Kind::Integer, Kind::Object]);
    let inner = b.items().nth(1).unwrap();
    let inner: Vec<&str> = inner.members().map(|(k, _)| k).collect();
    assert_eq!(inner, ["x", "y"]);
    assert!(root.get("c").unwrap().is_empty());
    assert!(root.get("missing").is_none());
}

#[test]
fn a_reused_tape_forgets_the_previous_document() {
    let mut tape = Tape::new();
    let first = tape
        .parse(br#"{"z":1,"a":"\n","m":[1,2]}"#, &Limits::default())
        .unwrap();
    assert_eq!(first.root().len(), 3);
    let second = tape.parse(br#"{"k":"v"}"#, &Limits::default()).unwrap();
    let mut out = Vec::new();
    second.root().write_canonical(&mut out);
    assert_eq!(out, br#"{"k":"v"}"#);
    assert_eq!(tape.entries.len(), 3);
    assert!(tape.order.is_empty() && tape.decoded.is_empty());
}

#[test]
fn members_copied_from_the_wire_are_exactly_the_canonical_ones() {
    let cases = [
        (r#"{"a":1,"b":"x","c":null}"#, r#"{"a":1,"b":"x","c":null}"#),
        (
            r#"{"a":1, "b":2,"c":-0,"d":2.50,"e":"\u0041","f":[1,2 ,3,[4,5],-0,1.5]}"#,
            r#"{"a":1,"b":2,"c":0,"d":2.5,"e":"A","f":[1,2,3,[4,5],0,1.5]}"#,
        ),
        (r#"{"c":3,"a":1,"b":2}"#, r#"{"a":1,"b":2,"c":3}"#),
        (
            r#"{"b":2,"a":1,"c":3,"d":4}"#,
            r#"{"a":1,"b":2,"c":3,"d":4}"#,
        ),
        (
            r#"[{"k":1},2,3,{"j":true},"s"]"#,
            r#"[{"k":1},2,3,{"j":true},"s"]"#,
        ),
        (
            r#"{"a" :1,"b": 2,"c":{"z":0.5,"y":[]}}"#,
            r#"{"a":1,"b":2,"c":{"y":[],"z":0.5}}"#,
        ),
    ];
    let mut tape = Tape::new();
    for (wire, canonical) in cases {
        let doc = tape.parse(wire.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(canonical_text(doc), canonical, "{wire}");
    }
}

#[test]
fn nodes_are_sixteen_bytes_and_keep_their_tags() {
    assert_eq!(std::mem::size_of::<Entry>(), 16);
    for (i, tag) in TAGS[..10].iter().enumerate() {
        assert_eq!(*tag as usize, i);
        let entry = Entry::new(*tag, START_MASK, 7);
        assert_eq!((entry.tag(), entry.start()), (*tag, START_MASK));
    }
}

#[test]
fn every_node_knows_its_wire_text() {
    let wire = br#" {"b" : [1 , -0.50e1, "x\ny", true] ,"a":{ "k" : null } } "#;
    let mut tape = Tape::new();
    let root = tape.parse(wire, &Limits::default()).unwrap().root();
    assert_eq!(
        root.raw_text(),
        &std::str::from_utf8(wire).unwrap()[1..wire.len() - 1]
    );
    let items: Vec<&str> = root
        .get("b")
        .unwrap()
        .items()
        .map(|n| n.raw_text())
        .collect();
    assert_eq!(items, ["1", "-0.50e1", r#""x\ny""#, "true"]);
    assert_eq!(root.get("a").unwrap().raw_text(), r#"{ "k" : null }"#);
    assert_eq!(root.len(), 2);
}

#[test]
fn a_pathological_document_is_not_kept() {
    let mut tape = Tape::new();
    let many = format!("[{}0]", "0,".repeat(RETAINED_ENTRIES + 10));
    let limits = Limits::default().max_bytes(many.len());
    assert_eq!(
        tape.parse(many.as_bytes(), &limits).unwrap().root().len(),
        RETAINED_ENTRIES + 11
    );
    assert!(tape.entries.capacity() > RETAINED_ENTRIES);
    tape.parse(b"[1]", &limits).unwrap();
    assert!(tape.entries.capacity() <= RETAINED_ENTRIES);
}

#[test]
fn remembered_orders_sort_each_shape_and_never_hide_a_duplicate() {
    let mut tape = Tape::new();
    let keys = |tape: &mut Tape, input: &[u8]| -> Vec<Vec<String>> {
        let doc = tape.parse(input, &Limits::default()).unwrap();
        let root = doc.root();
        let inner = root.get("p").unwrap();
        [root, inner]
            .iter()
            .map(|n| n.members().map(|(k, _)| k.to_owned()).collect())
            .collect()
    };
    // An envelope and its payload, two shapes out of key order, parsed again and again.
    let frame = br#"{"v":2,"t":"x","p":{"y":1,"b":2,"x":3}}"#;
    for _ in 0..3 {
        assert_eq!(
            keys(&mut tape, frame),
            [vec!["p", "t", "v"], vec!["b", "x", "y"]]
        );
    }
    let mut lengths = tape.remembered_len;
    lengths.sort_unstable();
    assert_eq!(lengths, [0, 0, 3, 3], "both shapes remembered once");
    // Same member counts, other orders: the remembered orders do not sort these.
    assert_eq!(
        keys(&mut tape, br#"{"p":{"x":3,"y":1,"b":2},"v":2,"t":"x"}"#),
        [vec!["p", "t", "v"], vec!["b", "x", "y"]]
    );
    // A duplicate key in a remembered shape is still refused.
    let err = tape
        .parse(
            br#"{"v":2,"t":"x","p":{"y":1,"b":2,"y":3}}"#,
            &Limits::default(),
        )
        .unwrap_err();
    assert_eq!(err.kind(), "duplicate_key");
}

#[test]
fn a_container_is_copied_exactly_when_its_wire_text_is_canonical() {
    // Expected outputs from CPython 3.11's `json.dumps(json.loads(x), sort_keys=True,
    // separators=(",", ":"), ensure_ascii=False, allow_nan=False)`.
    let cases = [
        (r#"{"a":-0,"b":[1,2]}"#, r#"{"a":0,"b":[1,2]}"#),
        (r#"{"a":1E2,"b":0.5}"#, r#"{"a":100.0,"b":0.5}"#),
        (
            r#"{"a":"\u00e9","b":"\u001f\u001F"}"#,
            r#"{"a":"é","b":"\u001f\u001f"}"#,
        ),
        (r#"{"a":"\/\n\"\\"}"#, r#"{"a":"/\n\"\\"}"#),
        (r#"{"a":{"c":1,"b":2}}"#, r#"{"a":{"b":2,"c":1}}"#),
        (r#"{"a":[1,2 ]}"#, r#"{"a":[1,2]}"#),
        (r#"{"a":"\u0009"}"#, r#"{"a":"\t"}"#),
        (r#"[{"b":1,"a":2}]"#, r#"[{"a":2,"b":1}]"#),
        (
            r#"{"b":1,"a":{"x":[true,null]}}"#,
            r#"{"a":{"x":[true,null]},"b":1}"#,
        ),
        (r#"{"a":"\ud83d\ude00"}"#, r#"{"a":"😀"}"#),
        (r#"{"\u0062":1,"a":2}"#, r#"{"a":2,"b":1}"#),
        (r#"{ "a":1}"#, r#"{"a":1}"#),
        (r#"[1,"x"] "#, r#"[1,"x"]"#),
        (r#"[1, "x"]"#, r#"[1,"x"]"#),
        // Already canonical: escapes as Python writes them, repr floats, nesting. (A
        // float with an exponent is always respelled, never copied: none is here.)
        (
            "{\"a\":\"\\t\\u0000\\b\\f\\r\u{7f}\",\"b\":[{\"c\":[]},{}]}",
            "{\"a\":\"\\t\\u0000\\b\\f\\r\u{7f}\",\"b\":[{\"c\":[]},{}]}",
        ),
        (
            r#"{"ts":1746428308.9996243,"x":[-1,0,0.001,"\"q\""]}"#,
            r#"{"ts":1746428308.9996243,"x":[-1,0,0.001,"\"q\""]}"#,
        ),
        ("[]", "[]"),
        ("{}", "{}"),
        // 17 digits that are not the shortest; a refused container holding one that is.
        (r#"{"a":0.10000000000000001}"#, r#"{"a":0.1}"#),
        (
            r#"[[0.10000000000000001],[1746428308.9996243]]"#,
            r#"[[0.1],[1746428308.9996243]]"#,
        ),
    ];
    let mut tape = Tape::new();
    for (wire, canonical) in cases {
        let doc = tape.parse(wire.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(canonical_text(doc), canonical, "{wire}");
        // The span excludes the whitespace around the document.
        let span_is_canonical = doc.root().raw_text() == canonical;
        let b = doc.root().entry().b;
        let copied =
            b == CANONICAL || (b == CANONICAL_IF_FLOATS && doc.root().long_floats_are_repr());
        assert_eq!(copied, span_is_canonical, "{wire} copied: {copied}");
    }
}

#[test]
fn a_canonical_span_reaches_a_chunked_sink_whole_and_in_order() {
    let wire = br#"{"b":1,"a":["x","y","z"],"c":"w"}"#;
    let mut tape = Tape::new();
    let doc = tape.parse(wire, &Limits::default()).unwrap();
    let (mut buffer, mut chunks) = (Vec::new(), Vec::new());
    doc.root()
        .write_canonical_chunked(&mut buffer, 8, &mut |c| chunks.push(c.to_vec()));
    chunks.push(buffer);
    assert!(chunks.contains(&br#"["x","y","z"]"#.to_vec()), "{chunks:?}");
    assert_eq!(chunks.concat(), br#"{"a":["x","y","z"],"b":1,"c":"w"}"#);
}

/// The merged writer equals the canonical form of the object with the skipped members
/// removed and the extra ones added, whatever the chunk size, wherever the extra keys
/// fall (before, between, after the object's keys, beside escaped keys), and whether the
/// object's own members are copied or respelled.
#[test]
fn a_merged_object_is_the_canonical_form_of_the_object_it_stands_for() {
    let objects = [
        r#"{"v":2,"id":"f-1","hmac":"ab","payload":{"b":1,"a":[1.50,-1]},"seq":3}"#,
        r#"{"id":"f-1","payload":{"a":[1.5,0],"b":1},"seq":3,"v":2}"#,
        r#"{ "\u0069d" : "f\n1", "zz": null, "hmac": 1, "a\"b": true }"#,
        r#"{"hmac":"only"}"#,
        r#"{}"#,
    ];
    let extras: [&[(&str, &str)]; 4] = [
        &[],
        &[
            ("agent_id", r#""x""#),
            ("project_id", r#""p\"""#),
            ("session_id", r#""""#),
        ],
        &[("0", "0")],
        &[("zzz", r#"{"k":[]}"#)],
    ];
    for object in objects {
        for extra in extras {
            let mut expected: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(object).unwrap();
            expected.remove("hmac");
            let mut members = Vec::new();
            for (key, value) in extra {
                expected.insert((*key).into(), serde_json::from_str(value).unwrap());
                members.push((
                    *key,
                    format!("{}:{value}", serde_json::to_string(key).unwrap()),
                ));
            }
            let expected = crate::canonicalize(
                serde_json::to_string(&expected).unwrap().as_bytes(),
                &Limits::default(),
            )
            .unwrap();
            let mut tape = Tape::new();
            let doc = tape.parse(object.as_bytes(), &Limits::default()).unwrap();
            for chunk_bytes in [1, 7, 1 << 20] {
                let (mut buffer, mut chunks) = (Vec::new(), Vec::new());
                doc.root().write_canonical_merged(
                    |key| key == "hmac",
                    members.iter().map(|(key, text)| (*key, text.as_bytes())),
                    &mut buffer,
                    chunk_bytes,
                    &mut |chunk| chunks.push(chunk.to_vec()),
                );
                chunks.push(buffer);
                assert_eq!(
                    String::from_utf8(chunks.concat()).unwrap(),
                    String::from_utf8(expected.clone()).unwrap(),
                    "{object} + {extra:?}, chunks of {chunk_bytes}"
                );
            }
        }
    }
}

/// The merged writer's contract is checked in debug builds: extra members out of key
/// order, or one repeating a key the object keeps, would write text that is not
/// canonical (and a MAC no peer computes).
#[cfg(debug_assertions)]
#[test]
fn a_merged_object_refuses_extras_that_break_its_contract_in_debug_builds() {
    let merged = |object: &str, extra: &[(&str, &str)]| {
        let mut tape = Tape::new();
        let doc = tape.parse(object.as_bytes(), &Limits::default()).unwrap();
        let root = doc.root();
        let extra: Vec<(&str, &[u8])> = extra.iter().map(|(k, t)| (*k, t.as_bytes())).collect();
        std::panic::catch_unwind(move || {
            let mut out = Vec::new();
            root.write_canonical_merged(|key| key == "hmac", extra, &mut out, 64, &mut |_| {});
            out
        })
    };
    let object = r#"{"id":"f","v":2,"hmac":"x"}"#;
    assert_eq!(
        merged(object, &[("a", r#""a":1"#), ("b", r#""b":2"#)]).unwrap(),
        br#"{"a":1,"b":2,"id":"f","v":2}"#
    );
    // Out of order, and a key written twice.
    assert!(merged(object, &[("b", r#""b":2"#), ("a", r#""a":1"#)]).is_err());
    assert!(merged(object, &[("a", r#""a":1"#), ("a", r#""a":1"#)]).is_err());
    assert!(merged(object, &[("id", r#""id":"g""#)]).is_err());
    // The skipped key may come as an extra: it replaces the member.
    assert_eq!(
        merged(object, &[("hmac", r#""hmac":"y""#)]).unwrap(),
        br#"{"hmac":"y","id":"f","v":2}"#
    );
}
