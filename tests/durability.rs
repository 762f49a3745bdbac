//! Durability and tamper evidence, against the real binary: a server killed
//! with SIGKILL while clients write loses nothing it acknowledged, and
//! `tillit audit verify` catches every kind of tampering.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use serde_json::{Value, json};
use tillit::db::{Backend, DatabaseUrl};

const BIN: &str = env!("CARGO_BIN_EXE_tillit");

// ------------------------------------------------------------ a tiny client --

struct HttpResponse {
    status: u16,
    body: Value,
}

/// One HTTP/1.1 request on a fresh connection.
fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    key: Option<&str>,
    body: &str,
) -> std::io::Result<HttpResponse> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if let Some(key) = key {
        request.push_str(&format!("Idempotency-Key: {key}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let status =
        text.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| std::io::Error::other("no status"))?;
    let body_text = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    // Bodies of our JSON answers are not chunked (they have a length).
    Ok(HttpResponse { status, body: serde_json::from_str(body_text).unwrap_or(Value::Null) })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[allow(clippy::zombie_processes)] // every caller kills and waits for the child
fn start_server(database: &str, port: u16) -> Child {
    let child = Command::new(BIN)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--database", database, "--workers", "2"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if http(port, "GET", "/healthz", None, None, "").is_ok_and(|r| r.status == 200) {
            return child;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("the server did not start");
}

fn token(database: &str, org: &str, name: &str, role: &str) -> String {
    let out = Command::new(BIN)
        .args(["token", "create", "--org", org, "--name", name, "--role", role, "--database", database])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().last().unwrap().to_string()
}

fn verify(database: &str, checkpoints: &[String]) -> (i32, Value) {
    let mut cmd = Command::new(BIN);
    cmd.args(["audit", "verify", "--database", database]);
    for c in checkpoints {
        cmd.args(["--checkpoint", c]);
    }
    let out = cmd.output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), report)
}

fn document(name: &str) -> String {
    let mut doc = example("internal-assistant-pass");
    set_pointer(&mut doc, "/service/name", json!(name));
    doc.to_string()
}

// ------------------------------------------------------------------ crash --

#[derive(Default)]
struct Acknowledged {
    services: Vec<(String, String)>,
    decisions: Vec<String>,
}

/// What one client does until the server dies: create a service, submit
/// it, decide on it, with an idempotency key per request. It records every
/// 2xx answer and the request that was in flight when the server died.
fn client(
    port: u16,
    coordinator: String,
    approver: String,
    tag: String,
    acked: Arc<Mutex<Acknowledged>>,
    stop: Arc<AtomicBool>,
) -> Option<(String, String)> {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let name = format!("{tag}-{n}");
        let key = format!("create-{name}");
        let body = document(&name);
        let created = match http(port, "POST", "/api/v1/services", Some(&coordinator), Some(&key), &body) {
            Ok(r) if r.status == 201 => r.body["service_id"].as_str().unwrap().to_string(),
            Ok(r) => panic!("unexpected {} {}", r.status, r.body),
            Err(_) => return Some((name, key)),
        };
        acked.lock().unwrap().services.push((created.clone(), name.clone()));
        match http(
            port,
            "POST",
            &format!("/api/v1/services/{created}/revisions/1/submit"),
            Some(&coordinator),
            Some(&format!("submit-{name}")),
            "",
        ) {
            Ok(r) if r.status == 200 => {}
            Ok(r) => panic!("unexpected {} {}", r.status, r.body),
            Err(_) => return None,
        }
        let decision = json!({"org": "kinda", "revision": 1, "decision": "approved"}).to_string();
        match http(
            port,
            "POST",
            &format!("/api/v1/services/{created}/decisions"),
            Some(&approver),
            Some(&format!("decide-{name}")),
            &decision,
        ) {
            Ok(r) if r.status == 201 => {
                acked.lock().unwrap().decisions.push(r.body["decision_id"].as_str().unwrap().to_string())
            }
            Ok(r) => panic!("unexpected {} {}", r.status, r.body),
            Err(_) => return None,
        }
    }
    None
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(url: &DatabaseUrl, sql: &str) -> i64 {
    let rows: Vec<Count> = match url {
        DatabaseUrl::Sqlite(p) => {
            diesel::sql_query(sql).load(&mut diesel::SqliteConnection::establish(p.to_str().unwrap()).unwrap()).unwrap()
        }
        DatabaseUrl::Postgres(u) => {
            diesel::sql_query(sql).load(&mut diesel::PgConnection::establish(u).unwrap()).unwrap()
        }
    };
    rows[0].n
}

