use super::*;

#[test]
fn parses_supported_urls_only() {
    assert_eq!(DatabaseUrl::parse("sqlite://tillit.db").unwrap(), DatabaseUrl::Sqlite("tillit.db".into()));
    assert_eq!(DatabaseUrl::parse("sqlite:///var/lib/t.db").unwrap(), DatabaseUrl::Sqlite("/var/lib/t.db".into()));
    assert!(matches!(DatabaseUrl::parse("postgres://u@h/db").unwrap(), DatabaseUrl::Postgres(_)));
    assert!(matches!(DatabaseUrl::parse("postgresql://u@h/db").unwrap(), DatabaseUrl::Postgres(_)));
    assert!(DatabaseUrl::parse("mysql://x").is_err());
    assert!(DatabaseUrl::parse("tillit.db").is_err());
    assert!(DatabaseUrl::parse("sqlite://").is_err());
}

#[test]
fn redacts_passwords() {
    let url = DatabaseUrl::parse("postgres://app:secret@db/tillit").unwrap();
    assert_eq!(url.redacted(), "postgres://app:***@db/tillit");
    assert!(!format!("{url:?}").contains("secret"));
}

#[test]
fn timestamps_have_one_textual_form() {
    let t = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap().and_hms_micro_opt(7, 8, 9, 42).unwrap();
    assert_eq!(rfc3339(&t), "2026-11-27T07:08:09.000042Z");
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    wal_autocheckpoint: i32,
}

fn autocheckpoint(conn: &mut DbConnection) -> i32 {
    let DbConnection::Sqlite(c) = conn else { panic!("not SQLite") };
    diesel::sql_query("PRAGMA wal_autocheckpoint").get_result::<Setting>(c).unwrap().wal_autocheckpoint
}

#[test]
fn background_checkpoints_copy_the_log_while_the_writer_writes_and_then_hand_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bulk.sqlite");
    let url = DatabaseUrl::Sqlite(path.clone());
    let database = Database::open(&url, 2).unwrap();
    let mut conn = database.get().unwrap();
    diesel::sql_query("CREATE TABLE bulk (n INTEGER PRIMARY KEY, body TEXT NOT NULL)").execute(&mut *conn).unwrap();
    diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut *conn).unwrap();
    let before = std::fs::metadata(&path).unwrap().len();

    let checkpoints = BackgroundCheckpoints::start(&mut conn).unwrap().expect("SQLite gets a checkpoint thread");
    assert_eq!(autocheckpoint(&mut conn), 0, "the writer leaves checkpoints to the thread");
    // About 8 MB in several commits: far past the 1,000-page log that
    // the writer would otherwise checkpoint at.
    for round in 0..8 {
        diesel::sql_query(format!(
            "INSERT INTO bulk (n, body) WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s WHERE v < 1000) \
             SELECT {round} * 1000 + v, printf('%.1000c', 'x') FROM s"
        ))
        .execute(&mut *conn)
        .unwrap();
    }
    // The database file itself grows only when the log is copied into it.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::fs::metadata(&path).unwrap().len() <= before + 4_000_000 {
        assert!(std::time::Instant::now() < deadline, "the background thread never checkpointed");
        std::thread::sleep(Duration::from_millis(50));
    }
    checkpoints.finish(&mut conn).unwrap();
    assert_eq!(autocheckpoint(&mut conn), SQLITE_AUTOCHECKPOINT_PAGES as i32, "the writer checkpoints again");
    let count: i64 = {
        let DbConnection::Sqlite(c) = &mut *conn else { unreachable!() };
        diesel::dsl::sql::<diesel::sql_types::BigInt>("SELECT COUNT(*) FROM bulk").get_result(c).unwrap()
    };
    assert_eq!(count, 8_000);
}

#[test]
fn background_checkpoints_stop_when_dropped_without_finish() {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::Sqlite(dir.path().join("dropped.sqlite"));
    let database = Database::open(&url, 1).unwrap();
    let mut conn = database.get().unwrap();
    let checkpoints = BackgroundCheckpoints::start(&mut conn).unwrap().expect("a checkpoint thread");
    let started = std::time::Instant::now();
    drop(checkpoints);
    assert!(started.elapsed() < Duration::from_secs(2), "the thread is woken, not waited out");
}
