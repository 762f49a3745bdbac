//! The lookup index holder (kept current by the write path and a poll of the
//! audit chain's head), and the lookup answer.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use actix_web::web::Bytes;
use chrono::NaiveDate;

use super::cache::{Answer, AnswerCache, Question};
use super::dto::{LookupMatch, LookupResponse, OrgStatus, ServiceSummary};
use super::index::{Entry, Fuzzy, Snapshot, Status};
use super::{persist, store};
use crate::approvals::dto::ConditionView;
use crate::db::date_text as date;
use crate::db::{self, DbConnection};
use crate::demand::{Asked, Unanswered};
use crate::error::AppError;
use crate::i18n::{Arg, Message, catalogue};
use crate::lang::Lang;

/// Bytes of answers kept by default (`--lookup-cache-mb`).
pub const DEFAULT_ANSWER_CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// Overlay size at which the next refresh rebuilds the whole index instead.
const REBUILD_AFTER: usize = 20_000;

pub struct SearchIndex {
    /// The snapshot in force, with its generation (raised at every change).
    current: RwLock<(u64, Arc<Snapshot>)>,
    /// Answers given from the snapshot in force.
    answers: AnswerCache,
    refresh_lock: Mutex<()>,
    pub fuzzy: Fuzzy,
    /// Where the base segment is saved (None: rebuilt from the database at every start).
    file: Option<PathBuf>,
    /// Whether the index was loaded from its file at start (not rebuilt).
    loaded: bool,
}

/// Audit events a normal refresh reads before it rebuilds instead.
const REFRESH_EVENTS: i64 = 5_000;
/// At start, a saved index may be this many events behind and still be caught up.
const CATCH_UP_EVENTS: i64 = 500_000;

impl SearchIndex {
    /// Loads the saved index when it matches this database (and catches up
    /// with what happened since), or builds it from the whole registry.
    pub fn build(conn: &mut DbConnection, file: Option<&Path>) -> Result<SearchIndex, AppError> {
        let saved = match file {
            Some(path) => saved(conn, path)?,
            None => None,
        };
        let loaded = saved.is_some();
        let snapshot = match saved {
            Some(snapshot) => snapshot,
            None => full(conn)?,
        };
        let index = SearchIndex {
            current: RwLock::new((0, Arc::new(snapshot))),
            answers: AnswerCache::new(DEFAULT_ANSWER_CACHE_BYTES),
            refresh_lock: Mutex::new(()),
            fuzzy: Fuzzy::default(),
            file: file.map(Path::to_path_buf),
            loaded,
        };
        if loaded {
            index.refresh_within(conn, CATCH_UP_EVENTS)?;
        } else {
            index.save();
        }
        Ok(index)
    }

    /// Whether the index was loaded from its saved file at start.
    pub fn loaded(&self) -> bool {
        self.loaded
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current().1
    }

    /// The snapshot in force and its generation.
    fn current(&self) -> (u64, Arc<Snapshot>) {
        match self.current.read() {
            Ok(guard) => (guard.0, guard.1.clone()),
            Err(poisoned) => {
                let guard = poisoned.into_inner();
                (guard.0, guard.1.clone())
            }
        }
    }

    /// Puts a snapshot in force. When its answers may differ from the
    /// previous one's (`changed`), the generation is raised: answers of the
    /// older generation can no longer be returned (their keys name it), and
    /// are dropped to free their memory.
    fn replace(&self, snapshot: Snapshot, changed: bool) {
        let new = Arc::new(snapshot);
        {
            let mut guard = match self.current.write() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            *guard = (guard.0 + u64::from(changed), new);
        }
        if changed {
            self.answers.clear();
        }
    }

    /// Keeps at most `budget` bytes of answers (0: none). Set before the
    /// index is shared.
    pub fn keep_answers(&mut self, budget: u64) {
        self.answers = AnswerCache::new(budget);
    }

    /// The answer cache's budget, and the answers and bytes it holds.
    pub fn answer_cache_usage(&self) -> (u64, usize, u64) {
        let (count, bytes) = self.answers.usage();
        (self.answers.budget(), count, bytes)
    }

