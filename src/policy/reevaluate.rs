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

/// Whether a new evaluation is worse than an earlier one for an approval:
/// the verdict turned from pass, or any rule's outcome got worse. Both are
/// read in their stored compact form: the verdict (`pass` or `fail`) and the
/// rule outcomes (`R1=pass,R2=warn,…`).
pub fn worse(old_verdict: &str, old_outcomes: &str, new_verdict: &str, new_outcomes: &str) -> bool {
    let pass = Verdict::Pass.as_str();
    if old_verdict == pass && new_verdict != pass {
        return true;
    }
    let before = |rule: &str| -> u8 { ranks(old_outcomes).find(|(id, _)| *id == rule).map_or(0, |(_, rank)| rank) };
    ranks(new_outcomes).any(|(rule, now)| now > before(rule))
}

/// The rules of a compact outcome list with the rank of each outcome.
fn ranks(outcomes: &str) -> impl Iterator<Item = (&str, u8)> {
    compact_outcomes(outcomes).map(|(id, outcome)| (id, outcome.map_or(0, rank)))
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

/// How the rules in force relate to those of each earlier rule set, so that
/// what an earlier evaluation of a revision showed carries over (see
/// `lineage`): a re-evaluation then runs only the rules, or the checks of a
/// rule, that changed (and the rules whose earlier outcome has violations to
/// report), on only the fields they read.
struct Unchanged {
    by_version: HashMap<String, Lineage>,
    /// The messages of the checks in force, for violations repeated from an
    /// evaluation stored without them (a rule of the same text has the same
    /// checks and messages).
    in_force: RuleCatalog,
}

impl Unchanged {
    fn load(conn: &mut DbConnection, policies: &PolicySet) -> Result<Unchanged, AppError> {
        let rows: Vec<(String, String)> = rule_sets::table
            .filter(rule_sets::version.ne(policies.version()))
            .select((rule_sets::version, rule_sets::sources))
            .load(conn)?;
        let mut by_version = HashMap::new();
        for (version, sources) in rows {
            let Some(by_rule) = super::catalog::rules_in(&sources) else {
                log::warn!("rule set {version}: its stored files do not read; its outcomes are not reused");
                continue;
            };
            by_version.insert(version, Lineage::between(policies, &by_rule));
        }
        Ok(Unchanged { by_version, in_force: RuleCatalog::of(policies) })
    }

    /// What the earlier evaluations of a revision say of each rule in force:
    /// for each rule, the prior that leaves the least to run. A rule of the
    /// same text that failed or warned repeats the violations the earlier
    /// evaluation stored (its outcome is read only then).
    fn known(&self, policies: &PolicySet, earlier: &[Earlier]) -> Vec<Prior> {
        let mut priors = vec![Prior::Unknown; policies.rules().len()];
        for evaluation in earlier {
            let Some(lineage) = self.by_version.get(&evaluation.version) else {
                continue;
            };
            // Only the violations of the rules repeated are read.
            let mut stored: Option<Option<StoredRules<'_>>> = None;
            for (id, outcome) in compact_outcomes(&evaluation.outcomes) {
                let Some(i) = policies.rules().iter().position(|rule| &*rule.id == id) else { continue };
                let prior = lineage.prior(i, outcome, || {
                    let recorded = outcome?;
                    let text = evaluation.outcome.as_deref()?;
                    let rules = stored.get_or_insert_with(|| StoredRules::parse(text).ok()).as_ref()?;
                    let message = |check: &str| self.in_force.message(policies.version(), check);
                    Some((recorded, rules.rule(id, recorded, message)?))
                });
                let current = std::mem::replace(&mut priors[i], Prior::Unknown);
                priors[i] = current.or_better(prior);
            }
        }
        priors
    }
}

/// A page of revisions: id, the stored document (read as bytes: the JSON
/// parser checks the text as it reads it, so it is not checked twice more on
/// the way in), where its top-level fields lie in it (`json::field_offsets`;
/// none for revisions stored before they were kept), and whether it is the
/// latest revision of its service.
type Page = Vec<(String, Vec<u8>, Option<String>, bool)>;

/// An earlier evaluation of a revision, in compact form: rule-set version,
/// verdict and rule outcomes (`R1=pass,…`), and, when a rule failed or
/// warned, the stored outcome with its violations.
struct Earlier {
    version: String,
    verdict: String,
    outcomes: String,
    outcome: Option<String>,
}

/// A revision to evaluate, with what is known of it: its earlier evaluations
/// and its live approvals.
struct Target {
    revision_id: String,
    document: Vec<u8>,
    field_offsets: Option<String>,
    earlier: Vec<Earlier>,
    live: Vec<LiveApproval>,
}

/// A page's work for the evaluator.
struct Work {
    targets: Vec<Target>,
    /// The page's first and last revision id, and how many decisions (of any
    /// kind) its revisions had when read.
    range: (String, String),
    decisions_seen: usize,
}

/// A live approval of a revision: its id and the rule-set version it was
/// decided under.
struct LiveApproval {
    decision_id: String,
    rule_set_version: String,
}

/// A page evaluated and ready to be written: the new evaluations (each with
/// the versions it is worse than) and the audit events naming each (with its
/// row digest), all made off the writing thread.
struct Prepared {
    evaluations: Vec<EvaluationRow>,
    events: Vec<SealedEvent>,
    /// Live approvals whose outcome got worse (they now need re-review).
    flagged: usize,
    /// Field offsets made again for revisions that had none or had ones
    /// that did not fit (revision id, offsets), to be stored.
    offsets: Vec<(String, String)>,
    /// The live approvals counted, the page's range and how many decisions
    /// it had when read (see `write_page`).
    live_ids: Vec<String>,
    range: (String, String),
    decisions_seen: usize,
}

impl Prepared {
    fn empty() -> Self {
        Prepared {
            evaluations: Vec::new(),
            events: Vec::new(),
            flagged: 0,
            offsets: Vec::new(),
            live_ids: Vec::new(),
            range: (String::new(), String::new()),
            decisions_seen: 0,
        }
    }

    /// Adds another part of the same page (its rows and events, in order).
    fn append(&mut self, other: Prepared) {
        self.evaluations.extend(other.evaluations);
        self.events.extend(other.events);
        self.flagged += other.flagged;
        self.offsets.extend(other.offsets);
    }
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

/// The next page of revisions after `after`, by id, each with whether it is
/// the latest revision of its service (an index probe per row, in the
/// database).
fn read_page(conn: &mut DbConnection, after: &str, page_size: i64) -> Result<Page, AppError> {
    Ok(revisions::table
        .filter(revisions::id.gt(after))
        .order(revisions::id.asc())
        .limit(page_size)
        .select((
            revisions::id,
            diesel::dsl::sql::<diesel::sql_types::Binary>("document"),
            revisions::field_offsets,
            diesel::dsl::sql::<diesel::sql_types::Bool>(
                "NOT EXISTS (SELECT 1 FROM revisions later WHERE later.service_id = revisions.service_id \
                 AND later.revision > revisions.revision)",
            ),
        ))
        .load(conn)?)
}

/// The work of a page: its targets (those with a live approval and the
/// latest of each service, minus those already evaluated with this
/// version), each with its live approvals and earlier evaluations.
/// A page is read while the pages ahead of it are evaluated and written; an
/// approval decided after that is caught when the page is written
/// (`late_flagged`).
fn read_work(conn: &mut DbConnection, page: Page, version: &str) -> Result<Work, AppError> {
    // The page is a run of consecutive revision ids, so its decisions and
    // evaluations are ranges of the indexes by revision id: read as ranges
    // in revision order, and joined to the page's rows as they come.
    let (Some(first), Some(last)) = (page.first().map(|r| r.0.clone()), page.last().map(|r| r.0.clone())) else {
        return Ok(Work { targets: Vec::new(), range: (String::new(), String::new()), decisions_seen: 0 });
    };
    let in_range =
        || decisions::table.filter(decisions::revision_id.ge(&first)).filter(decisions::revision_id.le(&last));
    let decisions_seen: i64 = in_range().count().get_result(conn)?;
    let live: Vec<(String, (String, String))> = in_range()
        .filter(decisions::revoked_at.is_null())
        .filter(decisions::decision.ne("rejected"))
        .order(decisions::revision_id.asc())
        .select((decisions::revision_id, (decisions::id, decisions::rule_set_version)))
        .load(conn)?;
    // Every evaluation on the page, in compact form: those with this version
    // mark revisions already done (by an interrupted run); the earlier ones
    // are those the live approvals were taken on, and those whose unchanged
    // rules need not run again.
    type Row = (String, (String, String, String, Option<String>));
    let evaluated: Vec<Row> = evaluations::table
        .filter(evaluations::revision_id.ge(&first))
        .filter(evaluations::revision_id.le(&last))
        .order((evaluations::revision_id.asc(), evaluations::rule_set_version.asc()))
        .select((
            evaluations::revision_id,
            (
                evaluations::rule_set_version,
                evaluations::verdict,
                evaluations::rule_outcomes,
                // Violations are read only where there are some.
                diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>(
                    "CASE WHEN rule_outcomes LIKE '%=fail%' OR rule_outcomes LIKE '%=warn%' THEN outcome END",
                ),
            ),
        ))
        .load(conn)?;
    let evaluated = evaluated.into_iter().map(|(revision, (version, verdict, outcomes, outcome))| {
        (revision, Earlier { version, verdict, outcomes, outcome })
    });
    let mut live = live.into_iter().peekable();
    let mut evaluated = evaluated.peekable();
    let mut targets = Vec::new();
    for (revision_id, document, field_offsets, latest) in page {
        let mut earlier = rows_of(&mut evaluated, &revision_id);
        let done = earlier.iter().any(|e| e.version == version);
        earlier.retain(|e| e.version != version);
        let live: Vec<LiveApproval> = rows_of(&mut live, &revision_id)
            .into_iter()
            .map(|(decision_id, rule_set_version)| LiveApproval { decision_id, rule_set_version })
            .collect();
        if !done && (latest || !live.is_empty()) {
            targets.push(Target { revision_id, document, field_offsets, earlier, live });
        }
    }
    Ok(Work { targets, range: (first, last), decisions_seen: usize::try_from(decisions_seen).unwrap_or(usize::MAX) })
}

/// The rows of one revision, taken from rows in revision order. Rows of
/// revisions before it belong to none of the page's (a row added since the
/// page was read) and are passed over.
fn rows_of<T>(rows: &mut std::iter::Peekable<impl Iterator<Item = (String, T)>>, revision: &str) -> Vec<T> {
    let mut out = Vec::new();
    while let Some((id, _)) = rows.peek() {
        if id.as_str() > revision {
            break;
        }
        if let Some((id, row)) = rows.next()
            && id == revision
        {
            out.push(row);
        }
    }
    out
}

/// A target's document, cut down to `fields` when the rules to run read
/// only those: straight to them through the revision's field offsets, or,
/// when it has none (stored before they were kept) or they do not fit the
/// document, through offsets made again from the document, which are also
/// returned to be stored (so the next re-evaluation goes straight to the
/// fields). The document is scanned when it gives no offsets.
fn read_document(
    target: &Target,
    fields: Option<&[&str]>,
) -> (Result<serde_json::Value, serde_json::Error>, Option<String>) {
    let document = &target.document;
    let Some(fields) = fields else {
        let remade = if target.field_offsets.is_none() { crate::json::field_offsets(document) } else { None };
        return (crate::json::parse_strict(document), remade);
    };
    let stored = target.field_offsets.as_deref();
    if let Some(doc) = stored.and_then(|offsets| crate::json::parse_fields_at(document, offsets, fields)) {
        return (Ok(doc), None);
    }
    let remade = crate::json::field_offsets(document).filter(|remade| Some(remade.as_str()) != stored);
    let parsed = remade
        .as_deref()
        .and_then(|offsets| crate::json::parse_fields_at(document, offsets, fields))
        .map_or_else(|| crate::json::parse_fields(document, fields), Ok);
    (parsed, remade)
}

/// Evaluates a page's targets on two threads, decides which earlier
/// evaluations each new one is worse than (and so which live approvals
/// need re-review), and prepares the rows and audit events. A stored
/// revision passed the submission schema when it was stored, so only the
/// rules run; a document that no longer parses (which no stored revision
/// should) gets no evaluation.
fn prepare(policies: &PolicySet, unchanged: &Unchanged, work: Work) -> Result<Prepared, AppError> {
    let now = db::now();
    // One batch of revisions: its evaluations and audit event.
    let batch = |chunk: &[Target]| -> Result<Prepared, AppError> {
        let mut out = Prepared::empty();
        out.evaluations.reserve(chunk.len());
        let mut event = NewEvent::new(AuditAction::RevisionReevaluated, None, None);
        for target in chunk {
            let known = unchanged.known(policies, &target.earlier);
            let (parsed, remade) = read_document(target, policies.fields_read(&known).as_deref());
            if let Some(offsets) = remade {
                out.offsets.push((target.revision_id.clone(), offsets));
            }
            let Ok(doc) = parsed else {
                log::error!("revision {}: the stored document does not parse; not re-evaluated", target.revision_id);
                continue;
            };
            let evaluation = policies.evaluate_stored_knowing(&doc, &known);
            let mut row = EvaluationRow::new(new_id(), &target.revision_id, &evaluation, now, OutcomeForm::Lean)?;
            let worse = worse_than(&target.earlier, &row.verdict, &row.rule_outcomes);
            if !worse.is_empty() {
                out.flagged += target.live.iter().filter(|approval| worse.lists(&approval.rule_set_version)).count();
            }
            row.worse_than = worse.stored();
            event = event.subject(&row);
            out.evaluations.push(row);
        }
        if !event.subjects.is_empty() {
            out.events.push(event.seal()?);
        }
        Ok(out)
    };
    // Each thread takes whole audit batches, so events are the same
    // whichever thread made them.
    let batches: Vec<&[Target]> = work.targets.chunks(EVENT_BATCH).collect();
    let half = batches.len().div_ceil(2);
    let run = |part: &[&[Target]]| -> Result<Prepared, AppError> {
        let mut all = Prepared::empty();
        for chunk in part {
            all.append(batch(chunk)?);
        }
        Ok(all)
    };
    let (first, second) = std::thread::scope(|scope| {
        let other = scope.spawn(|| run(&batches[half..]));
        let first = run(&batches[..half]);
        let second = other.join().unwrap_or_else(|_| Err(AppError::internal("an evaluation thread panicked")));
        (first, second)
    });
    let mut all = first?;
    all.append(second?);
    all.live_ids = work.targets.into_iter().flat_map(|t| t.live).map(|a| a.decision_id).collect();
    all.range = work.range;
    all.decisions_seen = work.decisions_seen;
    Ok(all)
}

/// The rule-set versions of the earlier evaluations (version, verdict, rule
/// outcomes) that a new one is worse than.
fn worse_than(earlier: &[Earlier], verdict: &str, outcomes: &str) -> VersionList {
    VersionList(
        earlier
            .iter()
            .filter(|then| worse(&then.verdict, &then.outcomes, verdict, outcomes))
            .map(|then| then.version.clone())
            .collect(),
    )
}

/// Whether an evaluation's stored `worse_than` lists a rule-set version.
pub fn lists_version(worse_than: &str, version: &str) -> bool {
    worse_than.len() > 2 && VersionList::parse(worse_than).lists(version)
}

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
fn write_page(conn: &mut DbConnection, prepared: Prepared, job: &JobRow, size: usize) -> Result<JobRow, AppError> {
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
fn insert_evaluation(
    conn: &mut diesel::SqliteConnection,
    row: &EvaluationRow,
    evaluated_at: &str,
) -> QueryResult<usize> {
    InsertEvaluation { row, evaluated_at }.execute(conn)
}

struct InsertEvaluation<'a> {
    row: &'a EvaluationRow,
    evaluated_at: &'a str,
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
            &row.verdict,
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
struct SqliteTime(Option<(NaiveDateTime, String)>);

impl SqliteTime {
    fn text(&mut self, at: NaiveDateTime) -> &str {
        if self.0.as_ref().map(|(time, _)| *time) != Some(at) {
            self.0 = Some((at, at.format("%F %T%.f").to_string()));
        }
        self.0.as_ref().map_or("", |(_, text)| text.as_str())
    }
}

/// How many approvals of the page's revisions, decided after the page was
/// read, the page's new evaluations are worse than.
fn late_flagged(conn: &mut DbConnection, prepared: &Prepared) -> Result<usize, AppError> {
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

/// Whether any re-review flag was recorded as a row of its own (in
/// `re_reviews`, before migration 000010), so that readers skip the table
/// when it is empty.
pub fn has_legacy_flags(conn: &mut DbConnection) -> Result<bool, AppError> {
    let any: Option<String> = re_reviews::table.select(re_reviews::id).first(conn).optional()?;
    Ok(any.is_some())
}

/// The re-review flags that concern some decisions: the `worse_than` lists
/// of the evaluations of their revisions, and the flags recorded one by one
/// (in `re_reviews`) before migration 000010.
pub struct ReReviewFlags {
    worse_than: HashMap<String, Vec<String>>,
    legacy: HashSet<String>,
}

impl ReReviewFlags {
    /// For decisions given as (decision id, revision id).
    pub fn load<'a>(
        conn: &mut DbConnection,
        decisions: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<ReReviewFlags, AppError> {
        let (ids, mut revision_ids): (Vec<&str>, Vec<&str>) = decisions.into_iter().unzip();
        revision_ids.sort_unstable();
        revision_ids.dedup();
        let mut worse_than: HashMap<String, Vec<String>> = HashMap::new();
        for chunk in revision_ids.chunks(500) {
            let rows: Vec<(String, String)> = evaluations::table
                .filter(evaluations::revision_id.eq_any(chunk))
                .filter(evaluations::worse_than.ne(VersionList::NONE))
                .select((evaluations::revision_id, evaluations::worse_than))
                .load(conn)?;
            for (revision_id, versions) in rows {
                worse_than.entry(revision_id).or_default().push(versions);
            }
        }
        let mut legacy = HashSet::new();
        if has_legacy_flags(conn)? {
            for chunk in ids.chunks(500) {
                let flagged: Vec<String> = re_reviews::table
                    .filter(re_reviews::decision_id.eq_any(chunk))
                    .select(re_reviews::decision_id)
                    .load(conn)?;
                legacy.extend(flagged);
            }
        }
        Ok(ReReviewFlags { worse_than, legacy })
    }

    /// Whether a decision (by its id, its revision and the rule-set version
    /// it was decided under) is flagged. Whether it is still live is for the
    /// caller to check.
    pub fn flagged(&self, decision_id: &str, revision_id: &str, version: &str) -> bool {
        self.legacy.contains(decision_id)
            || self.worse_than.get(revision_id).is_some_and(|lists| lists.iter().any(|w| lists_version(w, version)))
    }
}

#[cfg(test)]
mod tests {
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
            verdict: "fail".into(),
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
}
