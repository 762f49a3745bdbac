//! Rule-set changes. When the policy files change, every revision with a live
//! approval, and the latest revision of every service, is evaluated against
//! the new rule set. The new evaluations are stored next to the old ones,
//! never over them, and every approval whose outcome got worse is flagged
//! for re-review: each new evaluation lists the rule-set versions of the
//! earlier evaluations of its revision that it is worse than
//! (`worse_than`), and an approval decided under one of those versions needs
//! re-review. A job records its progress; an interrupted run resumes where
//! it stopped (revisions already evaluated are skipped).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::PolicySet;
use super::catalog::RuleCatalog;
use super::lineage::{Lineage, Prior};
use super::model::{RuleOutcome, StoredRules, Verdict, VersionList, compact_outcomes};
use crate::audit::{self, AuditAction, Audited, NewEvent, SealedEvent};
use crate::db::schema::{decisions, evaluations, re_reviews, reevaluation_jobs, revisions, rule_sets};
use crate::db::{self, DbConnection, rfc3339, rfc3339_opt};
use crate::error::AppError;
use crate::ids::new_id;
use crate::submissions::store::{EvaluationRow, OutcomeForm};

mod flags;
mod prepare;
#[cfg(test)]
mod tests;
mod work;
mod write;

pub use flags::*;
use prepare::*;
use work::*;
use write::*;

/// Revisions read, evaluated and written per transaction.
const PAGE: i64 = 5_000;

/// Re-evaluated revisions recorded per audit event: each event names every
/// evaluation of its batch (with the digest of each row, which covers the
/// versions it is worse than),
/// so the chain covers every row while the log grows by one event per batch
/// instead of one per revision.
const EVENT_BATCH: usize = 100;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = rule_sets)]
pub struct RuleSetRow {
    pub version: String,
    pub name: String,
    /// JSON object: file name → text, so that any past rule set can be read.
    pub sources: String,
    pub registered_at: NaiveDateTime,
}

impl Audited for RuleSetRow {
    const TABLE: &'static str = "rule_sets";
    fn audit_id(&self) -> String {
        self.version.clone()
    }
}

/// A re-review flag for one approval, as re-evaluations recorded them before
/// migration 000010 (since then the evaluation's `worse_than` says it). The
/// rows stay, count as flags, and are checked by `audit verify`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = re_reviews)]
pub struct ReReviewRow {
    pub id: String,
    pub decision_id: String,
    pub evaluation_id: String,
    pub flagged_at: NaiveDateTime,
}

impl Audited for ReReviewRow {
    const TABLE: &'static str = "re_reviews";
    fn audit_id(&self) -> String {
        self.id.clone()
    }
}

/// Where a re-evaluation job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Running,
    Finished,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Finished => "finished",
            JobState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        [JobState::Running, JobState::Finished, JobState::Failed].into_iter().find(|j| j.as_str() == s)
    }
}

crate::db::text_enum!(JobState);

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = reevaluation_jobs)]
pub struct JobRow {
    pub id: String,
    pub rule_set_version: String,
    pub status: JobState,
    pub total: i64,
    pub done: i64,
    pub flagged: i64,
    pub started_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

/// A job's progress, for the API and the CLI.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobStatus {
    pub job_id: String,
    pub rule_set_version: String,
    pub status: JobState,
    pub total: i64,
    pub done: i64,
    /// Approvals flagged for re-review.
    pub flagged: i64,
    pub started_at: String,
    pub updated_at: String,
    pub finished_at: Option<String>,
    /// Revisions per second so far.
    pub rate: f64,
    /// Seconds left at that rate.
    pub eta_seconds: Option<f64>,
}

impl From<&JobRow> for JobStatus {
    fn from(row: &JobRow) -> Self {
        let end = row.finished_at.unwrap_or(row.updated_at);
        let secs = (end - row.started_at).num_milliseconds() as f64 / 1000.0;
        let rate = if secs > 0.0 { row.done as f64 / secs } else { 0.0 };
        let left = (row.total - row.done).max(0) as f64;
        JobStatus {
            job_id: row.id.clone(),
            rule_set_version: row.rule_set_version.clone(),
            status: row.status,
            total: row.total,
            done: row.done,
            flagged: row.flagged,
            started_at: rfc3339(&row.started_at),
            updated_at: rfc3339(&row.updated_at),
            finished_at: rfc3339_opt(&row.finished_at),
            rate,
            eta_seconds: (row.status == JobState::Running && rate > 0.0).then(|| left / rate),
        }
    }
}

