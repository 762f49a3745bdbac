//! The tampering campaign, against the real binary: many copies of a
//! database full of events, each tampered with in one of seven ways, and
//! `tillit audit verify` must catch every one, with no false alarm on the
//! untouched copies. Quick tier: `TILLIT_TAMPER_COPIES` (default 100);
//! extended: 1000. Writes target/reports/tamper-<backend>.json.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use serde_json::json;
use tillit::db::{Backend, DatabaseUrl};

use common::live::*;

// ----------------------------------------------------------------- tamper --

/// Builds a database with services, delegations and decisions through the
/// real server, and returns (database, a checkpoint taken at the end).
fn populated(db: &TestDb) -> String {
    let url = db.url_string();
    let _ = Command::new(BIN).args(["migrate", "--database", &url]).output().unwrap();
    let coordinator = token(&url, "kinda", "Tamper coordinator", "coordinator");
    let approver = token(&url, "kinda", "Tamper approver", "approver");
    let admin = token(&url, "boxholm", "Tamper admin", "admin");
    let itsam = token(&url, "itsam", "Tamper Itsam approver", "approver");
    let port = free_port();
    let mut server = start_server(&url, port);
    let r = http(
        port,
        "POST",
        "/api/v1/delegations",
        Some(&admin),
        None,
        &json!({
        "org": "boxholm", "delegate": "itsam", "decision_reference": "KS 1", "valid_from": "2026-01-01",
        "valid_until": null, "scope": "all"})
        .to_string(),
    )
    .unwrap();
    assert_eq!(r.status, 201);
    for i in 0..5 {
        let r = http(port, "POST", "/api/v1/services", Some(&coordinator), None, &document(&format!("tamper-{i}")))
            .unwrap();
        let id = r.body["service_id"].as_str().unwrap().to_string();
        http(port, "POST", &format!("/api/v1/services/{id}/revisions/1/submit"), Some(&coordinator), None, "").unwrap();
        let r = http(
            port,
            "POST",
            &format!("/api/v1/services/{id}/decisions"),
            Some(&approver),
            None,
            &json!({"org": "kinda", "revision": 1, "decision": "approved"}).to_string(),
        )
        .unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
        let r = http(
            port,
            "POST",
            &format!("/api/v1/services/{id}/decisions"),
            Some(&itsam),
            None,
            &json!({"org": "boxholm", "revision": 1, "decision": "rejected", "reason": "Nej"}).to_string(),
        )
        .unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let head = http(port, "GET", "/api/v1/audit/head", None, None, "").unwrap().body;
    server.kill().unwrap();
    server.wait().unwrap();
    format!("{}:{}", head["seq"], head["entry_hash"].as_str().unwrap())
}

/// A copy of the database to tamper with.
fn copy_of(original: &TestDb, backend: Backend) -> TestDb {
    let copy = TestDb::new(backend);
    match (&original.url, &copy.url) {
        (DatabaseUrl::Sqlite(from), DatabaseUrl::Sqlite(to)) => {
            let mut conn = diesel::SqliteConnection::establish(from.to_str().unwrap()).unwrap();
            diesel::sql_query(format!("VACUUM INTO '{}'", to.display())).execute(&mut conn).unwrap();
        }
        (DatabaseUrl::Postgres(from), DatabaseUrl::Postgres(to)) => copy_postgres(from, to),
        _ => unreachable!(),
    }
    copy
}

/// Copies a PostgreSQL database by dumping it with pg_dump into the new one.
fn copy_postgres(from: &str, to: &str) {
    let dump = Command::new("pg_dump").args(["--no-owner", "--no-privileges", from]).output().unwrap();
    assert!(dump.status.success(), "{}", String::from_utf8_lossy(&dump.stderr));
    let mut psql = Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", to])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    psql.stdin.take().unwrap().write_all(&dump.stdout).unwrap();
    assert!(psql.wait().unwrap().success());
}

fn exec(db: &TestDb, statements: &[&str]) {
    match &db.url {
        DatabaseUrl::Sqlite(p) => {
            let mut conn = diesel::SqliteConnection::establish(p.to_str().unwrap()).unwrap();
            for s in statements {
                diesel::sql_query(*s).execute(&mut conn).unwrap_or_else(|e| panic!("{s}: {e}"));
            }
        }
        DatabaseUrl::Postgres(u) => {
            let mut conn = diesel::PgConnection::establish(u).unwrap();
            for s in statements {
                diesel::sql_query(*s).execute(&mut conn).unwrap_or_else(|e| panic!("{s}: {e}"));
            }
        }
    }
}

fn drop_guards(backend: Backend) -> Vec<&'static str> {
    match backend {
        Backend::Sqlite => vec![
            "DROP TRIGGER audit_events_no_update",
            "DROP TRIGGER audit_events_no_delete",
            "DROP TRIGGER decisions_content_immutable",
        ],
        Backend::Postgres => vec![
            "DROP TRIGGER audit_events_append_only ON audit_events",
            "DROP TRIGGER decisions_content_immutable ON decisions",
        ],
    }
}