    /// Saves the current base segment (a failure is logged: the index still
    /// works, and the next start rebuilds it).
    fn save(&self) {
        let Some(path) = &self.file else { return };
        let snapshot = self.snapshot();
        let started = std::time::Instant::now();
        match persist::save(&snapshot, path) {
            Ok(()) => {
                log::info!("lookup index saved to {} in {:.2} s", path.display(), started.elapsed().as_secs_f64())
            }
            Err(e) => log::warn!("cannot save the lookup index to {}: {e}", path.display()),
        }
    }

    /// Applies every change since the snapshot was taken. Cheap when nothing
    /// changed (one read of the chain head).
    pub fn refresh(&self, conn: &mut DbConnection) -> Result<(), AppError> {
        self.refresh_within(conn, REFRESH_EVENTS)
    }

    fn refresh_within(&self, conn: &mut DbConnection, max_events: i64) -> Result<(), AppError> {
        let _guard = match self.refresh_lock.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let snapshot = self.snapshot();
        let next = db::read(conn, |conn| {
            let (head, changed) = store::changes_since(conn, snapshot.seq, max_events)?;
            if head == snapshot.seq {
                return Ok(None);
            }
            Ok(Some(match changed {
                None => (full(conn)?, true, true),
                // Events that touch no service (sign-ins, rule sets): the
                // same answers, at a later position in the chain.
                Some(ids) if ids.is_empty() => {
                    let mut same = (*snapshot).clone();
                    same.seq = head;
                    (same, false, false)
                }
                Some(ids) => {
                    let changes = store::services(conn, &ids)?;
                    let next = snapshot.with_changes(head, changes);
                    if next.overlay_len() > REBUILD_AFTER { (full(conn)?, true, true) } else { (next, false, true) }
                }
            }))
        })?;
        if let Some((next, rebuilt, changed)) = next {
            self.replace(next, changed);
            if rebuilt {
                self.save();
            }
        }
        Ok(())
    }
}

/// This node's own writes reach its lookup at once.
impl db::AfterCommit for SearchIndex {
    fn after_commit(&self, conn: &mut DbConnection) {
        if let Err(e) = self.refresh(conn) {
            log::warn!("refreshing the lookup index: {e}");
        }
    }
}

/// The saved index, when there is one and it belongs to this database: the
/// event it was built at is in the audit chain with the same hash, and the
/// organisations are the same.
fn saved(conn: &mut DbConnection, path: &Path) -> Result<Option<Snapshot>, AppError> {
    let started = std::time::Instant::now();
    let saved = match persist::load(path) {
        Ok(Some(saved)) => saved,
        Ok(None) => return Ok(None),
        Err(e) => {
            log::warn!("ignoring the saved lookup index {}: {e}; rebuilding it", path.display());
            return Ok(None);
        }
    };
    db::read(conn, |conn| {
        let orgs = store::orgs(conn)?;
        let same_orgs = orgs.iter().map(|o| o.slug.as_str()).eq(saved.org_slugs.iter().map(String::as_str));
        let event = crate::audit::store::page(conn, saved.seq - 1, 1)?;
        let same_chain = event.first().is_some_and(|e| e.seq == saved.seq && e.entry_hash == saved.hash);
        if !same_orgs || !same_chain {
            log::info!(
                "the saved lookup index {} is from another state of the registry; rebuilding it",
                path.display()
            );
            return Ok(None);
        }
        log::info!(
            "lookup index loaded from {} (audit event {}) in {:.2} s",
            path.display(),
            saved.seq,
            started.elapsed().as_secs_f64()
        );
        Ok(Some(Snapshot::from_base(saved.seq, &saved.hash, orgs, saved.base)))
    })
}

fn full(conn: &mut DbConnection) -> Result<Snapshot, AppError> {
    db::read(conn, |conn| {
        let (seq, hash) = crate::audit::store::head(conn)?;
        let orgs = store::orgs(conn)?;
        let services = store::all_services(conn)?;
        Ok(Snapshot::build(seq, &hash, orgs, services))
    })
}

fn join(items: &[String], lang: Lang) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} {} {last}", rest.join(", "), catalogue().text(lang, "list-and")),
    }
}

