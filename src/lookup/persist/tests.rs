use chrono::NaiveDate;

use super::*;
use crate::approvals::model::DecisionKind;
use crate::lookup::index::tests::org;
use crate::lookup::index::{DecisionData, ServiceData};

fn services() -> Vec<ServiceData> {
    (0..300)
        .map(|i| ServiceData {
            // UUIDs (kept as 16 bytes) and other ids (kept as text).
            id: if i % 2 == 0 { format!("0190{i:04x}-0000-7000-8000-{i:012x}") } else { format!("{i:08}-id") },
            name: format!("Tjänst {i} Åäö"),
            vendor: format!("Leverantör {}", i % 7),
            aliases: (0..i % 3).map(|a| format!("alias {i} {a}")).collect(),
            domains: vec![format!("t{i}.example.se")],
            published: i % 5 != 0,
            withheld: false,
            decisions: vec![DecisionData {
                org: if i % 2 == 0 { "kinda".into() } else { "ydre".into() },
                kind: [DecisionKind::Approved, DecisionKind::ApprovedWithConditions, DecisionKind::Rejected][i % 3],
                revoked: i % 11 == 0,
                deciding_org: "itsam".into(),
                via_delegation: i % 4 == 0,
                needs_re_review: i % 13 == 0,
                superseded: false,
                decided_on: NaiveDate::from_ymd_opt(2026, 1 + (i % 12) as u32, 1).unwrap(),
                // Year 2200 does not fit a stored decision: it goes to the wide list.
                valid_until: match i % 4 {
                    0 => Some(NaiveDate::from_ymd_opt(2027, 6, 30).unwrap()),
                    1 if i % 3 == 0 => Some(NaiveDate::from_ymd_opt(2200, 1, 1).unwrap()),
                    _ => None,
                },
                conditions: if i % 3 == 1 { r#"[{"type":"no_personal_data"}]"#.into() } else { "[]".into() },
            }],
        })
        .collect()
}

#[test]
fn a_base_whose_arrays_fill_huge_pages_is_saved_and_read_back_into_them() {
    // Enough services for the entries, ids, text and decisions to fill
    // at least one huge page each (2 MB), so that they are mapped.
    let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let services: Vec<ServiceData> = (0..180_000u32)
        .map(|i| ServiceData {
            id: format!("0190{:04x}-0000-7000-8000-{i:012x}", i >> 16),
            name: format!("Tjänst {i}"),
            vendor: format!("Leverantör {}", i % 7),
            aliases: Vec::new(),
            domains: Vec::new(),
            published: true,
            withheld: false,
            decisions: ["kinda", "ydre"]
                .iter()
                .map(|org| DecisionData {
                    org: (*org).into(),
                    kind: DecisionKind::Approved,
                    revoked: false,
                    deciding_org: (*org).into(),
                    via_delegation: false,
                    needs_re_review: i % 13 == 0,
                    superseded: false,
                    decided_on: day,
                    valid_until: None,
                    conditions: "[]".into(),
                })
                .collect(),
        })
        .collect();
    let snapshot = Snapshot::build(7, "def456", vec![org("kinda"), org("ydre")], services);
    let a = &*snapshot.base;
    assert!(a.packed.is_mapped() && a.ids.is_mapped() && a.text.is_mapped() && a.decisions.is_mapped());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.lookup");
    save(&snapshot, &path).unwrap();
    let saved = load(&path).unwrap().unwrap();
    let b = &saved.base;
    assert!(b.packed.is_mapped() && b.ids.is_mapped() && b.text.is_mapped() && b.decisions.is_mapped());
    assert_eq!(a.packed, b.packed);
    assert_eq!(a.ids, b.ids);
    assert_eq!(a.text, b.text);
    assert_eq!(a.decisions, b.decisions);
    assert_eq!(a.postings, b.postings);
    assert_eq!(a.keys.as_fst().as_bytes(), b.keys.as_fst().as_bytes());
    // And a lookup in the loaded base finds what it finds in the built one.
    let loaded = Snapshot::from_base(saved.seq, &saved.hash, vec![org("kinda"), org("ydre")], saved.base);
    let fuzzy = crate::lookup::index::Fuzzy::default();
    for query in ["Tjänst 123456", "tjanst 17999", "Tjänst 1234x6"] {
        let names = |s: &Snapshot| -> Vec<String> {
            s.search(query, s.org_index("kinda"), false, 10, day, &fuzzy)
                .iter()
                .map(|h| h.entry.name().to_string())
                .collect()
        };
        assert_eq!(names(&snapshot), names(&loaded), "{query}");
        assert!(!names(&loaded).is_empty(), "{query}");
    }
}

#[test]
fn a_saved_base_reads_back_identical_and_damage_is_refused() {
    let orgs = vec![org("itsam"), org("kinda"), org("ydre")];
    let snapshot = Snapshot::build(42, "abc123", orgs, services());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.lookup");
    save(&snapshot, &path).unwrap();
    let saved = load(&path).unwrap().unwrap();
    assert_eq!((saved.seq, saved.hash.as_str()), (42, "abc123"));
    assert_eq!(saved.org_slugs, ["itsam", "kinda", "ydre"]);
    let (a, b) = (&*snapshot.base, &saved.base);
    assert_eq!(a.packed, b.packed);
    assert_eq!(a.ids, b.ids);
    assert_eq!(a.text, b.text);
    assert_eq!(a.decisions, b.decisions);
    assert_eq!(a.wide, b.wide);
    assert!(!a.wide.is_empty() && a.packed.iter().any(|p| p.text_id()) && a.packed.iter().any(|p| !p.text_id()));
    assert_eq!(a.vendors, b.vendors);
    assert_eq!(a.postings, b.postings);
    assert_eq!(a.keys.as_fst().as_bytes(), b.keys.as_fst().as_bytes());
    assert_eq!(
        a.conditions.iter().map(|c| c.to_vec()).collect::<Vec<_>>(),
        b.conditions.iter().map(|c| c.to_vec()).collect::<Vec<_>>()
    );
    // Every single-byte change anywhere is caught by the checksum.
    let bytes = std::fs::read(&path).unwrap();
    for at in [0, 9, bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
        let mut damaged = bytes.clone();
        damaged[at] ^= 1;
        std::fs::write(&path, &damaged).unwrap();
        assert!(load(&path).is_err(), "byte {at}");
    }
    // A file of the previous format, with a checksum that holds, is
    // refused by its format number (and rebuilt by the caller).
    let mut old = b"TILLITLX".to_vec();
    old.extend_from_slice(&4u32.to_le_bytes());
    old.extend_from_slice(&[0; 64]);
    let digest = Sha256::digest(&old);
    old.extend_from_slice(&digest);
    std::fs::write(&path, &old).unwrap();
    assert_eq!(load(&path).err().as_deref(), Some("format 4, this version reads 5"));
    // A count no index could have is refused before anything is made for it.
    let mut forged = postcard::to_stdvec(&Head {
        magic: MAGIC,
        format: FORMAT,
        little_endian: cfg!(target_endian = "little"),
        seq: 1,
        hash: "x".into(),
        org_slugs: Vec::new(),
    })
    .unwrap();
    forged.extend_from_slice(&postcard::to_stdvec(&(u64::MAX / 2, Vec::<u8>::new())).unwrap());
    let digest = Sha256::digest(&forged);
    forged.extend_from_slice(&digest);
    std::fs::write(&path, &forged).unwrap();
    // (Without the check, making room for it would abort the process.)
    assert!(load(&path).is_err());
    std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
    assert!(load(&path).is_err());
    std::fs::write(&path, b"").unwrap();
    assert!(load(&path).is_err());
    std::fs::remove_file(&path).unwrap();
    assert!(load(&path).unwrap().is_none());
}