#[derive(QueryableByName)]
struct EventRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    #[allow(dead_code)]
    action: String,
}

fn events(db: &TestDb) -> Vec<EventRow> {
    let sql = "SELECT seq, action FROM audit_events ORDER BY seq";
    match &db.url {
        DatabaseUrl::Sqlite(p) => {
            diesel::sql_query(sql).load(&mut diesel::SqliteConnection::establish(p.to_str().unwrap()).unwrap()).unwrap()
        }
        DatabaseUrl::Postgres(u) => {
            diesel::sql_query(sql).load(&mut diesel::PgConnection::establish(u).unwrap()).unwrap()
        }
    }
}

const CLASSES: &[&str] = &[
    "edit an event",
    "delete an event",
    "reorder two events",
    "forged event with recomputed hashes",
    "business row edited without an event",
    "rollback to an older backup",
    "decision by the submitter",
];

/// The statements of one tampering of `class`, aimed by `pick`.
fn tampering(class: &str, original: &TestDb, pick: u64) -> (Vec<String>, bool) {
    let all = events(original);
    let seqs: Vec<i64> = all.iter().map(|e| e.seq).collect();
    let at = |offset: u64| seqs[(pick.wrapping_add(offset) % (seqs.len() as u64 - 2)) as usize + 1];
    let target = at(0);
    match class {
        "edit an event" => {
            (vec![format!("UPDATE audit_events SET action = 'decision.revoked' WHERE seq = {target}")], false)
        }
        "delete an event" => (vec![format!("DELETE FROM audit_events WHERE seq = {target}")], false),
        "reorder two events" => (
            vec![
                format!("UPDATE audit_events SET seq = 999999 WHERE seq = {target}"),
                format!("UPDATE audit_events SET seq = {target} WHERE seq = {}", target + 1),
                format!("UPDATE audit_events SET seq = {} WHERE seq = 999999", target + 1),
            ],
            false,
        ),
        "forged event with recomputed hashes" => (forged_insert(original), false),
        "business row edited without an event" => (
            vec![format!(
                "UPDATE decisions SET decision_reference = 'forged {pick}' WHERE id = (SELECT id FROM decisions ORDER BY id LIMIT 1 OFFSET {})",
                pick % 10
            )],
            false,
        ),
        "rollback to an older backup" => (
            vec![
                format!("DELETE FROM audit_events WHERE seq > {target}"),
                format!(
                    "UPDATE audit_head SET seq = {target}, entry_hash = (SELECT entry_hash FROM audit_events WHERE seq = {target})"
                ),
            ],
            true,
        ),
        _ => (
            vec![format!(
                "UPDATE decisions SET decided_by = submitted_by, submitted_by = decided_by WHERE id = (SELECT id FROM decisions ORDER BY id LIMIT 1 OFFSET {})",
                pick % 10
            )],
            false,
        ),
    }
}

