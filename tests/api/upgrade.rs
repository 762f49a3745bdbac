//! A database made by an earlier Tillit upgrades in place. The fixtures are
//! dumps of databases that the main branch of 2026-12-07 made (synthetic
//! services, their decisions and delegations, and a re-evaluation under a
//! stricter rule set that flagged approvals for re-review); see
//! `tests/fixtures/upgrade/README.md`. Opening one runs the pending
//! migrations; the audit chain and every row must still verify, and the
//! data the migrations moved must read back the same.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use tillit::db::{Backend, Database, DatabaseUrl};
use tillit::{AppState, Settings};

use crate::common::{TestDb, backends, fixtures};

/// Loads a dump into the empty database, as `sqlite3` or `psql` would.
fn restore(db: &TestDb, backend: Backend) {
    let name = match backend {
        Backend::Sqlite => "sqlite-2026-12-07.sql",
        Backend::Postgres => "postgres-2026-12-07.sql",
    };
    let dump = std::fs::read_to_string(fixtures().join("upgrade").join(name)).unwrap();
    match &db.url {
        DatabaseUrl::Sqlite(path) => {
            let mut conn = diesel::SqliteConnection::establish(&path.display().to_string()).unwrap();
            conn.batch_execute(&dump).unwrap();
        }
        DatabaseUrl::Postgres(url) => {
            // psql's own commands (`\restrict`) are not SQL.
            let sql: String =
                dump.lines().filter(|line| !line.starts_with('\\')).map(|line| format!("{line}\n")).collect();
            let mut conn = diesel::PgConnection::establish(url).unwrap();
            conn.batch_execute(&sql).unwrap();
        }
    }
}

#[test]
fn a_database_made_by_the_main_of_2026_12_07_upgrades_in_place_and_verifies() {
    for backend in backends() {
        let db = TestDb::new(backend);
        restore(&db, backend);
        let database = Database::open(&db.url, 4).unwrap();
        let mut conn = database.get().unwrap();

        let report = tillit::audit::verify::verify(&mut conn, &[]).unwrap();
        assert!(report.intact, "{backend:?}: {:?}", report.problems);
        assert!(report.events > 100 && report.rows_checked > 200, "{backend:?}: {report:?}");

        // The lists of rule-set versions are JSON arrays now, and the
        // re-evaluation's flags are still there.
        use tillit::db::schema::evaluations;
        let lists: Vec<String> = evaluations::table.select(evaluations::worse_than).load(&mut conn).unwrap();
        let parsed: Vec<Vec<String>> = lists.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert!(parsed.iter().any(|l| !l.is_empty()), "{backend:?}: the fixture has flagged evaluations");
        assert!(parsed.iter().flatten().all(|v| v.starts_with("2026.1+") && !v.contains(',')), "{backend:?}");
        use tillit::db::schema::decisions;
        let approvals: Vec<(String, String, String)> = decisions::table
            .filter(decisions::decision.ne("rejected"))
            .select((decisions::id, decisions::revision_id, decisions::rule_set_version))
            .load(&mut conn)
            .unwrap();
        let flags = tillit::policy::reevaluate::ReReviewFlags::load(
            &mut conn,
            approvals.iter().map(|(id, revision, _)| (id.as_str(), revision.as_str())),
        )
        .unwrap();
        let flagged = approvals.iter().filter(|(id, revision, version)| flags.flagged(id, revision, version)).count();
        assert!(flagged > 0, "{backend:?}: approvals still need re-review");
        drop(conn);

        // The application starts on it and finds its services.
        let policies = tillit::policy::load(None).unwrap();
        let state = AppState::new(database, policies, Settings::for_database(db.url.clone())).unwrap();
        assert!(state.lookup.snapshot().len() > 10, "{backend:?}");
    }
}