/// A status in a few plain words, as the lookup's answers use them.
fn status_words(status: Status) -> Message {
    Message::new(match status {
        Status::Allowed => "answer-status-allowed",
        Status::AllowedWithConditions => "answer-status-allowed_with_conditions",
        Status::NotAllowed => "answer-status-not_allowed",
        Status::Expired => "answer-status-expired",
        Status::UnderReview => "answer-status-under_review",
        Status::NotAssessed => "answer-status-not_assessed",
    })
}

/// The status of an entry in one organisation, with the answer in words.
pub fn org_status(snapshot: &Snapshot, entry: Entry<'_>, org: u16, today: NaiveDate) -> OrgStatus {
    let info = &snapshot.orgs[org as usize];
    let decision = entry.decision_for(org);
    let status = decision.map_or(Status::NotAssessed, |d| d.status(today));
    let conditions: Vec<ConditionView> = match (status, decision) {
        (Status::AllowedWithConditions, Some(d)) => entry
            .conditions(&d)
            .iter()
            .map(|c| {
                let (text_sv, text_en) = c.describe();
                ConditionView { condition: c.clone(), text_sv, text_en }
            })
            .collect(),
        _ => Vec::new(),
    };
    let needs_re_review = decision.is_some_and(|d| d.needs_re_review)
        && matches!(status, Status::Allowed | Status::AllowedWithConditions);
    let name = entry.name();
    let about = |id: &'static str| Message::new(id).with("name", name).with("org", info.name.as_str());
    let answer = match status {
        Status::Allowed => about("answer-allowed"),
        Status::AllowedWithConditions => {
            let sv: Vec<String> = conditions.iter().map(|c| c.text_sv.clone()).collect();
            let en: Vec<String> = conditions.iter().map(|c| c.text_en.clone()).collect();
            let conditions = Arg::Words { sv: join(&sv, Lang::Sv), en: join(&en, Lang::En) };
            Message::new("answer-allowed_with_conditions").with("conditions", conditions)
        }
        Status::NotAllowed if decision.is_some_and(|d| d.revoked) => about("answer-revoked"),
        Status::NotAllowed => about("answer-not_allowed"),
        Status::Expired => {
            let until = decision.and_then(|d| d.valid_until).map(|d| date(&d)).unwrap_or_default();
            about("answer-expired").with("until", until)
        }
        Status::UnderReview => {
            let before = decision.map(|d| d.decided_status(today)).unwrap_or(Status::NotAssessed);
            let on = decision.map(|d| date(&d.decided_on)).unwrap_or_default();
            about("answer-under_review").with("on", on).with("before", status_words(before))
        }
        Status::NotAssessed => about("answer-not_assessed"),
    };
    let (mut answer_en, mut answer_sv) = answer.both();
    if needs_re_review {
        answer_sv = format!("{} {answer_sv}", catalogue().text(Lang::Sv, "answer-re_review"));
        answer_en = format!("{} {answer_en}", catalogue().text(Lang::En, "answer-re_review"));
    }
    let deciding = decision.and_then(|d| snapshot.orgs.get(d.deciding_org as usize));
    OrgStatus {
        org: info.slug.clone(),
        org_name: info.name.clone(),
        status,
        decided_status: (status == Status::UnderReview).then(|| decision.map(|d| d.decided_status(today))).flatten(),
        conditions,
        decided_by_function: deciding.map(|o| o.function_name.clone()),
        via_delegation: decision.is_some_and(|d| d.via_delegation),
        decided_on: decision.map(|d| date(&d.decided_on)),
        valid_until: decision.and_then(|d| d.valid_until).map(|d| date(&d)),
        needs_re_review,
        answer_sv,
        answer_en,
    }
}

pub const MAX_QUERY_CHARS: usize = 200;
pub const MAX_LIMIT: usize = 50;

/// Answers a lookup. `org` must be a known slug (404 otherwise).
pub fn lookup(
    index: &SearchIndex,
    query: &str,
    org: Option<&str>,
    include_internal: bool,
    limit: usize,
) -> Result<LookupResponse, AppError> {
    lookup_on(index, query, org, include_internal, limit, crate::swedish::today())
}

/// A lookup as it would be answered on `today` (approvals past their
/// `valid_until` answer `expired`).
pub fn lookup_on(
    index: &SearchIndex,
    query: &str,
    org: Option<&str>,
    include_internal: bool,
    limit: usize,
    today: NaiveDate,
) -> Result<LookupResponse, AppError> {
    let snapshot = index.snapshot();
    let question = question(query, org, include_internal, limit, today)?;
    answer(&snapshot, &index.fuzzy, &question)
}

