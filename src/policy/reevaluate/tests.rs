use chrono::Timelike;
use diesel::prelude::*;

use super::{Earlier, SqliteTime, insert_evaluation, lists_version, worse_than};
use crate::db::schema::evaluations;
use crate::db::{Database, DatabaseUrl, DbConnection};
use crate::submissions::store::EvaluationRow;

#[derive(QueryableByName, Debug, PartialEq)]
struct Stored {
    #[diesel(sql_type = diesel::sql_types::Text)]
    evaluated_at: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    kinds: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    fields: String,
}

#[test]
fn the_evaluation_insert_stores_rows_as_diesels_insert_builder_does() {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::Sqlite(dir.path().join("insert.sqlite"));
    let database = Database::open(&url, 1).unwrap();
    let mut conn = database.get().unwrap();
    crate::db::run_migrations(&mut conn).unwrap();
    let DbConnection::Sqlite(c) = &mut *conn else { panic!("not SQLite") };
    // The rows name revisions that this bare database does not have.
    diesel::sql_query("PRAGMA foreign_keys = OFF").execute(c).unwrap();
    let page_time = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap().and_hms_micro_opt(18, 5, 9, 42).unwrap();
    let row = |id: &str, at| EvaluationRow {
        id: id.into(),
        revision_id: format!("rev-{id}"),
        rule_set_version: "2026.1+abc".into(),
        verdict: crate::policy::model::Verdict::Fail,
        outcome: r#"{"rules":[{"rule":"R1","outcome":"fail","violations":["å \"x\""]}]}"#.into(),
        evaluated_at: at,
        rule_outcomes: "R1=fail,R2=pass".into(),
        worse_than: if id.ends_with('1') { r#"["2025.9+old"]"#.into() } else { "[]".into() },
    };
    let mut times = SqliteTime::default();
    let whole_second = page_time.with_nanosecond(0).unwrap();
    let pairs = [
        (row("builder-1", page_time), row("fixed-1", page_time)),
        (row("builder-2", whole_second), row("fixed-2", whole_second)),
    ];
    for (by_builder, by_fixed) in &pairs {
        diesel::insert_into(evaluations::table).values(by_builder).execute(c).unwrap();
        // The second pair's time is not the first's: formatted anew.
        assert_eq!(insert_evaluation(c, by_fixed, times.text(by_fixed.evaluated_at)).unwrap(), 1);
    }
    let mut stored = |id: &str| -> Stored {
        diesel::sql_query(
            "SELECT evaluated_at, typeof(evaluated_at) || typeof(outcome) || typeof(worse_than) AS kinds, \
             rule_set_version || '|' || verdict || '|' || outcome || '|' || rule_outcomes || '|' || worse_than AS fields \
             FROM evaluations WHERE id = ?",
        )
        .bind::<diesel::sql_types::Text, _>(id)
        .get_result(c)
        .unwrap()
    };
    assert_eq!(stored("fixed-1"), stored("builder-1"));
    assert_eq!(stored("fixed-2"), stored("builder-2"));
    assert_eq!(stored("fixed-1").evaluated_at, "2026-12-02 18:05:09.000042");
    for (by_builder, by_fixed) in &pairs {
        let mut read = |id: &str| -> EvaluationRow {
            evaluations::table.filter(evaluations::id.eq(id)).select(EvaluationRow::as_select()).first(c).unwrap()
        };
        let (a, b) = (read(&by_builder.id), read(&by_fixed.id));
        assert_eq!(
            (a.evaluated_at, &a.outcome, &a.worse_than),
            (by_builder.evaluated_at, &by_builder.outcome, &by_builder.worse_than)
        );
        assert_eq!(
            (b.evaluated_at, &b.outcome, &b.worse_than),
            (by_fixed.evaluated_at, &by_fixed.outcome, &by_fixed.worse_than)
        );
    }
}

fn earlier(rows: &[(&str, &str, &str)]) -> Vec<Earlier> {
    rows.iter()
        .map(|(v, verdict, outcomes)| Earlier {
            version: v.to_string(),
            verdict: verdict.to_string(),
            outcomes: outcomes.to_string(),
            outcome: None,
        })
        .collect()
}

#[test]
fn a_new_evaluation_lists_every_earlier_version_it_is_worse_than() {
    let then = earlier(&[
        ("2026.1+aaa", "pass", "R1=pass,R2=pass"),
        ("2026.2+bbb", "pass", "R1=pass,R2=warn"),
        ("2026.3+ccc", "fail", "R1=pass,R2=fail"),
    ]);
    // R2 went to warn: worse than the first only.
    assert_eq!(worse_than(&then, "pass", "R1=pass,R2=warn").record(), "2026.1+aaa");
    // The verdict turned to fail: worse than both that passed.
    assert_eq!(worse_than(&then, "fail", "R1=pass,R2=fail").record(), "2026.1+aaa,2026.2+bbb");
    // Nothing got worse.
    assert_eq!(worse_than(&then, "pass", "R1=pass,R2=pass").record(), "");
    assert_eq!(worse_than(&[], "fail", "R1=fail").record(), "");
}

#[test]
fn a_version_is_listed_only_by_its_whole_name() {
    assert!(lists_version(r#"["2026.1+aaa","2026.2+bbb"]"#, "2026.2+bbb"));
    assert!(lists_version(r#"["2026.1+aaa"]"#, "2026.1+aaa"));
    assert!(!lists_version(r#"["2026.1+aaa","2026.2+bbb"]"#, "2026.1+aa"));
    assert!(!lists_version(r#"["2026.1+aaa"]"#, "2026.1+aaa,"));
    assert!(!lists_version("[]", ""));
}
