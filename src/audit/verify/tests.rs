use super::*;

#[test]
fn row_ids_keep_only_the_canonical_uuid_spelling_as_bytes() {
    let id = "0192f4c2-7a1b-7c3d-8e4f-0123456789ab";
    assert!(matches!(RowId::new(id), RowId::Uuid(_)));
    assert_eq!(RowId::new(id).to_string(), id);
    // Other spellings of the same UUID are other keys, as they are in the database.
    for other in ["0192F4C2-7A1B-7C3D-8E4F-0123456789AB", "0192f4c27a1b7c3d8e4f0123456789ab", "kinda", ""] {
        assert_eq!(RowId::new(other), RowId::Text(other.into()));
        assert_eq!(RowId::new(other).to_string(), other);
        assert_ne!(RowId::new(other), RowId::new(id));
    }
}

#[test]
fn a_recorded_digest_that_is_not_hex_never_matches() {
    let hex_text = "ab".repeat(32);
    assert_eq!(digest_bytes(&hex_text), Some([0xab; 32]));
    assert_eq!(digest_bytes("forged"), None);
    assert_eq!(digest_bytes(&"ab".repeat(31)), None);
    let mut latest = Latest::default();
    latest.record("decisions", "d-1", "not a digest", 7);
    latest.record("decisions", "d-2", &hex_text, 8);
    latest.record("services", "d-1", &hex_text, 9);
    let decisions = latest.table_mut("decisions");
    assert!(decisions[&RowId::new("d-1")].digest.is_none());
    assert_eq!(decisions[&RowId::new("d-2")].seq, 8);
    assert_eq!(latest.tables.len(), 2);
}
