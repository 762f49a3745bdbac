use super::entry::*;
use super::packed::*;
use super::search::*;
use super::*;
use levenshtein_automata::Distance;

pub(in crate::lookup) fn org(slug: &str) -> OrgInfo {
    OrgInfo {
        slug: slug.into(),
        name: slug.into(),
        function_name: format!("AI-funktionen {slug}"),
        contact: format!("ai@{slug}.example.se"),
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn decision(org: &str, decided_on: NaiveDate, valid_until: Option<NaiveDate>) -> DecisionData {
    DecisionData {
        org: org.into(),
        kind: DecisionKind::ApprovedWithConditions,
        revoked: false,
        deciding_org: "itsam".into(),
        via_delegation: true,
        needs_re_review: true,
        superseded: false,
        decided_on,
        valid_until,
        conditions: r#"[{"type":"no_personal_data"}]"#.into(),
    }
}

fn service(id: &str, decisions: Vec<DecisionData>) -> ServiceData {
    ServiceData {
        id: id.into(),
        name: format!("Tjänst {id}"),
        vendor: "Leverantör".into(),
        // The second alias needs a two-byte length in the arena.
        aliases: vec![format!("alias {id}"), "å".repeat(150)],
        domains: vec![],
        published: true,
        withheld: false,
        decisions,
    }
}

#[test]
fn the_fst_walks_find_what_a_scan_of_every_key_finds() {
    let mut keys: Vec<String> = Vec::new();
    let syllables = ["ka", "lk", "yl", "ar", "o", "chat", "gpt", "å", "bo", "t"];
    for a in syllables {
        for b in syllables {
            for c in syllables {
                keys.push(format!("{a}{b}{c}"));
                keys.push(format!("{a}{b}"));
            }
        }
    }
    keys.sort();
    keys.dedup();
    let map = fst::Map::from_iter(keys.iter().enumerate().map(|(i, k)| (k.as_str(), i as u64))).unwrap();
    let fuzzy = Fuzzy::default();
    for query in ["kalk", "chatgpt", "kalkyla", "ytar", "bot", "åbo", "chtgpt", "kalkly", "zz"] {
        let q = query.as_bytes();
        for limit in [1, 5, 1000] {
            let mut walked = Vec::new();
            if let Some((node, out)) = descend(map.as_fst(), q) {
                longer_keys(map.as_fst(), node, out, limit, |v| walked.push(v));
            }
            let scanned: Vec<u64> = (0..keys.len() as u64)
                .filter(|i| keys[*i as usize].as_bytes().starts_with(q) && keys[*i as usize] != query)
                .take(limit)
                .collect();
            assert_eq!(walked, scanned, "prefix {query} {limit}");
            for distance in [1, 2] {
                let dfa = fuzzy.dfa(query, distance);
                for low in [&q[..1], &q[..2]] {
                    let mut walked = Vec::new();
                    within_edits(&map, &dfa, low, None, limit, |v, d| walked.push((v, d)));
                    let mut searched = Vec::new();
                    within(&map, &fuzzy.matcher(query, distance), low, None, limit, |v, d| searched.push((v, d)));
                    assert_eq!(searched, walked, "typo {query} {distance} {low:?} {limit}, bit-parallel");
                    let scanned: Vec<(u64, u8)> = (0..keys.len() as u64)
                        .filter(|i| keys[*i as usize].as_bytes().starts_with(low))
                        .filter_map(|i| match dfa.eval(&keys[i as usize]) {
                            Distance::Exact(d) => Some((i, d)),
                            Distance::AtLeast(_) => None,
                        })
                        .take(limit)
                        .collect();
                    assert_eq!(walked, scanned, "typo {query} {distance} {low:?} {limit}");
                }
                // The first letter's range without the first two letters' part.
                let mut skipped = Vec::new();
                within(&map, &fuzzy.matcher(query, distance), &q[..1], Some(q[1]), limit, |v, d| skipped.push((v, d)));
                let scanned: Vec<(u64, u8)> = (0..keys.len() as u64)
                    .filter(|i| keys[*i as usize].as_bytes().starts_with(&q[..1]))
                    .filter(|i| !keys[*i as usize].as_bytes().starts_with(&q[..2]))
                    .filter_map(|i| match dfa.eval(&keys[i as usize]) {
                        Distance::Exact(d) => Some((i, d)),
                        Distance::AtLeast(_) => None,
                    })
                    .take(limit)
                    .collect();
                assert_eq!(skipped, scanned, "typo {query} {distance} skipping {:?} {limit}", &q[..2]);
            }
        }
    }
}

#[test]
fn the_stored_day_count_starts_at_1970() {
    assert_eq!(date(1970, 1, 1).num_days_from_ce(), UNIX_EPOCH_DAYS_CE);
    assert_eq!(day_code(date(1970, 1, 1)), Some(0));
    assert_eq!(day(day_code(date(2026, 11, 28)).unwrap()), date(2026, 11, 28));
    assert_eq!(day_code(date(1969, 12, 31)), None);
    assert_eq!(day_code(date(2200, 1, 1)), None);
}

#[test]
fn decisions_read_back_as_they_were_given_whether_or_not_they_fit_the_packed_form() {
    let orgs = vec![org("itsam"), org("kinda"), org("ydre"), org("boxholm")];
    let given = vec![
        decision("kinda", date(2026, 3, 1), Some(date(2027, 3, 1))),
        decision("ydre", date(1969, 5, 1), None),
        decision("boxholm", date(2026, 3, 1), Some(date(2200, 1, 1))),
    ];
    let snapshot = Snapshot::build(1, "h", orgs, vec![service("s1", given.clone())]);
    assert_eq!(snapshot.base.wide.len(), 2);
    let entry = snapshot.entries().next().unwrap();
    for d in &given {
        let org = snapshot.org_index(&d.org).unwrap();
        let back = entry.decision_for(org).unwrap();
        assert_eq!((back.decided_on, back.valid_until), (d.decided_on, d.valid_until), "{}", d.org);
        assert_eq!(back.kind, DecisionKind::ApprovedWithConditions);
        assert!(back.via_delegation && back.needs_re_review && !back.revoked);
        assert_eq!(entry.conditions(&back).len(), 1);
    }
    assert_eq!(entry.decisions().count(), 3);
    assert!(entry.decision_for(0).is_none());
}

#[test]
fn uuid_ids_are_kept_as_16_bytes_and_read_back_sort_and_are_found_as_their_text() {
    let ids = [
        "0190a3c4-0000-7000-8000-000000000001",
        "0190a3c4-0000-7000-8000-00000000000a",
        "0190A3C4-0000-7000-8000-000000000002", // not canonical: kept as text
        "demo-chat",
        "0190a3c4-0000-7000-8000-00000000000b",
        "zzz",
    ];
    let services = ids.iter().map(|id| service(id, vec![])).collect();
    let snapshot = Snapshot::build(1, "h", vec![org("itsam")], services);
    let mut sorted: Vec<&str> = ids.to_vec();
    sorted.sort();
    let back: Vec<String> = snapshot.entries().map(|e| e.id().to_string()).collect();
    assert_eq!(back, sorted);
    assert_eq!(snapshot.base.packed.iter().filter(|p| p.text_id()).count(), 3);
    for (i, id) in sorted.iter().enumerate() {
        assert_eq!(snapshot.base.position(id), Some(i));
        assert_eq!(snapshot.base.entry(i).unwrap().name(), format!("Tjänst {id}"));
        let aliases: Vec<&str> = snapshot.base.entry(i).unwrap().aliases().collect();
        assert_eq!(aliases, [format!("alias {id}"), "å".repeat(150)]);
    }
    assert_eq!(snapshot.base.position("0190a3c4-0000-7000-8000-000000000003"), None);
    let entries: Vec<Entry<'_>> = snapshot.entries().collect();
    assert!(entries.windows(2).all(|w| w[0].id() < w[1].id()));

    // A change replaces the base entry of that id.
    let changed = snapshot.with_changes(2, vec![(sorted[1].to_string(), vec![]), ("demo-chat".into(), vec![])]);
    assert_eq!(changed.len(), ids.len() - 2);
    let left: Vec<String> = changed.entries().map(|e| e.id().to_string()).collect();
    assert!(!left.iter().any(|id| id == sorted[1] || id == "demo-chat"));
}

#[test]
fn ties_rank_by_name_then_id_in_both_segments() {
    // Services that all match "Samma" alike (one exact name each, no
    // decisions), with ids of both kinds, given out of order; some
    // names differ only in case, which sorts as the names' bytes.
    let named = |id: &str, name: &str| ServiceData { name: name.into(), aliases: vec![], ..service(id, vec![]) };
    let base = vec![
        named("zzz", "Samma"),
        named("0190a3c4-0000-7000-8000-00000000000b", "Samma"),
        named("demo-chat", "samma"),
        named("0190a3c4-0000-7000-8000-000000000001", "Samma"),
        named("0190A3C4-0000-7000-8000-000000000002", "Samma"),
        named("aaa", "samma"),
    ];
    let snapshot = Snapshot::build(1, "h", vec![org("itsam")], base);
    // The overlay adds ids that sort between the base's, and replaces one.
    let changes = vec![
        (
            "0190a3c4-0000-7000-8000-000000000005".to_string(),
            vec![named("0190a3c4-0000-7000-8000-000000000005", "Samma")],
        ),
        ("mmm".to_string(), vec![named("mmm", "Samma")]),
        ("zzz".to_string(), vec![named("zzz", "samma")]),
        (
            "0190a3c4-0000-7000-8000-000000000000".to_string(),
            vec![named("0190a3c4-0000-7000-8000-000000000000", "Samma")],
        ),
    ];
    let changed = snapshot.with_changes(2, changes);
    let today = date(2026, 6, 1);
    let fuzzy = Fuzzy::default();
    for view in [&snapshot, &changed] {
        let mut expected: Vec<(String, String)> =
            view.entries().map(|e| (e.name().to_string(), e.id().to_string())).collect();
        expected.sort();
        for limit in [1, 3, expected.len(), 50] {
            let found: Vec<(String, String)> = view
                .search("samma", None, false, limit, today, &fuzzy)
                .iter()
                .map(|hit| (hit.entry.name().to_string(), hit.entry.id().to_string()))
                .collect();
            assert_eq!(found, expected[..limit.min(expected.len())], "limit {limit}");
        }
    }
}