#[test]
fn sigkill_while_clients_write_loses_nothing_acknowledged() {
    for backend in backends() {
        let db = TestDb::new(backend);
        let url = db.url_string();
        let _ = Command::new(BIN).args(["migrate", "--database", &url]).output().unwrap();
        let coordinators: Vec<String> =
            (0..4).map(|i| token(&url, "kinda", &format!("Crash coordinator {i}"), "coordinator")).collect();
        let approvers: Vec<String> =
            (0..4).map(|i| token(&url, "kinda", &format!("Crash approver {i}"), "approver")).collect();
        let acked = Arc::new(Mutex::new(Acknowledged::default()));
        let cycles = 20;
        let mut in_flight_retried = 0;
        for cycle in 0..cycles {
            let port = free_port();
            let mut server = start_server(&url, port);
            let stop = Arc::new(AtomicBool::new(false));
            let handles: Vec<_> = (0..4)
                .map(|i| {
                    let (c, a, acked, stop) =
                        (coordinators[i].clone(), approvers[i].clone(), acked.clone(), stop.clone());
                    let tag = format!("crash-{cycle}-{i}");
                    std::thread::spawn(move || client(port, c, a, tag, acked, stop))
                })
                .collect();
            std::thread::sleep(Duration::from_millis(150 + (cycle as u64 * 37) % 300));
            server.kill().unwrap(); // SIGKILL
            server.wait().unwrap();
            stop.store(true, Ordering::Relaxed);
            let in_flight: Vec<(usize, (String, String))> =
                handles.into_iter().enumerate().filter_map(|(i, h)| h.join().unwrap().map(|f| (i, f))).collect();

            // Every acknowledged write is there, and the chain verifies.
            let (code, report) = verify(&url, &[]);
            assert_eq!(code, 0, "{backend:?} cycle {cycle}: {report}");
            let acked_now = acked.lock().unwrap();
            for (id, _) in &acked_now.services {
                assert_eq!(
                    count(&db.url, &format!("SELECT COUNT(*) AS n FROM services WHERE id = '{id}'")),
                    1,
                    "service {id} lost"
                );
            }
            for id in &acked_now.decisions {
                assert_eq!(
                    count(&db.url, &format!("SELECT COUNT(*) AS n FROM decisions WHERE id = '{id}'")),
                    1,
                    "decision {id} lost"
                );
            }
            drop(acked_now);

            // Requests in flight when the server died are retried with their
            // keys: each is applied exactly once, whether or not it had committed.
            if !in_flight.is_empty() {
                let port = free_port();
                let mut server = start_server(&url, port);
                for (client, (name, key)) in &in_flight {
                    let r = http(
                        port,
                        "POST",
                        "/api/v1/services",
                        Some(&coordinators[*client]),
                        Some(key),
                        &document(name),
                    )
                    .unwrap();
                    assert_eq!(r.status, 201, "{}", r.body);
                    let id = r.body["service_id"].as_str().unwrap().to_string();
                    acked.lock().unwrap().services.push((id, name.clone()));
                    in_flight_retried += 1;
                }
                server.kill().unwrap();
                server.wait().unwrap();
            }
            let duplicates = count(
                &db.url,
                "SELECT COUNT(*) AS n FROM (SELECT name FROM revisions GROUP BY name HAVING COUNT(*) > 1) d",
            );
            assert_eq!(duplicates, 0, "{backend:?} cycle {cycle}: a write was applied twice");
        }
        let acked = acked.lock().unwrap();
        assert!(
            acked.services.len() >= cycles,
            "{backend:?}: the clients made progress ({} services)",
            acked.services.len()
        );
        eprintln!(
            "{backend:?}: {cycles} cycles, {} services and {} decisions acknowledged, {in_flight_retried} in-flight requests retried",
            acked.services.len(),
            acked.decisions.len()
        );
    }
}

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

