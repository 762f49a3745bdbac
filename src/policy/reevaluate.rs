//! Rule-set changes. When the policy files change, every revision with a live
//! approval, and the latest revision of every service, is evaluated against
//! the new rule set. The new evaluations are stored next to the old ones,
//! never over them, and every approval whose outcome got worse is flagged
//! for re-review. A job records its progress; an interrupted run resumes
//! where it stopped (revisions already evaluated are skipped).

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::PolicySet;
use super::model::{Evaluation, RuleOutcome, Verdict};
use crate::approvals::store::DecisionRow;
use crate::audit::model::Subject;
use crate::audit::{self, AuditAction, Audited, NewEvent};
use crate::auth::service::new_id;
use crate::db::schema::{decisions, evaluations, re_reviews, reevaluation_jobs, revisions, rule_sets};
use crate::db::{self, DbConnection, rfc3339, rfc3339_opt};
use crate::error::AppError;
use crate::submissions::store::EvaluationRow;

/// Revisions read, evaluated and written per transaction.
const PAGE: i64 = 5_000;
/// Re-evaluated revisions recorded per audit event: each event names every
/// evaluation and re-review flag of its batch (with the digest of each row),
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

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = reevaluation_jobs)]
pub struct JobRow {
    pub id: String,
    pub rule_set_version: String,
    pub status: String,
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
    /// `running`, `finished` or `failed`.
    pub status: String,
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
            status: row.status.clone(),
            total: row.total,
            done: row.done,
            flagged: row.flagged,
            started_at: rfc3339(&row.started_at),
            updated_at: rfc3339(&row.updated_at),
            finished_at: rfc3339_opt(&row.finished_at),
            rate,
            eta_seconds: (row.status == "running" && rate > 0.0).then(|| left / rate),
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
        .filter(reevaluation_jobs::status.eq("finished"))
        .select(reevaluation_jobs::id)
        .first(conn)
        .optional()?;
    Ok(finished.is_none())
}

/// Rank of an outcome for "got worse": pass and not applicable are equal.
fn rank(outcome: RuleOutcome) -> u8 {
    match outcome {
        RuleOutcome::Pass | RuleOutcome::NotApplicable => 0,
        RuleOutcome::Warn => 1,
        RuleOutcome::Fail => 2,
    }
}

