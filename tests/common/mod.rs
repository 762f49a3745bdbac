//! Shared test helpers: fixtures, and a real database per test (a temporary
//! SQLite file, or a fresh PostgreSQL database when TILLIT_TEST_POSTGRES_URL
//! is set).

#![allow(dead_code)]

use std::path::PathBuf;

use diesel::{Connection, RunQueryDsl};
use serde_json::Value;
use tillit::auth::Role;
use tillit::db::{Backend, Database, DatabaseUrl};
use tillit::{AppState, Settings};

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn example_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".json") && !n.ends_with(".expected.json"))
        .map(|n| n.trim_end_matches(".json").to_string())
        .collect();
    names.sort();
    assert!(names.len() >= 6, "the shared examples are in tests/fixtures/examples");
    names
}

pub fn example(name: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join("examples").join(format!("{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

pub fn example_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("examples").join(format!("{name}.json"))).unwrap()
}

pub fn expected(name: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join("examples").join(format!("{name}.expected.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Sets the value at a JSON pointer whose parent exists.
pub fn set_pointer(doc: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = doc.pointer_mut(parent).unwrap_or_else(|| panic!("no parent for {pointer}"));
    match target {
        Value::Object(map) => {
            map.insert(key.to_string(), value);
        }
        Value::Array(items) => {
            let i: usize = key.parse().unwrap();
            items[i] = value;
        }
        _ => panic!("cannot set {pointer}"),
    }
}

/// The backends every storage test runs on.
pub fn backends() -> Vec<Backend> {
    let mut b = vec![Backend::Sqlite];
    if std::env::var("TILLIT_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        b.push(Backend::Postgres);
    }
    b
}

/// A database that disappears with the test.
pub struct TestDb {
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("tillit.db");
                TestDb { url: DatabaseUrl::Sqlite(path), _dir: Some(dir), pg: None }
            }
            Backend::Postgres => {
                let admin = std::env::var("TILLIT_TEST_POSTGRES_URL").unwrap();
                let name = format!("tillit_t_{}", uuid::Uuid::new_v4().simple());
                let mut conn = diesel::PgConnection::establish(&admin).unwrap();
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).unwrap();
                let (base, _) = admin.rsplit_once('/').unwrap();
                let url = format!("{base}/{name}");
                TestDb { url: DatabaseUrl::Postgres(url), _dir: None, pg: Some((admin, name)) }
            }
        }
    }

    pub fn url_string(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(u) => u.clone(),
        }
    }

    pub fn open(&self) -> Database {
        let db = Database::open(&self.url, 4).unwrap();
        let mut conn = db.get().unwrap();
        tillit::organisations::service::seed_defaults(&mut conn).unwrap();
        db
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg {
            if let Ok(mut conn) = diesel::PgConnection::establish(admin) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn);
            }
        }
    }
}

/// A running application state over a fresh database.
pub struct TestApp {
    pub state: AppState,
    pub db: TestDb,
}

impl TestApp {
    pub fn new(backend: Backend) -> TestApp {
        TestApp::with_settings(backend, |_| {})
    }

    /// A test app whose settings `change` adjusts first.
    pub fn with_settings(backend: Backend, change: impl FnOnce(&mut Settings)) -> TestApp {
        let db = TestDb::new(backend);
        let database = db.open();
        let policies = tillit::policy::load(None).unwrap();
        let mut settings = Settings::for_database(db.url.clone());
        change(&mut settings);
        let state = AppState::new(database, policies, settings).unwrap();
        TestApp { state, db }
    }

    /// Creates (or reuses) a person with roles and returns a bearer token.
    pub fn token(&self, org: &str, name: &str, roles: &[Role]) -> String {
        let mut conn = self.state.db.get().unwrap();
        tillit::auth::service::create_token(&mut conn, org, name, roles, "test", 30).unwrap().secret
    }

    /// A digest of everything stored: the chain head and every table's row
    /// count. Every change writes an audit event, so any change moves it.
    pub fn digest(&self) -> String {
        use diesel::QueryableByName;
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        #[derive(QueryableByName)]
        struct Head {
            #[diesel(sql_type = diesel::sql_types::Text)]
            entry_hash: String,
        }
        let mut conn = self.state.db.get().unwrap();
        let mut parts = Vec::new();
        for table in tillit::db::AUDITED_TABLES.iter().chain(["audit_events"].iter()) {
            let c: Count =
                diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")).get_result(&mut *conn).unwrap();
            parts.push(format!("{table}={}", c.n));
        }
        let head: Head = diesel::sql_query("SELECT entry_hash FROM audit_head").get_result(&mut *conn).unwrap();
        parts.push(head.entry_hash);
        parts.join(";")
    }
}
pub mod live;

/// Writes a campaign's JSON summary under target/reports/.
pub fn write_report(name: &str, summary: &serde_json::Value) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/reports");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.json")), serde_json::to_string_pretty(summary).unwrap()).unwrap();
}