#[test]
fn audit_verify_catches_every_kind_of_tampering() {
    let copies: usize = std::env::var("TILLIT_TAMPER_COPIES").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    for backend in backends() {
        let copies = if backend == Backend::Postgres {
            copies.min(std::env::var("TILLIT_TAMPER_COPIES_PG").ok().and_then(|v| v.parse().ok()).unwrap_or(35))
        } else {
            copies
        };
        let original = TestDb::new(backend);
        let checkpoint = populated(&original);
        let (code, report) = verify(&original.url_string(), std::slice::from_ref(&checkpoint));
        assert_eq!(code, 0, "{backend:?}: the untouched database verifies: {report}");
        let started = std::time::Instant::now();
        let mut detected = 0;
        let mut missed = Vec::new();
        let mut false_alarms = 0;
        let mut intact_checked = 0;
        let mut per_class = std::collections::BTreeMap::<&str, (u32, u32)>::new();
        for i in 0..copies {
            let copy = copy_of(&original, backend);
            if i % 10 == 9 {
                // Untouched copies: no false alarm, with and without the checkpoint.
                let (code, report) = verify(&copy.url_string(), std::slice::from_ref(&checkpoint));
                intact_checked += 1;
                if code != 0 {
                    false_alarms += 1;
                    eprintln!("false alarm: {report}");
                }
                continue;
            }
            let class = CLASSES[i % CLASSES.len()];
            let (statements, needs_checkpoint) = tampering(class, &original, (i as u64).wrapping_mul(2_654_435_761));
            let mut all: Vec<String> = drop_guards(backend).into_iter().map(String::from).collect();
            all.extend(statements);
            exec(&copy, &all.iter().map(String::as_str).collect::<Vec<_>>());
            let checkpoints = if needs_checkpoint { vec![checkpoint.clone()] } else { Vec::new() };
            let (code, report) = verify(&copy.url_string(), &checkpoints);
            let entry = per_class.entry(class).or_default();
            entry.0 += 1;
            if code == 1 && report["intact"] == false {
                detected += 1;
                entry.1 += 1;
            } else {
                missed.push(format!("{class} (copy {i}): {report}"));
            }
        }
        let tampered = copies - intact_checked;
        let summary = json!({
            "backend": format!("{backend:?}"),
            "copies": copies,
            "tampered": tampered,
            "detected": detected,
            "missed": missed.len(),
            "intact_copies": intact_checked,
            "false_alarms": false_alarms,
            "per_class": per_class.iter().map(|(k, (n, d))| (k.to_string(), json!({"copies": n, "detected": d}))).collect::<serde_json::Map<_, _>>(),
            "seconds": started.elapsed().as_secs_f64(),
        });
        write_report(&format!("tamper-{backend:?}").to_lowercase(), &summary);
        println!(
            "tamper campaign {backend:?}: {} passed, {} failed ({detected}/{tampered} tampered copies detected, {false_alarms} false alarms on {intact_checked} intact copies)",
            detected + intact_checked - false_alarms,
            missed.len() + false_alarms
        );
        assert!(missed.is_empty(), "{backend:?}: missed {}:\n{}", missed.len(), missed.join("\n"));
        assert_eq!(false_alarms, 0);

        // A rewrite with every later hash recomputed is consistent on its
        // own; only a checkpoint saved outside the database catches it.
        let all = events(&original);
        let middle = all[all.len() / 2].seq;
        let copy = copy_of(&original, backend);
        let mut statements = drop_guards(backend).into_iter().map(String::from).collect::<Vec<_>>();
        statements.extend(rewrite_from(&original, middle));
        exec(&copy, &statements.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(verify(&copy.url_string(), &[]).0, 0, "a full rewrite is consistent on its own");
        let (code, report) = verify(&copy.url_string(), std::slice::from_ref(&checkpoint));
        assert_eq!(code, 1, "{backend:?}: the checkpoint catches the rewrite: {report}");
        assert_eq!(report["problems"][0]["kind"], "checkpoint_mismatch");
    }
}

/// How long `tillit audit verify` takes, per 100,000 events (SQLite).
#[test]
fn time_to_verify_events() {
    let target: usize = std::env::var("TILLIT_VERIFY_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let db = TestDb::new(Backend::Sqlite);
    let database = db.open();
    let policies = tillit::policy::load(None).unwrap();
    let mut conn = database.get().unwrap();
    // About five events per synthetic service.
    tillit::dev::seed::synthetic(&mut conn, &policies, target / 5, 3, |_| {}).unwrap();
    let (events, _) = tillit::audit::store::head(&mut conn).unwrap();
    drop(conn);
    let started = std::time::Instant::now();
    let (code, report) = verify(&db.url_string(), &[]);
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(code, 0, "{report}");
    let per_100k = seconds * 100_000.0 / events as f64;
    write_report(
        "verify-time",
        &json!({"events": events, "seconds": seconds, "seconds_per_100k_events": per_100k, "build": if cfg!(debug_assertions) { "debug" } else { "release" }}),
    );
    println!(
        "verify: {events} events in {seconds:.2} s ({per_100k:.2} s per 100,000 events, {} build)",
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
}

#[derive(QueryableByName, Clone)]
struct FullEvent {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq: i64,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    occurred_at: chrono::NaiveDateTime,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    actor_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    org_slug: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    via_delegation_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    action: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    subjects: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    prev_hash: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    entry_hash: String,
}

fn full_events(db: &TestDb) -> Vec<FullEvent> {
    let sql = "SELECT seq, occurred_at, actor_id, org_slug, via_delegation_id, action, subjects, prev_hash, entry_hash FROM audit_events ORDER BY seq";
    match &db.url {
        DatabaseUrl::Sqlite(p) => {
            diesel::sql_query(sql).load(&mut diesel::SqliteConnection::establish(p.to_str().unwrap()).unwrap()).unwrap()
        }
        DatabaseUrl::Postgres(u) => {
            diesel::sql_query(sql).load(&mut diesel::PgConnection::establish(u).unwrap()).unwrap()
        }
    }
}

fn to_event(e: &FullEvent) -> tillit::audit::model::AuditEvent {
    tillit::audit::model::AuditEvent {
        seq: e.seq,
        occurred_at: tillit::db::rfc3339(&e.occurred_at),
        actor_id: e.actor_id.clone(),
        org_slug: e.org_slug.clone(),
        via_delegation_id: e.via_delegation_id.clone(),
        action: e.action.clone(),
        subjects: serde_json::from_str(&e.subjects).unwrap(),
        prev_hash: e.prev_hash.clone(),
        entry_hash: e.entry_hash.clone(),
    }
}

fn sql_text(s: &Option<String>) -> String {
    s.as_ref().map_or("NULL".into(), |v| format!("'{}'", v.replace('\'', "''")))
}

/// An attacker appends a forged decision event with correct hashes that
/// claims a decision which does not exist, and moves the head.
fn forged_insert(db: &TestDb) -> Vec<String> {
    let all = full_events(db);
    let last = all.last().unwrap();
    let mut forged = to_event(last);
    forged.seq = last.seq + 1;
    forged.action = "decision.recorded".into();
    forged.prev_hash = last.entry_hash.clone();
    forged.subjects =
        vec![tillit::audit::model::Subject { t: "decisions".into(), id: "forged-decision".into(), d: "00".repeat(32) }];
    forged.entry_hash = forged.compute_hash();
    vec![
        format!(
            "INSERT INTO audit_events (seq, occurred_at, actor_id, org_slug, via_delegation_id, action, subjects, prev_hash, entry_hash) VALUES ({}, '{}', {}, {}, NULL, '{}', '{}', '{}', '{}')",
            forged.seq,
            last.occurred_at.format("%Y-%m-%d %H:%M:%S%.6f"),
            sql_text(&forged.actor_id),
            sql_text(&forged.org_slug),
            forged.action,
            serde_json::to_string(&forged.subjects).unwrap(),
            forged.prev_hash,
            forged.entry_hash
        ),
        format!("UPDATE audit_head SET seq = {}, entry_hash = '{}'", forged.seq, forged.entry_hash),
    ]
}

/// An attacker with full access rewrites one event's time and recomputes
/// every later hash, so the chain is consistent on its own.
fn rewrite_from(db: &TestDb, from: i64) -> Vec<String> {
    let all = full_events(db);
    let mut statements = Vec::new();
    let mut prev = String::new();
    for e in &all {
        if e.seq < from {
            prev = e.entry_hash.clone();
            continue;
        }
        let mut event = to_event(e);
        let mut at = e.occurred_at;
        if e.seq == from {
            at -= chrono::Duration::days(3);
            event.occurred_at = tillit::db::rfc3339(&at);
        }
        event.prev_hash = prev.clone();
        event.entry_hash = event.compute_hash();
        statements.push(format!(
            "UPDATE audit_events SET occurred_at = '{}', prev_hash = '{}', entry_hash = '{}' WHERE seq = {}",
            at.format("%Y-%m-%d %H:%M:%S%.6f"),
            event.prev_hash,
            event.entry_hash,
            e.seq
        ));
        prev = event.entry_hash;
    }
    statements.push(format!("UPDATE audit_head SET entry_hash = '{prev}'"));
    statements
}
