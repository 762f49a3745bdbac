//! Writing a prepared page in one transaction, with SQLite's fast insert.

use super::*;

/// Writes a prepared page in one transaction: its evaluations, audit events
/// and the job's progress (so that the progress recorded is always that of
/// the rows written). Returns the job with the page counted: `size`
/// revisions done, and the live approvals that now need re-review.
///
/// Those were counted from the approvals read with the page. An approval
/// decided since then was taken on an earlier evaluation, which the page's
/// new one may be worse than; it needs re-review as well (the new
/// evaluation lists every earlier version it is worse than, so nothing more
/// is written for it), and to count it the page's decisions are counted
/// again inside the transaction (decisions are never deleted, so any new one
/// changes the count).
pub(super) fn write_page(
    conn: &mut DbConnection,
    prepared: Prepared,
    job: &JobRow,
    size: usize,
) -> Result<JobRow, AppError> {
    db::write(conn, |conn| {
        let flagged =
            if prepared.evaluations.is_empty() { 0 } else { prepared.flagged + late_flagged(conn, &prepared)? };
        // On SQLite one prepared single-row insert, run for each row, costs
        // less than building and compiling a statement of many rows; on
        // PostgreSQL many rows per statement save round trips.
        match &mut *conn {
            DbConnection::Sqlite(c) => {
                let mut times = SqliteTime::default();
                for row in &prepared.evaluations {
                    insert_evaluation(c, row, times.text(row.evaluated_at))?;
                }
            }
            DbConnection::Postgres(c) => {
                for chunk in prepared.evaluations.chunks(500) {
                    diesel::insert_into(evaluations::table).values(chunk).execute(c)?;
                }
            }
        }
        audit::store::append_many(conn, &prepared.events)?;
        // Derived from the document like risk_class (the row's digest does
        // not cover them); the triggers that keep revisions immutable leave
        // them out.
        for (revision_id, offsets) in &prepared.offsets {
            diesel::update(revisions::table.filter(revisions::id.eq(revision_id)))
                .set(revisions::field_offsets.eq(offsets))
                .execute(conn)?;
        }
        let done = JobRow {
            done: job.done + i64::try_from(size).unwrap_or(i64::MAX),
            flagged: job.flagged + i64::try_from(flagged).unwrap_or(i64::MAX),
            updated_at: db::now(),
            ..job.clone()
        };
        diesel::update(reevaluation_jobs::table.filter(reevaluation_jobs::id.eq(&done.id)))
            .set((
                reevaluation_jobs::done.eq(done.done),
                reevaluation_jobs::flagged.eq(done.flagged),
                reevaluation_jobs::updated_at.eq(done.updated_at),
            ))
            .execute(conn)?;
        Ok(done)
    })
}

/// The evaluation insert on SQLite, as a statement of fixed text with a
/// query id of its own, so that diesel finds its prepared statement by type
/// (for its insert builder it writes the statement out again for every row
/// to look it up by text). The row's fields are bound as they are, its time
/// as `evaluated_at`, the text diesel stores for it (`SqliteTime`), so that
/// the row reads back as the insert builder would have stored it.
pub(super) fn insert_evaluation(
    conn: &mut diesel::SqliteConnection,
    row: &EvaluationRow,
    evaluated_at: &str,
) -> QueryResult<usize> {
    InsertEvaluation { row, evaluated_at }.execute(conn)
}

pub(super) struct InsertEvaluation<'a> {
    pub(super) row: &'a EvaluationRow,
    pub(super) evaluated_at: &'a str,
}

impl diesel::query_builder::QueryId for InsertEvaluation<'_> {
    type QueryId = InsertEvaluation<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for InsertEvaluation<'_> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> QueryResult<()> {
        use diesel::sql_types::Text;
        let row = self.row;
        out.push_sql(
            "INSERT INTO evaluations (id, revision_id, rule_set_version, verdict, outcome, evaluated_at, \
             rule_outcomes, worse_than) VALUES (",
        );
        let fields: [&str; 8] = [
            &row.id,
            &row.revision_id,
            &row.rule_set_version,
            row.verdict.as_str(),
            &row.outcome,
            self.evaluated_at,
            &row.rule_outcomes,
            &row.worse_than,
        ];
        for (i, field) in fields.into_iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_bind_param::<Text, _>(field)?;
        }
        out.push_sql(")");
        Ok(())
    }
}

impl RunQueryDsl<diesel::SqliteConnection> for InsertEvaluation<'_> {}

/// Times in the text diesel stores for a timestamp on SQLite, the last one
/// kept: a page's evaluations share one time, formatted once.
#[derive(Default)]
pub(super) struct SqliteTime(Option<(NaiveDateTime, String)>);

impl SqliteTime {
    pub(super) fn text(&mut self, at: NaiveDateTime) -> &str {
        if self.0.as_ref().map(|(time, _)| *time) != Some(at) {
            self.0 = Some((at, at.format("%F %T%.f").to_string()));
        }
        self.0.as_ref().map_or("", |(_, text)| text.as_str())
    }
}

/// How many approvals of the page's revisions, decided after the page was
/// read, the page's new evaluations are worse than.
pub(super) fn late_flagged(conn: &mut DbConnection, prepared: &Prepared) -> Result<usize, AppError> {
    let (first, last) = &prepared.range;
    let in_range = || decisions::table.filter(decisions::revision_id.ge(first)).filter(decisions::revision_id.le(last));
    let count: i64 = in_range().count().get_result(conn)?;
    if usize::try_from(count).unwrap_or(usize::MAX) == prepared.decisions_seen {
        return Ok(0);
    }
    let live: Vec<(String, String, String)> = in_range()
        .filter(decisions::revoked_at.is_null())
        .filter(decisions::decision.ne("rejected"))
        .select((decisions::id, decisions::revision_id, decisions::rule_set_version))
        .load(conn)?;
    let new_by_revision: HashMap<&str, &EvaluationRow> =
        prepared.evaluations.iter().map(|row| (row.revision_id.as_str(), row)).collect();
    let counted: HashSet<&str> = prepared.live_ids.iter().map(String::as_str).collect();
    let mut late = 0;
    for (decision_id, revision_id, version) in live {
        if counted.contains(decision_id.as_str()) {
            continue;
        }
        if new_by_revision.get(revision_id.as_str()).is_some_and(|new| lists_version(&new.worse_than, &version)) {
            log::info!("decision {decision_id}, made while its page was evaluated, needs re-review");
            late += 1;
        }
    }
    Ok(late)
}