#[test]
fn audit_verify_catches_every_kind_of_tampering() {
    for backend in backends() {
        let original = TestDb::new(backend);
        let checkpoint = populated(&original);
        let (code, report) = verify(&original.url_string(), std::slice::from_ref(&checkpoint));
        assert_eq!(code, 0, "{backend:?}: the untouched database verifies: {report}");
        assert_eq!(report["problems"], json!([]));
        let all = events(&original);
        let middle = all[all.len() / 2].seq;
        let last = all.last().unwrap().seq;

        // (name, tamper statements, expected first tampered event)
        let mut cases: Vec<(String, Vec<String>, Option<i64>)> = vec![
            ("edit an event".into(), vec![format!("UPDATE audit_events SET action = 'decision.revoked' WHERE seq = {middle}")], Some(middle)),
            ("delete an event".into(), vec![format!("DELETE FROM audit_events WHERE seq = {middle}")], Some(middle)),
            ("delete the last event".into(), vec![format!("DELETE FROM audit_events WHERE seq = {last}")], Some(last - 1)),
            ("reorder two events".into(), vec![
                format!("UPDATE audit_events SET seq = 999999 WHERE seq = {middle}"),
                format!("UPDATE audit_events SET seq = {middle} WHERE seq = {}", middle + 1),
                format!("UPDATE audit_events SET seq = {} WHERE seq = 999999", middle + 1),
            ], Some(middle)),
            ("edit a decision row without an event".into(), vec![
                "UPDATE decisions SET decision = 'rejected', reason = 'forged' WHERE id = (SELECT MIN(id) FROM decisions WHERE decision = 'approved')".into(),
            ], None),
            ("a decision by its submitter".into(), vec![
                "UPDATE decisions SET decided_by = submitted_by, submitted_by = decided_by WHERE id = (SELECT MIN(id) FROM decisions)".into(),
            ], None),
        ];
        cases.push(("a forged event with recomputed hashes".into(), forged_insert(&original), Some(last + 1)));
        for (name, statements, first) in cases {
            let copy = copy_of(&original, backend);
            let mut all_statements: Vec<&str> = drop_guards(backend);
            all_statements.extend(statements.iter().map(String::as_str));
            exec(&copy, &all_statements);
            let (code, report) = verify(&copy.url_string(), &[]);
            assert_eq!(code, 1, "{backend:?}: '{name}' was not detected: {report}");
            assert_eq!(report["intact"], false);
            if let Some(seq) = first {
                assert_eq!(report["first_tampered_event"], seq, "{backend:?}: '{name}': {report}");
            }
        }

        // A rewrite of history with every hash recomputed is caught by a
        // checkpoint saved outside the database.
        let copy = copy_of(&original, backend);
        let mut statements = drop_guards(backend).into_iter().map(String::from).collect::<Vec<_>>();
        statements.extend(rewrite_from(&original, middle));
        exec(&copy, &statements.iter().map(String::as_str).collect::<Vec<_>>());
        let (code, report) = verify(&copy.url_string(), &[]);
        assert_eq!(code, 0, "a full rewrite is consistent on its own: {report}");
        let (code, report) = verify(&copy.url_string(), std::slice::from_ref(&checkpoint));
        assert_eq!(code, 1, "{backend:?}: the checkpoint catches the rewrite: {report}");
        assert_eq!(report["problems"][0]["kind"], "checkpoint_mismatch");

        // Rolling back to an older copy is caught by a later checkpoint.
        let older = copy_of(&original, backend);
        let cut = format!("DELETE FROM audit_events WHERE seq > {middle}");
        let head = format!(
            "UPDATE audit_head SET seq = {middle}, entry_hash = (SELECT entry_hash FROM audit_events WHERE seq = {middle})"
        );
        let mut statements = drop_guards(backend);
        statements.push(&cut);
        statements.push(&head);
        exec(&older, &statements);
        let (code, report) = verify(&older.url_string(), std::slice::from_ref(&checkpoint));
        assert_eq!(code, 1, "{backend:?}: rollback: {report}");
        assert!(report["problems"].as_array().unwrap().iter().any(|p| p["kind"] == "checkpoint_missing"), "{report}");
    }
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