/// Records the rule set in force (once per version), with its files.
pub fn register_rule_set(conn: &mut DbConnection, policies: &PolicySet) -> Result<bool, AppError> {
    db::write(conn, |conn| {
        let known: Option<String> = rule_sets::table
            .filter(rule_sets::version.eq(policies.version()))
            .select(rule_sets::version)
            .first(conn)
            .optional()?;
        if known.is_some() {
            return Ok(false);
        }
        let sources: serde_json::Map<String, serde_json::Value> = policies
            .sources()
            .iter()
            .map(|s| (s.file_name.clone(), serde_json::Value::String(s.text.clone())))
            .collect();
        let row = RuleSetRow {
            version: policies.version().to_string(),
            name: policies.name().to_string(),
            sources: serde_json::to_string(&sources)?,
            registered_at: db::now(),
        };
        diesel::insert_into(rule_sets::table).values(&row).execute(conn)?;
        audit::append(conn, NewEvent::new(AuditAction::RuleSetRegistered, None, None).subject(&row))?;
        log::info!("rule set {} registered", row.version);
        Ok(true)
    })
}

pub fn job(conn: &mut DbConnection, id: &str) -> Result<Option<JobRow>, AppError> {
    Ok(reevaluation_jobs::table
        .filter(reevaluation_jobs::id.eq(id))
        .select(JobRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn jobs(conn: &mut DbConnection) -> Result<Vec<JobRow>, AppError> {
    Ok(reevaluation_jobs::table
        .order(reevaluation_jobs::started_at.desc())
        .limit(50)
        .select(JobRow::as_select())
        .load(conn)?)
}

/// Whether the rule set in force still has revisions to evaluate (an
/// interrupted job, or a rule set not yet run).
pub fn pending(conn: &mut DbConnection, policies: &PolicySet) -> Result<bool, AppError> {
    let finished: Option<String> = reevaluation_jobs::table
        .filter(reevaluation_jobs::rule_set_version.eq(policies.version()))
        .filter(reevaluation_jobs::status.eq(JobState::Finished))
        .select(reevaluation_jobs::id)
        .first(conn)
        .optional()?;
    Ok(finished.is_none())
}

/// Records the rule set in force as fully evaluated when every revision
/// already has an evaluation with it (after `tillit seed`, which evaluates
/// as it writes), so that the next start does not run a job with nothing
/// to do. Returns whether it did.
pub fn mark_done_if_complete(conn: &mut DbConnection, policies: &PolicySet) -> Result<bool, AppError> {
    register_rule_set(conn, policies)?;
    if !pending(conn, policies)? {
        return Ok(false);
    }
    db::write(conn, |conn| {
        let total = revisions::table.count().get_result::<i64>(conn)?;
        let evaluated = evaluations::table
            .filter(evaluations::rule_set_version.eq(policies.version()))
            .select(diesel::dsl::count(evaluations::revision_id).aggregate_distinct())
            .get_result::<i64>(conn)?;
        if evaluated < total {
            return Ok(false);
        }
        let now = db::now();
        let job = JobRow {
            id: new_id(),
            rule_set_version: policies.version().to_string(),
            status: JobState::Finished,
            total,
            done: total,
            flagged: 0,
            started_at: now,
            updated_at: now,
            finished_at: Some(now),
        };
        diesel::insert_into(reevaluation_jobs::table).values(&job).execute(conn)?;
        Ok(true)
    })
}

/// Starts (or resumes) the job for the rule set in force.
pub fn start_job(conn: &mut DbConnection, policies: &PolicySet) -> Result<JobRow, AppError> {
    register_rule_set(conn, policies)?;
    db::write(conn, |conn| {
        let running: Option<JobRow> = reevaluation_jobs::table
            .filter(reevaluation_jobs::rule_set_version.eq(policies.version()))
            .filter(reevaluation_jobs::status.ne(JobState::Finished))
            .select(JobRow::as_select())
            .first(conn)
            .optional()?;
        let total = revisions::table.count().get_result::<i64>(conn)?;
        let now = db::now();
        match running {
            // Resumed: the pass starts again from the first revision and counts
            // anew, but skips every revision already evaluated with this
            // version, so the work done before the stop is not repeated; the
            // approvals flagged before the stop stay counted.
            Some(job) => {
                diesel::update(reevaluation_jobs::table.filter(reevaluation_jobs::id.eq(&job.id)))
                    .set((
                        reevaluation_jobs::status.eq(JobState::Running),
                        reevaluation_jobs::total.eq(total),
                        reevaluation_jobs::done.eq(0),
                        reevaluation_jobs::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                Ok(JobRow { status: JobState::Running, total, done: 0, updated_at: now, ..job })
            }
            None => {
                let job = JobRow {
                    id: new_id(),
                    rule_set_version: policies.version().to_string(),
                    status: JobState::Running,
                    total,
                    done: 0,
                    flagged: 0,
                    started_at: now,
                    updated_at: now,
                    finished_at: None,
                };
                diesel::insert_into(reevaluation_jobs::table).values(&job).execute(conn)?;
                Ok(job)
            }
        }
    })
}

/// Runs a job to the end. `progress` is called after every page. `readers`
/// are two more connections to the same database, on which the pages are
/// read while `conn` writes the ones before them: the revisions on the
/// first, their approvals and earlier evaluations on the second.
pub fn run_job(
    conn: &mut DbConnection,
    readers: [&mut DbConnection; 2],
    policies: &PolicySet,
    job: JobRow,
    progress: impl FnMut(&JobRow),
) -> Result<JobRow, AppError> {
    run_job_in_pages(conn, readers, policies, job, PAGE, progress)
}

/// `run_job` with another page size (revisions per transaction).
pub fn run_job_in_pages(
    conn: &mut DbConnection,
    readers: [&mut DbConnection; 2],
    policies: &PolicySet,
    job: JobRow,
    page_size: i64,
    mut progress: impl FnMut(&JobRow),
) -> Result<JobRow, AppError> {
    let page_size = page_size.max(1);
    let version = policies.version().to_string();
    // The readers keep SQLite's default cache: SQLite drops a reader's cache
    // whenever another connection has committed, so a large one is only
    // allocated and thrown away again on every page.
    db::tune_for_bulk(conn, 16)?;
    let unchanged = Unchanged::load(conn, policies)?;
    let mut job = job;
    let checkpoints = db::BackgroundCheckpoints::start(conn)?;
    // Four stages, each on its own thread: one reader reads the pages of
    // revisions, another their approvals and earlier evaluations, each on
    // its connection (reading was the slowest stage when one thread did
    // both); the evaluator (with a helper for half of each page) evaluates
    // a page, decides which approvals got worse and prepares its rows and
    // audit events; this thread writes the prepared pages in order, one
    // transaction each. Each stage works one page ahead of the next.
    let [pages, history] = readers;
    db::map_for_reading(pages, true)?;
    db::map_for_reading(history, true)?;
    let mut remade = 0usize;
    let result = std::thread::scope(|scope| -> Result<(), AppError> {
        let (pages, history) = (&mut *pages, &mut *history);
        let (page_tx, page_rx) = std::sync::mpsc::sync_channel::<Result<Page, AppError>>(0);
        let (work_tx, work_rx) = std::sync::mpsc::sync_channel::<Result<(usize, Work), AppError>>(0);
        scope.spawn(move || {
            let mut after = String::new();
            loop {
                let (stop, sent) = match read_page(pages, &after, page_size) {
                    Ok(page) => match page.last() {
                        None => (true, true),
                        Some(last) => {
                            after = last.0.clone();
                            (false, page_tx.send(Ok(page)).is_ok())
                        }
                    },
                    Err(e) => (true, page_tx.send(Err(e)).is_ok()),
                };
                if stop || !sent {
                    break;
                }
            }
        });
        scope.spawn(move || {
            for page in page_rx {
                let work = page.and_then(|page| {
                    let size = page.len();
                    Ok((size, read_work(history, page, &version)?))
                });
                let failed = work.is_err();
                if work_tx.send(work).is_err() || failed {
                    break;
                }
            }
        });
        let (done_tx, done_rx) = std::sync::mpsc::sync_channel::<Result<(usize, Prepared), AppError>>(0);
        scope.spawn(move || {
            for work in work_rx {
                let prepared = work.and_then(|(size, work)| Ok((size, prepare(policies, &unchanged, work)?)));
                if done_tx.send(prepared).is_err() {
                    break;
                }
            }
        });
        for prepared in done_rx {
            let (size, prepared) = prepared?;
            remade += prepared.offsets.len();
            job = write_page(conn, prepared, &job, size)?;
            progress(&job);
        }
        Ok(())
    });
    if let Some(checkpoints) = checkpoints {
        checkpoints.finish(conn)?;
    }
    let now = db::now();
    job.status = if result.is_ok() { JobState::Finished } else { JobState::Failed };
    job.finished_at = result.is_ok().then_some(now);
    job.updated_at = now;
    diesel::update(reevaluation_jobs::table.filter(reevaluation_jobs::id.eq(&job.id)))
        .set((
            reevaluation_jobs::status.eq(job.status),
            reevaluation_jobs::finished_at.eq(job.finished_at),
            reevaluation_jobs::updated_at.eq(now),
            reevaluation_jobs::done.eq(job.done),
        ))
        .execute(conn)?;
    // Back to SQLite's defaults before the connections return to the pool.
    db::tune_for_bulk(conn, 2)?;
    db::map_for_reading(pages, false)?;
    db::map_for_reading(history, false)?;
    if remade > 0 {
        log::info!("field offsets recorded for {remade} revisions that had none (or had ones that did not fit)");
    }
    result?;
    log::info!("re-evaluation {} against {} finished: {} flagged", job.id, job.rule_set_version, job.flagged);
    Ok(job)
}
