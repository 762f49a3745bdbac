//! The crash campaign, against the real binary: four clients create, submit,
//! decide and revoke with idempotency keys while the server is killed with
//! SIGKILL (and, on PostgreSQL, the database is stopped with
//! `-m immediate` every fifth cycle). After every cycle: no acknowledged
//! write is lost, no write is applied twice (requests in flight are retried
//! with their keys), SQLite's integrity check is ok, and the audit chain
//! verifies. Quick tier: `TILLIT_CRASH_CYCLES` (default 30); extended: 300.
//! `TILLIT_CRASH_BACKENDS=sqlite` or `=postgres` runs one backend only.
//!
//! With `--features fault-injection`, the campaign is also run against the
//! `ack-before-commit` fault, and must catch it.
//!
//! Writes target/reports/crash-<backend>.json.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::live::*;
use common::*;
use serde_json::json;
use tillit::db::{Backend, DatabaseUrl};

#[derive(Default)]
struct Acknowledged {
    services: Vec<String>,
    decisions: Vec<String>,
    revoked: Vec<String>,
}

struct Client {
    coordinator: String,
    approver: String,
}

/// One client's work until told to stop: create, submit, decide, revoke,
/// each with its own idempotency key. Returns the request in flight when the
/// server died (path, body, key), if any.
fn work(
    port: u16,
    me: &Client,
    tag: &str,
    acked: &Mutex<Acknowledged>,
    stop: &AtomicBool,
) -> Option<(String, String, String, bool)> {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let name = format!("{tag}-{n}");
        let steps: Vec<(String, String, String, bool)> =
            vec![("/api/v1/services".into(), document(&name), format!("create-{name}"), false)];
        let mut service = String::new();
        for (path, body, key, approver) in steps {
            match http(port, "POST", &path, Some(&me.coordinator), Some(&key), &body) {
                Ok(r) if r.status == 201 => service = r.body["service_id"].as_str().unwrap_or_default().to_string(),
                Ok(r) => panic!("unexpected {} {}", r.status, r.body),
                Err(_) => return Some((path, body, key, approver)),
            }
        }
        acked.lock().unwrap().services.push(service.clone());
        let submit = format!("/api/v1/services/{service}/revisions/1/submit");
        match http(port, "POST", &submit, Some(&me.coordinator), Some(&format!("submit-{name}")), "") {
            Ok(r) if r.status == 200 => {}
            Ok(r) => panic!("unexpected {} {}", r.status, r.body),
            Err(_) => return Some((submit, String::new(), format!("submit-{name}"), false)),
        }
        let decide = format!("/api/v1/services/{service}/decisions");
        let body = json!({"org": "kinda", "revision": 1, "decision": "approved"}).to_string();
        let decision = match http(port, "POST", &decide, Some(&me.approver), Some(&format!("decide-{name}")), &body) {
            Ok(r) if r.status == 201 => r.body["decision_id"].as_str().unwrap_or_default().to_string(),
            Ok(r) => panic!("unexpected {} {}", r.status, r.body),
            Err(_) => return Some((decide, body, format!("decide-{name}"), true)),
        };
        acked.lock().unwrap().decisions.push(decision.clone());
        if n % 2 == 0 {
            let revoke = format!("/api/v1/decisions/{decision}/revoke");
            let body = json!({"reason": "Kontroll"}).to_string();
            match http(port, "POST", &revoke, Some(&me.approver), Some(&format!("revoke-{name}")), &body) {
                Ok(r) if r.status == 200 => acked.lock().unwrap().revoked.push(decision),
                Ok(r) => panic!("unexpected {} {}", r.status, r.body),
                Err(_) => return Some((revoke, body, format!("revoke-{name}"), true)),
            }
        }
    }
    None
}

fn integrity_ok(url: &DatabaseUrl) -> bool {
    use diesel::{Connection, QueryableByName, RunQueryDsl};
    #[derive(QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    match url {
        DatabaseUrl::Sqlite(path) => {
            let mut conn = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
            let rows: Vec<Check> = diesel::sql_query("PRAGMA integrity_check").load(&mut conn).unwrap();
            rows.len() == 1 && rows[0].integrity_check == "ok"
        }
        DatabaseUrl::Postgres(_) => true,
    }
}