/// Whether `new` is worse than an earlier evaluation for an approval: the
/// verdict turned from pass, or any rule's outcome got worse. The earlier
/// evaluation is read in its stored compact form: its verdict (`pass` or
/// `fail`) and its rule outcomes (`R1=pass,R2=warn,…`).
pub fn worse(old_verdict: &str, old_outcomes: &str, new: &Evaluation) -> bool {
    if old_verdict == Verdict::Pass.as_str() && new.verdict != Verdict::Pass {
        return true;
    }
    let before = |rule: &str| -> u8 {
        old_outcomes
            .split(',')
            .filter_map(|pair| pair.split_once('='))
            .find(|(id, _)| *id == rule)
            .and_then(|(_, outcome)| RuleOutcome::parse(outcome))
            .map_or(0, rank)
    };
    new.rules.iter().any(|r| rank(r.outcome) > before(&r.rule))
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
            status: "finished".into(),
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
            .filter(reevaluation_jobs::status.ne("finished"))
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
                        reevaluation_jobs::status.eq("running"),
                        reevaluation_jobs::total.eq(total),
                        reevaluation_jobs::done.eq(0),
                        reevaluation_jobs::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                Ok(JobRow { status: "running".into(), total, done: 0, updated_at: now, ..job })
            }
            None => {
                let job = JobRow {
                    id: new_id(),
                    rule_set_version: policies.version().to_string(),
                    status: "running".into(),
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

type Page = Vec<(String, String, i32, String)>;

/// Runs a job to the end. `progress` is called after every page.
pub fn run_job(
    conn: &mut DbConnection,
    policies: &PolicySet,
    job: JobRow,
    progress: impl FnMut(&JobRow),
) -> Result<JobRow, AppError> {
    run_job_in_pages(conn, policies, job, PAGE, progress)
}

/// `run_job` with another page size (revisions per transaction).
pub fn run_job_in_pages(
    conn: &mut DbConnection,
    policies: &PolicySet,
    job: JobRow,
    page_size: i64,
    mut progress: impl FnMut(&JobRow),
) -> Result<JobRow, AppError> {
    let page_size = page_size.max(1);
    let version = policies.version().to_string();
    db::tune_for_bulk(conn, 128)?;
    let mut job = job;
    let mut after = String::new();
    // This thread reads pages and writes results on the connection; an
    // evaluator thread (with a helper for half of each page) evaluates the
    // next page and prepares its rows meanwhile.
    let result = std::thread::scope(|scope| -> Result<(), AppError> {
        let (work_tx, work_rx) = std::sync::mpsc::sync_channel::<Vec<(String, String)>>(1);
        let (done_tx, done_rx) = std::sync::mpsc::sync_channel::<Result<Vec<Prepared>, AppError>>(1);
        scope.spawn(move || {
            for work in work_rx {
                if done_tx.send(prepare(policies, work)).is_err() {
                    break;
                }
            }
        });
        let stopped = || AppError::internal("the re-evaluation's evaluator thread stopped");
        // Sizes of the pages sent for evaluation and not yet written.
        let mut in_flight: VecDeque<usize> = VecDeque::new();
        let mut read_all = false;
        loop {
            if !read_all {
                // Every revision, in pages, by id.
                let page: Page = revisions::table
                    .filter(revisions::id.gt(&after))
                    .order(revisions::id.asc())
                    .limit(page_size)
                    .select((revisions::id, revisions::service_id, revisions::revision, revisions::document))
                    .load(conn)?;
                match page.last() {
                    None => read_all = true,
                    Some(last) => {
                        after = last.0.clone();
                        let targets = targets(conn, &page, &version)?;
                        in_flight.push_back(page.len());
                        let work = page
                            .into_iter()
                            .filter(|r| targets.contains(&r.0))
                            .map(|(id, _, _, document)| (id, document))
                            .collect();
                        work_tx.send(work).map_err(|_| stopped())?;
                    }
                }
            }
            // Write the oldest page once the next one is evaluating, or when
            // there is nothing left to read.
            let write_now = in_flight.len() >= 2 || (read_all && !in_flight.is_empty());
            if !write_now {
                if read_all {
                    break;
                }
                continue;
            }
            let prepared = done_rx.recv().map_err(|_| stopped())??;
            let size = in_flight.pop_front().unwrap_or_default();
            let flagged = write_page(conn, prepared)?;
            job.done += size as i64;
            job.flagged += flagged as i64;
            job.updated_at = db::now();
            diesel::update(reevaluation_jobs::table.filter(reevaluation_jobs::id.eq(&job.id)))
                .set((
                    reevaluation_jobs::done.eq(job.done),
                    reevaluation_jobs::flagged.eq(job.flagged),
                    reevaluation_jobs::updated_at.eq(job.updated_at),
                ))
                .execute(conn)?;
            progress(&job);
        }
        Ok(())
    });
    let now = db::now();
    job.status = if result.is_ok() { "finished".into() } else { "failed".into() };
    job.finished_at = result.is_ok().then_some(now);
    job.updated_at = now;
    diesel::update(reevaluation_jobs::table.filter(reevaluation_jobs::id.eq(&job.id)))
        .set((
            reevaluation_jobs::status.eq(&job.status),
            reevaluation_jobs::finished_at.eq(job.finished_at),
            reevaluation_jobs::updated_at.eq(now),
            reevaluation_jobs::done.eq(job.done),
        ))
        .execute(conn)?;
    // Back to SQLite's default cache before the connection returns to the pool.
    db::tune_for_bulk(conn, 2)?;
    result?;
    log::info!("re-evaluation {} against {} finished: {} flagged", job.id, job.rule_set_version, job.flagged);
    Ok(job)
}

/// The revisions of a page to evaluate: those with a live approval and the
/// latest of each service, minus those already evaluated with this version.
fn targets(conn: &mut DbConnection, page: &Page, version: &str) -> Result<HashSet<String>, AppError> {
    let ids: Vec<&String> = page.iter().map(|r| &r.0).collect();
    let services: Vec<&String> = page.iter().map(|r| &r.1).collect();
    let approved: Vec<String> = decisions::table
        .filter(decisions::revision_id.eq_any(&ids))
        .filter(decisions::revoked_at.is_null())
        .filter(decisions::decision.ne("rejected"))
        .select(decisions::revision_id)
        .load(conn)?;
    let latest: Vec<(String, Option<i32>)> = revisions::table
        .filter(revisions::service_id.eq_any(&services))
        .group_by(revisions::service_id)
        .select((revisions::service_id, diesel::dsl::max(revisions::revision)))
        .load(conn)?;
    let latest: HashMap<String, i32> = latest.into_iter().filter_map(|(s, r)| Some((s, r?))).collect();
    let done: HashSet<String> = evaluations::table
        .filter(evaluations::revision_id.eq_any(&ids))
        .filter(evaluations::rule_set_version.eq(version))
        .select(evaluations::revision_id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let approved: HashSet<String> = approved.into_iter().collect();
    Ok(page
        .iter()
        .filter(|(id, service, number, _)| {
            !done.contains(id) && (approved.contains(id) || latest.get(service) == Some(number))
        })
        .map(|r| r.0.clone())
        .collect())
}

/// A re-evaluation ready to be written: the outcome, its row, and the row's
/// audit subject (digest), all made off the writing thread.
struct Prepared {
    evaluation: Evaluation,
    row: EvaluationRow,
    subject: Subject,
}

/// Evaluates a page's targets (revision id, document) on two threads and
/// prepares their rows. Invalid documents (which no stored revision should
/// be) get no evaluation.
fn prepare(policies: &PolicySet, work: Vec<(String, String)>) -> Result<Vec<Prepared>, AppError> {
    let now = db::now();
    let evaluate = |chunk: &[(String, String)]| -> Result<Vec<Prepared>, AppError> {
        let mut out = Vec::with_capacity(chunk.len());
        for (revision_id, document) in chunk {
            let Ok((_, evaluation)) = policies.evaluate_bytes(document.as_bytes()) else { continue };
            if evaluation.verdict == Verdict::Invalid {
                continue;
            }
            let row = EvaluationRow::new(new_id(), revision_id, &evaluation, now)?;
            let subject = row.subject();
            out.push(Prepared { evaluation, row, subject });
        }
        Ok(out)
    };
    let half = work.len().div_ceil(2);
    let (first, second) = std::thread::scope(|scope| {
        let other = scope.spawn(|| evaluate(&work[half..]));
        let first = evaluate(&work[..half]);
        let second = other.join().unwrap_or_else(|_| Err(AppError::internal("an evaluation thread panicked")));
        (first, second)
    });
    let mut all = first?;
    all.extend(second?);
    Ok(all)
}

/// Writes a prepared page in one transaction: evaluations, re-review flags,
/// one audit event per batch of revisions. Returns how many approvals were
/// flagged.
fn write_page(conn: &mut DbConnection, prepared: Vec<Prepared>) -> Result<usize, AppError> {
    if prepared.is_empty() {
        return Ok(0);
    }
    let ids: Vec<&String> = prepared.iter().map(|p| &p.row.revision_id).collect();
    db::write(conn, |conn| {
        // Live approvals of these revisions, by revision.
        let live: Vec<DecisionRow> = decisions::table
            .filter(decisions::revision_id.eq_any(&ids))
            .filter(decisions::revoked_at.is_null())
            .filter(decisions::decision.ne("rejected"))
            .select(DecisionRow::as_select())
            .load(conn)?;
        let mut live_by_revision: HashMap<&str, Vec<&DecisionRow>> = HashMap::new();
        for decision in &live {
            live_by_revision.entry(decision.revision_id.as_str()).or_default().push(decision);
        }
        // The evaluations those approvals were taken on, in compact form.
        let approved: Vec<&str> = live_by_revision.keys().copied().collect();
        let then: Vec<(String, String, String, String)> = if approved.is_empty() {
            Vec::new()
        } else {
            evaluations::table
                .filter(evaluations::revision_id.eq_any(&approved))
                .select((
                    evaluations::revision_id,
                    evaluations::rule_set_version,
                    evaluations::verdict,
                    evaluations::rule_outcomes,
                ))
                .load(conn)?
        };
        let then: HashMap<(&str, &str), (&str, &str)> = then
            .iter()
            .map(|(rev, version, verdict, outcomes)| {
                ((rev.as_str(), version.as_str()), (verdict.as_str(), outcomes.as_str()))
            })
            .collect();
        let now = db::now();
        let mut flags = Vec::new();
        let mut events = Vec::with_capacity(prepared.len() / EVENT_BATCH + 1);
        for batch in prepared.chunks(EVENT_BATCH) {
            let mut event = NewEvent::new(AuditAction::RevisionReevaluated, None, None);
            for Prepared { evaluation, row, subject } in batch {
                event.subjects.push(subject.clone());
                for decision in live_by_revision.get(row.revision_id.as_str()).into_iter().flatten() {
                    let old = then.get(&(row.revision_id.as_str(), decision.rule_set_version.as_str()));
                    if old.is_some_and(|(verdict, outcomes)| worse(verdict, outcomes, evaluation)) {
                        let flag = ReReviewRow {
                            id: new_id(),
                            decision_id: decision.id.clone(),
                            evaluation_id: row.id.clone(),
                            flagged_at: now,
                        };
                        event = event.subject(&flag);
                        flags.push(flag);
                    }
                }
            }
            events.push(event);
        }
        let rows: Vec<&EvaluationRow> = prepared.iter().map(|p| &p.row).collect();
        for chunk in rows.chunks(500) {
            crate::on_backend!(&mut *conn, |c| diesel::insert_into(evaluations::table)
                .values(chunk.to_vec())
                .execute(c))?;
        }
        for chunk in flags.chunks(500) {
            crate::on_backend!(&mut *conn, |c| diesel::insert_into(re_reviews::table).values(chunk).execute(c))?;
        }
        audit::store::append_many(conn, events)?;
        Ok(flags.len())
    })
}

/// Decisions flagged for re-review (and not superseded by a later decision
/// of the same organisation on the service).
pub fn flagged_decisions(conn: &mut DbConnection, decision_ids: &[String]) -> Result<HashSet<String>, AppError> {
    let mut out = HashSet::new();
    for chunk in decision_ids.chunks(500) {
        let ids: Vec<String> = re_reviews::table
            .filter(re_reviews::decision_id.eq_any(chunk))
            .select(re_reviews::decision_id)
            .load(conn)?;
        out.extend(ids);
    }
    Ok(out)
}

/// Starts (or resumes) the job for the rule set in force in the background
/// of a running server; the lookup index follows when it is done.
pub fn spawn(state: &crate::state::AppState) -> Result<JobStatus, AppError> {
    let policies = state.policies();
    let mut conn = state.db.get()?;
    let job = start_job(&mut conn, &policies)?;
    let status = JobStatus::from(&job);
    let state = state.clone();
    std::thread::spawn(move || {
        let result = state.db.get().and_then(|mut conn| {
            let done = run_job(&mut conn, &policies, job, |j| {
                log::info!("re-evaluation {}: {}/{} revisions, {} flagged", j.id, j.done, j.total, j.flagged)
            });
            state.refresh_lookup(&mut conn);
            done
        });
        if let Err(e) = result {
            log::error!("re-evaluation failed: {e}");
        }
    });
    Ok(status)
}
