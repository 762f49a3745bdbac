//! Storage: migrations mirrored and reversible, durability settings, and the
//! same story on every backend.

use std::collections::BTreeSet;
use std::path::Path;

use diesel::Connection;
use diesel_migrations::MigrationHarness;
use tillit::db::{Backend, DatabaseUrl};

use crate::common::*;

fn migration_names(backend: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| {
            for file in ["up.sql", "down.sql"] {
                assert!(e.path().join(file).is_file(), "{} lacks {file}", e.path().display());
            }
            e.file_name().to_string_lossy().to_string()
        })
        .collect()
}

#[test]
fn the_two_migration_folders_are_in_step() {
    let sqlite = migration_names("sqlite");
    let postgres = migration_names("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "migrations/sqlite and migrations/postgres must hold the same names");
}

#[test]
fn migrations_run_up_down_up_on_every_backend() {
    for backend in backends() {
        let db = TestDb::new(backend);
        match &db.url {
            DatabaseUrl::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
                conn.run_pending_migrations(tillit::db::SQLITE_MIGRATIONS).unwrap();
                conn.revert_all_migrations(tillit::db::SQLITE_MIGRATIONS).unwrap();
                conn.run_pending_migrations(tillit::db::SQLITE_MIGRATIONS).unwrap();
            }
            DatabaseUrl::Postgres(url) => {
                let mut conn = diesel::PgConnection::establish(url).unwrap();
                conn.run_pending_migrations(tillit::db::POSTGRES_MIGRATIONS).unwrap();
                conn.revert_all_migrations(tillit::db::POSTGRES_MIGRATIONS).unwrap();
                conn.run_pending_migrations(tillit::db::POSTGRES_MIGRATIONS).unwrap();
            }
        }
    }
}

#[test]
fn sqlite_runs_with_wal_full_sync_foreign_keys_and_a_busy_timeout() {
    use diesel::{QueryableByName, RunQueryDsl};
    #[derive(QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let db = TestDb::new(Backend::Sqlite);
    let database = db.open();
    // Check several pooled connections, not just the first.
    let mut conns: Vec<_> = (0..3).map(|_| database.get().unwrap()).collect();
    for conn in conns.iter_mut() {
        let q = |conn: &mut tillit::db::DbConnection, sql: &str| -> String {
            let rows: Vec<V> = diesel::sql_query(sql).load(conn).unwrap();
            rows[0].v.clone()
        };
        assert_eq!(q(conn, "SELECT journal_mode AS v FROM pragma_journal_mode()"), "wal");
        assert_eq!(q(conn, "SELECT CAST(synchronous AS TEXT) AS v FROM pragma_synchronous()"), "2");
        assert_eq!(q(conn, "SELECT CAST(foreign_keys AS TEXT) AS v FROM pragma_foreign_keys()"), "1");
        assert_eq!(q(conn, "SELECT CAST(timeout AS TEXT) AS v FROM pragma_busy_timeout()"), "5000");
    }
}

#[test]
fn a_fresh_database_is_created_and_migrated_by_serve() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tillit"))
        .args(["migrate", "--database"])
        .arg(format!("sqlite://{}", path.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(path.exists());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tillit"))
        .args(["migrate", "--database", "mysql://nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
}

#[test]
fn revisions_cannot_be_edited_or_deleted_in_the_database() {
    use diesel::RunQueryDsl;
    for backend in backends() {
        let app = TestApp::new(backend);
        let token = app.token("kinda", "Karin", &[tillit::auth::Role::Coordinator]);
        let creds = tillit::auth::Credentials { token_hash: tillit::ids::hash_token(&token) };
        let policies = app.state.policies();
        let parsed =
            tillit::submissions::model::ParsedDocument::parse(&policies, &example_bytes("internal-assistant-pass"))
                .unwrap();
        let mut conn = app.state.db.get().unwrap();
        tillit::idempotency::perform(
            &mut conn,
            &creds,
            &tillit::idempotency::IdempotencyKey(None),
            "",
            |conn, actor| {
                let created = tillit::submissions::service::create_service(conn, actor, &parsed, &[])?;
                tillit::idempotency::Reply::new(actix_web::http::StatusCode::CREATED, &created)
            },
        )
        .unwrap();
        assert!(diesel::sql_query("UPDATE revisions SET document = '{}'").execute(&mut *conn).is_err(), "{backend:?}");
        assert!(diesel::sql_query("DELETE FROM revisions").execute(&mut *conn).is_err(), "{backend:?}");
        assert!(diesel::sql_query("UPDATE audit_events SET action = 'x'").execute(&mut *conn).is_err(), "{backend:?}");
        assert!(diesel::sql_query("DELETE FROM audit_events").execute(&mut *conn).is_err(), "{backend:?}");
    }
}