/// The lookup's answer as its JSON body, and whether it was no yes for the
/// organisation asked about (for the demand): the one given before when the
/// same question was asked of the same index generation on the same day, or
/// a new one (then kept).
pub fn lookup_json(
    index: &SearchIndex,
    query: &str,
    org: Option<&str>,
    include_internal: bool,
    limit: usize,
) -> Result<Answer, AppError> {
    let question = question(query, org, include_internal, limit, crate::swedish::today())?;
    let (generation, snapshot) = index.current();
    let key = AnswerCache::key(generation, &question);
    if let Some(kept) = index.answers.get(&key) {
        return Ok(kept);
    }
    let response = answer(&snapshot, &index.fuzzy, &question)?;
    // One match with its status is about 700 bytes.
    let mut body = Vec::with_capacity(256 + 768 * response.matches.len());
    serde_json::to_writer(&mut body, &response)?;
    let answer = Answer { body: Bytes::from(body), unanswered: unanswered(&response) };
    index.answers.insert(key, answer.clone());
    Ok(answer)
}

/// An answer about one organisation that is no yes: nothing found, or the
/// best match not assessed there. None for any other answer.
pub fn unanswered(response: &LookupResponse) -> Option<Unanswered> {
    response.org.as_ref()?;
    match response.matches.first() {
        None => Some(Unanswered { asked: Asked::NotFound, service: None }),
        Some(best) if best.status.as_ref().is_some_and(|s| s.status == Status::NotAssessed) => {
            let service = (best.service.id.as_str().into(), best.service.name.as_str().into());
            Some(Unanswered { asked: Asked::NotAssessed, service: Some(service) })
        }
        Some(_) => None,
    }
}

/// The question checked: a query that is not empty, not too long and holds
/// no control characters, and a limit within bounds.
fn question<'a>(
    query: &'a str,
    org: Option<&'a str>,
    include_internal: bool,
    limit: usize,
    today: NaiveDate,
) -> Result<Question<'a>, AppError> {
    let query = query.trim();
    if query.is_empty() {
        return Err(AppError::field("query_required", "/q", Message::new("error-query_required")));
    }
    if query.chars().count() > MAX_QUERY_CHARS || query.chars().any(crate::json::is_forbidden_char) {
        return Err(AppError::field(
            "invalid_query",
            "/q",
            Message::new("error-invalid_query").with("max", MAX_QUERY_CHARS),
        ));
    }
    Ok(Question { query, org, include_internal, limit: limit.clamp(1, MAX_LIMIT), today })
}

/// Answers a checked question from one snapshot.
fn answer(snapshot: &Snapshot, fuzzy: &Fuzzy, question: &Question<'_>) -> Result<LookupResponse, AppError> {
    let Question { query, org, include_internal, limit, today } = *question;
    let org_index = match org {
        None => None,
        Some(slug) => Some(snapshot.org_index(slug).ok_or_else(|| crate::organisations::service::unknown_org(slug))?),
    };
    let hits = snapshot.search(query, org_index, include_internal, limit, today, fuzzy);
    let matches = hits
        .iter()
        .map(|hit| {
            let (status, statuses) = match org_index {
                Some(org) => (Some(org_status(snapshot, hit.entry, org, today)), None),
                None => (
                    None,
                    // An earlier revision answers only where it was decided on.
                    Some(
                        (0..snapshot.orgs.len() as u16)
                            .filter(|o| !hit.entry.is_earlier_revision() || hit.entry.decision_for(*o).is_some())
                            .map(|o| org_status(snapshot, hit.entry, o, today))
                            .collect(),
                    ),
                ),
            };
            LookupMatch {
                service: ServiceSummary {
                    id: hit.entry.service_id().to_string(),
                    name: hit.entry.name().to_string(),
                    vendor: hit.entry.vendor().to_string(),
                    aliases: hit.entry.aliases().map(str::to_string).collect(),
                },
                matched_on: hit.field,
                match_kind: hit.kind,
                status,
                statuses,
            }
        })
        .collect();
    Ok(LookupResponse { query: query.to_string(), org: org.map(str::to_string), matches })
}