fn stop_postgres_immediately() {
    let version = std::fs::read_dir("/etc/postgresql").unwrap().next().unwrap().unwrap().file_name();
    let version = version.to_string_lossy().to_string();
    let run = |action: &str| {
        let mut cmd = Command::new("pg_ctlcluster");
        cmd.args(["--skip-systemctl-redirect", &version, "main", action]);
        if action == "stop" {
            cmd.args(["-m", "immediate"]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success() || action == "stop",
            "pg_ctlcluster {action}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run("stop");
    run("start");
    for _ in 0..100 {
        if Command::new("pg_isready").args(["-h", "127.0.0.1", "-p", "5432", "-q"]).status().is_ok_and(|s| s.success())
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("PostgreSQL did not come back");
}

struct Outcome {
    cycles: usize,
    lost: Vec<String>,
    twice: i64,
    verify_failures: usize,
    integrity_failures: usize,
    services: usize,
    decisions: usize,
    revoked: usize,
    retried: usize,
}

fn campaign(backend: Backend, cycles: usize, fault: Option<&str>) -> Outcome {
    let db = TestDb::new(backend);
    let url = db.url_string();
    let _ = Command::new(BIN).args(["migrate", "--database", &url]).output().unwrap();
    let clients: Vec<Client> = (0..4)
        .map(|i| Client {
            coordinator: token(&url, "kinda", &format!("Crash coordinator {i}"), "coordinator"),
            approver: token(&url, "kinda", &format!("Crash approver {i}"), "approver"),
        })
        .collect();
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    let env: Vec<(&str, &str)> = fault.map(|f| vec![("TILLIT_FAULT", f)]).unwrap_or_default();
    let mut outcome = Outcome {
        cycles,
        lost: Vec::new(),
        twice: 0,
        verify_failures: 0,
        integrity_failures: 0,
        services: 0,
        decisions: 0,
        revoked: 0,
        retried: 0,
    };
    let clients = Arc::new(clients);
    for cycle in 0..cycles {
        let port = free_port();
        let mut server = start_server_with(&url, port, &env);
        let stop = Arc::new(AtomicBool::new(false));
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let (acked, stop, clients) = (acked.clone(), stop.clone(), clients.clone());
                let tag = format!("crash-{cycle}-{i}");
                std::thread::spawn(move || work(port, &clients[i], &tag, &acked, &stop))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(200 + (cycle as u64 * 53) % 400));
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        if backend == Backend::Postgres && cycle % 5 == 4 {
            stop_postgres_immediately();
        }
        stop.store(true, Ordering::Relaxed);
        let in_flight: Vec<(usize, (String, String, String, bool))> =
            handles.into_iter().enumerate().filter_map(|(i, h)| h.join().unwrap().map(|f| (i, f))).collect();

        // Requests in flight are retried with their keys after a restart.
        if !in_flight.is_empty() {
            let port = free_port();
            let mut server = start_server_with(&url, port, &env);
            for (client, (path, body, key, approver)) in &in_flight {
                let token = if *approver { &clients[*client].approver } else { &clients[*client].coordinator };
                if let Ok(r) = http(port, "POST", path, Some(token), Some(key), body) {
                    outcome.retried += 1;
                    if r.status == 201 && path == "/api/v1/services" {
                        acked
                            .lock()
                            .unwrap()
                            .services
                            .push(r.body["service_id"].as_str().unwrap_or_default().to_string());
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(if fault.is_some() { 400 } else { 0 }));
            server.kill().unwrap();
            server.wait().unwrap();
        }

        let (code, _) = verify(&url, &[]);
        if code != 0 {
            outcome.verify_failures += 1;
        }
        if !integrity_ok(&db.url) {
            outcome.integrity_failures += 1;
        }
        let acked_now = acked.lock().unwrap();
        for id in &acked_now.services {
            if count(&db.url, &format!("SELECT COUNT(*) AS n FROM services WHERE id = '{id}'")) != 1 {
                outcome.lost.push(format!("service {id}"));
            }
        }
        for id in &acked_now.decisions {
            if count(&db.url, &format!("SELECT COUNT(*) AS n FROM decisions WHERE id = '{id}'")) != 1 {
                outcome.lost.push(format!("decision {id}"));
            }
        }
        for id in &acked_now.revoked {
            if count(
                &db.url,
                &format!("SELECT COUNT(*) AS n FROM decisions WHERE id = '{id}' AND revoked_at IS NOT NULL"),
            ) != 1
            {
                outcome.lost.push(format!("revocation of {id}"));
            }
        }
        drop(acked_now);
        outcome.twice = count(
            &db.url,
            "SELECT COUNT(*) AS n FROM (SELECT name FROM revisions GROUP BY name HAVING COUNT(*) > 1) d",
        ) + count(
            &db.url,
            "SELECT COUNT(*) AS n FROM (SELECT service_id FROM decisions GROUP BY service_id, org_slug HAVING COUNT(*) > 1) d",
        );
        outcome.lost.sort();
        outcome.lost.dedup();
        if fault.is_some() && !outcome.lost.is_empty() {
            outcome.cycles = cycle + 1;
            break;
        }
    }
    let acked = acked.lock().unwrap();
    outcome.services = acked.services.len();
    outcome.decisions = acked.decisions.len();
    outcome.revoked = acked.revoked.len();
    outcome
}

#[test]
fn sigkill_while_clients_write_loses_nothing_acknowledged() {
    let cycles: usize = std::env::var("TILLIT_CRASH_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
    // The extended tier may run one backend at a time: TILLIT_CRASH_BACKENDS=postgres.
    let only = std::env::var("TILLIT_CRASH_BACKENDS").unwrap_or_default().to_lowercase();
    let chosen = |b: &Backend| only.is_empty() || only.split(',').any(|o| format!("{b:?}").to_lowercase() == o.trim());
    for backend in backends().into_iter().filter(chosen) {
        let started = std::time::Instant::now();
        let o = campaign(backend, cycles, None);
        let failed = o.lost.len() + o.twice as usize + o.verify_failures + o.integrity_failures;
        let summary = json!({
            "backend": format!("{backend:?}"),
            "cycles": o.cycles,
            "acknowledged": {"services": o.services, "decisions": o.decisions, "revocations": o.revoked},
            "in_flight_retried": o.retried,
            "lost": o.lost.len(),
            "applied_twice": o.twice,
            "verify_failures": o.verify_failures,
            "integrity_failures": o.integrity_failures,
            "postgres_immediate_stops": if backend == Backend::Postgres { o.cycles / 5 } else { 0 },
            "seconds": started.elapsed().as_secs_f64(),
        });
        write_report(&format!("crash-{backend:?}").to_lowercase(), &summary);
        println!(
            "crash campaign {backend:?}: {} passed, {failed} failed ({} cycles; {} services, {} decisions, {} revocations acknowledged; {} lost, {} applied twice)",
            o.cycles * 4 - failed.min(o.cycles * 4),
            o.cycles,
            o.services,
            o.decisions,
            o.revoked,
            o.lost.len(),
            o.twice
        );
        assert!(o.lost.is_empty(), "{backend:?}: acknowledged writes lost: {:?}", o.lost);
        assert_eq!(o.twice, 0, "{backend:?}: writes applied twice");
        assert_eq!(o.verify_failures, 0);
        assert_eq!(o.integrity_failures, 0);
        assert!(o.services >= cycles, "{backend:?}: the clients made progress");
    }
}

/// The campaign must catch a server that answers before it commits.
#[cfg(feature = "fault-injection")]
#[test]
fn the_campaign_catches_an_acknowledgement_before_commit() {
    let o = campaign(Backend::Sqlite, 30, Some("ack-before-commit"));
    write_report(
        "crash-fault",
        &json!({"fault": "ack-before-commit", "cycles_until_caught": o.cycles, "lost": o.lost.len()}),
    );
    println!(
        "crash campaign against the ack-before-commit fault: caught after {} cycles ({} acknowledged writes lost)",
        o.cycles,
        o.lost.len()
    );
    assert!(!o.lost.is_empty(), "the campaign failed to notice acknowledged writes that were never committed");
}
