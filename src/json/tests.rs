use super::*;
use serde_json::json;

#[test]
fn rejects_duplicate_keys_at_any_depth() {
    assert!(parse_strict(br#"{"a":1,"a":2}"#).is_err());
    assert!(parse_strict(br#"{"a":{"b":1,"b":1}}"#).is_err());
    assert!(parse_strict(br#"[{"x":1},{"x":2}]"#).is_ok());
}

#[test]
fn rejects_trailing_data_invalid_utf8_and_deep_nesting() {
    assert!(parse_strict(br#"{"a":1} x"#).is_err());
    assert!(parse_strict(b"{\"a\":\"\xff\"}").is_err());
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    assert!(parse_strict(deep.as_bytes()).is_err());
    let ok = "[".repeat(100) + &"]".repeat(100);
    assert!(parse_strict(ok.as_bytes()).is_ok());
}

/// A document as a submitter might write it: fields out of order,
/// whitespace everywhere, escapes and non-ASCII text in values, and a
/// nested key with the same name as a top-level one.
const DOCUMENT: &str = "{ \"service\" : {\"name\": \"Tolk \\\"AI\\\" – för skolan\", \"ai_literacy\": 1},\n\
    \t\"vendor\":{\"name\":\"Ex\\u00e5mpel AB\"} ,\r\n \"ai_literacy\" :\n [1, {\"a\": null}, \"x,y:z\"],\
    \"governance\": true, \"data\":-1.5e3 }";

#[test]
fn fields_through_their_offsets_are_the_fields_a_scan_finds() {
    let bytes = DOCUMENT.as_bytes();
    let offsets = field_offsets(bytes).expect("plain keys");
    assert_eq!(
        offsets.split(',').map(|e| e.split(':').next().unwrap()).collect::<Vec<_>>(),
        ["service", "vendor", "ai_literacy", "governance", "data"]
    );
    for wanted in [
        &["ai_literacy"][..],
        &["data", "service"],
        &["governance", "vendor"],
        &["absent"],
        &[],
        &["ai_literacy", "data", "governance", "service", "vendor"],
    ] {
        let scanned = parse_fields(bytes, wanted).unwrap();
        assert_eq!(parse_fields_at(bytes, &offsets, wanted), Some(scanned.clone()), "{wanted:?}");
        assert_eq!(scanned.as_object().unwrap().len(), wanted.iter().filter(|w| **w != "absent").count());
    }
    assert_eq!(
        parse_fields_at(bytes, &offsets, &["ai_literacy"]),
        Some(json!({"ai_literacy": [1, {"a": null}, "x,y:z"]}))
    );
}

#[test]
fn a_field_is_found_by_its_whole_key_not_by_part_of_another() {
    let doc = br#"{"data_x":1,"x_data":2,"data":3,"a":{"data":4}}"#;
    let offsets = field_offsets(doc).unwrap();
    for wanted in [&["data"][..], &["data_x"], &["x_data", "data"], &["dat"], &["ata"], &["a"]] {
        assert_eq!(parse_fields_at(doc, &offsets, wanted), Some(parse_fields(doc, wanted).unwrap()), "{wanted:?}");
    }
    assert_eq!(parse_fields_at(doc, &offsets, &["data"]), Some(json!({"data": 3})));
    // Keys offsets never hold are never found in them.
    assert_eq!(parse_fields_at(doc, "a:1:2,a-b:3:4", &["a-b", "", "1:2"]), Some(json!({})));
    let both = &["x_data", "data_x"][..];
    assert_eq!(parse_fields_at(doc, &offsets, both), Some(parse_fields(doc, both).unwrap()));
}

#[test]
fn offsets_are_only_made_of_one_object_with_plain_keys() {
    assert_eq!(field_offsets(br#"{}"#), Some(String::new()));
    assert_eq!(parse_fields_at(b"{}", "", &["a"]), Some(json!({})));
    assert_eq!(field_offsets(br#"{"a_1":2}"#), Some("a_1:7:8".to_string()));
    for refused in ["[1]", r#"{"a":1} x"#, r#"{"a":"#, r#"{"\u0061":1}"#, r#"{"a-b":1}"#, r#"{"":1}"#, r#"{"ä":1}"#] {
        assert_eq!(field_offsets(refused.as_bytes()), None, "{refused}");
    }
}

#[test]
fn offsets_that_do_not_fit_the_document_are_not_used() {
    let bytes = DOCUMENT.as_bytes();
    let offsets = field_offsets(bytes).unwrap();
    let (start, end) = {
        let entry = offsets.split(',').find(|e| e.starts_with("ai_literacy:")).unwrap();
        let mut parts = entry.split(':').skip(1).map(|n| n.parse::<usize>().unwrap());
        (parts.next().unwrap(), parts.next().unwrap())
    };
    let wanted = &["ai_literacy", "governance"][..];
    for wrong in [
        format!("ai_literacy:{}:{end}", start + 1),
        format!("ai_literacy:{start}:{}", end - 1),
        format!("ai_literacy:{start}:{}", bytes.len() + 10),
        format!("ai_literacy:{end}:{start}"),
        format!("ai_literacy:{start}:{end},ai_literacy:{start}:{end}"),
        format!("ai_literacy:{start}"),
        format!("ai_literacy:x:{end}"),
        format!("governance:{start}:{end}"),
    ] {
        assert_eq!(parse_fields_at(bytes, &wrong, wanted), None, "{wrong}");
    }
}

#[test]
fn canonical_form_sorts_keys_and_drops_whitespace() {
    let v = parse_strict(br#"{ "b": [1, 2], "a": {"d": null, "c": "x\ny"} }"#).unwrap();
    assert_eq!(String::from_utf8(canonical(&v)).unwrap(), r#"{"a":{"c":"x\ny","d":null},"b":[1,2]}"#);
    let other = json!({"a": {"d": null, "c": "x\ny"}, "b": [1, 2]});
    assert_eq!(canonical_sha256(&v), canonical_sha256(&other));
}

#[test]
fn canonical_keys_follow_utf16_order_also_past_the_basic_plane() {
    // U+FF01 sorts after U+1F600 in UTF-16 (a surrogate pair starts with
    // 0xD83D) but before it in UTF-8; plain keys sort by bytes.
    let value = json!({"\u{ff01}": 1, "\u{1f600}": 2, "b": 3, "a": 4, "é": 5});
    let text = String::from_utf8(canonical(&value)).unwrap();
    assert_eq!(text, "{\"a\":4,\"b\":3,\"é\":5,\"\u{1f600}\":2,\"\u{ff01}\":1}");
    let plain = json!({"z": [1, {"y": "\"\\\u{1}\u{7f}\n"}], "m": null});
    assert_eq!(
        String::from_utf8(canonical(&plain)).unwrap(),
        "{\"m\":null,\"z\":[1,{\"y\":\"\\\"\\\\\\u0001\u{7f}\\n\"}]}"
    );
}

#[test]
fn canonical_escapes_controls_as_rfc8785() {
    assert_eq!(canonical(&json!("\u{1}\u{8}é\"")), b"\"\\u0001\\b\xc3\xa9\\\"\"".to_vec());
}

#[test]
fn finds_control_and_bidi_characters() {
    let v = json!({"a": "ok\ttab\nline", "b": ["x", "evil\u{202e}txt"], "c": {"d": "nul\u{0}"}});
    assert_eq!(forbidden_text_pointers(&v), vec!["/b/1".to_string(), "/c/d".to_string()]);
    let clean = json!({"å": "Ödeshög – “citat” é ü \u{2014} \u{200f}", "n": [1, "\r\n\t"]});
    assert!(forbidden_text_pointers(&clean).is_empty());
    for bad in ["\u{7f}", "\u{85}", "\u{9f}", "\u{202a}", "\u{2069}", "\u{1b}[31m", "\u{b}"] {
        assert_eq!(forbidden_text_pointers(&json!({ "k": bad })), vec!["/k".to_string()], "{bad:?}");
    }
    assert_eq!(forbidden_text_pointers(&json!({ "k\u{0}": 1 })), vec!["/k\u{0}".to_string()]);
}

#[test]
fn strings_written_directly_are_the_crates_rfc8785_strings() {
    let mut samples: Vec<String> = (0u32..0x80).filter_map(char::from_u32).map(String::from).collect();
    samples.extend(
        [
            "",
            "a\"b\\c",
            "rad 1\nrad 2\r\t",
            "\u{7f}\u{80}\u{2028}\u{2029}",
            "Åtvidaberg ÖÄÅ",
            "😀\u{e000}\u{ffff}",
            "\u{1}\u{1f}",
        ]
        .map(String::from),
    );
    for s in samples {
        let mut direct = Vec::new();
        write_string(&s, &mut direct);
        assert_eq!(direct, serde_json_canonicalizer::to_vec(&s).unwrap(), "{s:?}");
    }
}

#[test]
fn numbers_are_written_as_rfc8785_says() {
    // The vectors of RFC 8785, appendix B (integers as our records hold them, and floats).
    for (value, text) in [
        (json!(0), "0"),
        (json!(-0.0), "0"),
        (json!(1e21), "1e+21"),
        (json!(100.0), "100"),
        (json!(1e-7), "1e-7"),
        (json!(9007199254740991_i64), "9007199254740991"),
    ] {
        assert_eq!(String::from_utf8(canonical(&value)).unwrap(), text);
    }
}
