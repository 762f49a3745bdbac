//! `tillit audit verify`: recomputes the whole chain and checks every business
//! row against its latest event, plus the invariants that must hold over the
//! record (separation of duties, decisions under delegation).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::model::{AuditEvent, Audited, GENESIS_HASH};
use super::store;
use crate::approvals::store::{DecisionRow, DelegationRow};
use crate::auth::sessions::PasswordRow;
use crate::auth::store::{ApiTokenRow, RoleGrantRow, UserRow};
use crate::db::DbConnection;
use crate::db::schema::{
    api_tokens, decisions, delegations, evaluations, organisations, password_credentials, re_reviews,
    revision_contributors, revisions, role_grants, rule_sets, services, users,
};
use crate::error::AppError;
use crate::organisations::model::OrganisationRow;
use crate::policy::reevaluate::{ReReviewRow, RuleSetRow};
use crate::submissions::store::{ContributorRow, EvaluationRow, RevisionRow, ServiceRow};

const PAGE: i64 = 5_000;
/// Events read at a time: a re-evaluation batch event names a few hundred rows.
const EVENT_PAGE: i64 = 1_000;
const MAX_PROBLEMS: usize = 100;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    /// The event concerned, where there is one.
    pub seq: Option<i64>,
    pub kind: &'static str,
    pub detail: String,
}

/// A head of the chain an auditor saved earlier, outside the database.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub entry_hash: String,
}

impl Checkpoint {
    /// `SEQ:HASH`, or the JSON that `GET /api/v1/audit/head` returns.
    pub fn parse(text: &str) -> Result<Checkpoint, String> {
        let text = text.trim();
        if let Ok(c) = serde_json::from_str::<Checkpoint>(text) {
            return Ok(c);
        }
        let (seq, hash) = text.split_once(':').ok_or("a checkpoint is SEQ:HASH or JSON {\"seq\", \"entry_hash\"}")?;
        let seq = seq.trim().parse().map_err(|_| "the checkpoint's sequence number is not a number")?;
        Ok(Checkpoint { seq, entry_hash: hash.trim().to_string() })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub intact: bool,
    pub events: i64,
    pub head_seq: i64,
    pub head_hash: String,
    pub rows_checked: u64,
    /// The first event found altered, missing, out of order or forged.
    pub first_tampered_event: Option<i64>,
    pub problems: Vec<Problem>,
    pub checkpoints_checked: usize,
    pub seconds: f64,
}

impl Report {
    fn problem(&mut self, seq: Option<i64>, kind: &'static str, detail: String) {
        self.intact = false;
        if let Some(seq) = seq {
            self.first_tampered_event = Some(self.first_tampered_event.map_or(seq, |s| s.min(seq)));
        }
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem { seq, kind, detail });
        }
    }
}

/// A row's primary key as held while verifying: a UUID in 16 bytes, any
/// other key (an organisation's slug, a rule-set version) as text. With
/// millions of rows this map is what the verification's memory is made of.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum RowId {
    Uuid([u8; 16]),
    Text(Box<str>),
}

impl RowId {
    fn new(id: &str) -> RowId {
        // Only the canonical spelling: another one must stay a different key.
        match crate::ids::canonical_uuid(id) {
            Some(number) => RowId::Uuid(number.to_be_bytes()),
            None => RowId::Text(id.into()),
        }
    }
}

impl std::fmt::Display for RowId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowId::Uuid(bytes) => uuid::Uuid::from_u128(u128::from_be_bytes(*bytes)).hyphenated().fmt(f),
            RowId::Text(text) => f.write_str(text),
        }
    }
}

/// A SHA-256 digest from its 64 hex characters; None when it is not one
/// (a digest that can never match a row's).
fn digest_bytes(hex_text: &str) -> Option<[u8; 32]> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex_text, &mut bytes).ok().map(|()| bytes)
}

/// What the chain last recorded about a row, and whether the row was found.
struct Recorded {
    digest: Option<[u8; 32]>,
    seq: i64,
    seen: bool,
}

/// The latest record of every row the chain names, table by table.
#[derive(Default)]
struct Latest {
    tables: Vec<(String, HashMap<RowId, Recorded>)>,
}

impl Latest {
    fn table_mut(&mut self, table: &str) -> &mut HashMap<RowId, Recorded> {
        let at = match self.tables.iter().position(|(name, _)| name == table) {
            Some(at) => at,
            None => {
                self.tables.push((table.to_string(), HashMap::new()));
                self.tables.len() - 1
            }
        };
        &mut self.tables[at].1
    }

    fn record(&mut self, table: &str, id: &str, digest: &str, seq: i64) {
        self.table_mut(table).insert(RowId::new(id), Recorded { digest: digest_bytes(digest), seq, seen: false });
    }
}

/// Verifies the database behind `conn`. Read-only.
pub fn verify(conn: &mut DbConnection, checkpoints: &[Checkpoint]) -> Result<Report, AppError> {
    let started = std::time::Instant::now();
    let mut report = Report {
        intact: true,
        events: 0,
        head_seq: 0,
        head_hash: GENESIS_HASH.to_string(),
        rows_checked: 0,
        first_tampered_event: None,
        problems: Vec::new(),
        checkpoints_checked: 0,
        seconds: 0.0,
    };
    crate::db::read(conn, |conn| {
        let mut latest = verify_chain(conn, checkpoints, &mut report)?;
        verify_rows(conn, &mut latest, &mut report)?;
        // The largest thing verification holds; the invariants do not need it.
        drop(latest);
        match verify_invariants(conn, &mut report) {
            // Rows already found unreadable can stop the invariants' read:
            // the tampering is reported, and said to have stopped them.
            Err(e) if !report.intact => {
                report.problem(None, "invariants_not_checked", format!("unreadable rows stopped the checks: {e}"));
                Ok(())
            }
            other => other,
        }
    })?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Walks the chain; returns the latest digest (and event) of every row.
fn verify_chain(conn: &mut DbConnection, checkpoints: &[Checkpoint], report: &mut Report) -> Result<Latest, AppError> {
    let mut latest = Latest::default();
    let mut expected_seq = 1i64;
    let mut prev_hash = GENESIS_HASH.to_string();
    let mut seen_hashes: HashMap<i64, String> = HashMap::new();
    let wanted: HashSet<i64> = checkpoints.iter().map(|c| c.seq).collect();
    let mut after = 0i64;
    loop {
        let page = store::page_for_verify(conn, after, EVENT_PAGE)?;
        let Some(last) = page.last() else { break };
        after = match last {
            Ok(row) => row.seq,
            Err(unreadable) => unreadable.seq,
        };
        // Rows whose sequence number is not a number sort after every
        // number (SQLite): nothing readable follows them.
        let seq_unreadable = page.iter().any(|r| matches!(r, Err(u) if u.column == "seq"));
        for row in &page {
            // A row that cannot be read is tampering: named with its column.
            let row = match row {
                Ok(row) => row,
                Err(unreadable) => {
                    report.events += 1;
                    report.problem(
                        Some(unreadable.seq),
                        "unreadable_event",
                        format!("event {}: the column {} cannot be read", unreadable.seq, unreadable.column),
                    );
                    expected_seq = unreadable.seq + 1;
                    prev_hash = unreadable.entry_hash.clone();
                    continue;
                }
            };
            report.events += 1;
            if row.seq != expected_seq {
                let missing = if row.seq > expected_seq { "missing or deleted" } else { "out of order" };
                report.problem(
                    Some(expected_seq.min(row.seq)),
                    "sequence_gap",
                    format!("expected event {expected_seq}, found {} ({missing})", row.seq),
                );
            }
            expected_seq = row.seq + 1;
            let event: AuditEvent = match row.to_event() {
                Ok(event) => event,
                Err(detail) => {
                    report.problem(Some(row.seq), "unreadable_event", detail);
                    prev_hash = row.entry_hash.clone();
                    continue;
                }
            };
            if event.prev_hash != prev_hash {
                report.problem(
                    Some(row.seq),
                    "broken_link",
                    format!("event {} does not follow the event before it", row.seq),
                );
            }
            if event.compute_hash() != event.entry_hash {
                report.problem(Some(row.seq), "altered_event", format!("event {} does not match its hash", row.seq));
            }
            if super::model::AuditAction::parse(&event.action).is_none() {
                report.problem(Some(row.seq), "unknown_action", format!("event {} has an unknown action", row.seq));
            }
            for subject in &event.subjects {
                latest.record(&subject.t, &subject.id, &subject.d, row.seq);
            }
            if wanted.contains(&row.seq) {
                seen_hashes.insert(row.seq, row.entry_hash.clone());
            }
            prev_hash = row.entry_hash.clone();
            report.head_seq = row.seq;
            report.head_hash = row.entry_hash.clone();
        }
        if seq_unreadable {
            break;
        }
    }
    let (head_seq, head_hash) = store::head(conn)?;
    if head_seq != report.head_seq || head_hash != report.head_hash {
        report.problem(
            Some(report.head_seq.min(head_seq).max(1)),
            "head_mismatch",
            format!("the chain head says event {head_seq}, but the log ends at event {}", report.head_seq),
        );
    }
    for checkpoint in checkpoints {
        report.checkpoints_checked += 1;
        match seen_hashes.get(&checkpoint.seq) {
            Some(hash) if *hash == checkpoint.entry_hash => {}
            Some(_) => report.problem(
                Some(checkpoint.seq),
                "checkpoint_mismatch",
                format!("event {} differs from the saved checkpoint: history before it was rewritten", checkpoint.seq),
            ),
            None => report.problem(
                Some(checkpoint.seq.min(report.head_seq + 1)),
                "checkpoint_missing",
                format!(
                    "the saved checkpoint names event {}, but the log ends at {}: events were removed or an older copy was restored",
                    checkpoint.seq, report.head_seq
                ),
            ),
        }
    }
    Ok(latest)
}

/// Checks each row of one table against the digest its latest event
/// recorded. A page that does not read as its types is read again one row at
/// a time (`keys` gives the page's keys, `one` a row by key): a row that
/// cannot be read is tampering and is named.
fn check_table<T, F, K, O>(
    conn: &mut DbConnection,
    latest: &mut Latest,
    report: &mut Report,
    mut page: F,
    mut keys: K,
    mut one: O,
) -> Result<(), AppError>
where
    T: Audited,
    F: FnMut(&mut DbConnection, &str) -> QueryResult<Vec<T>>,
    K: FnMut(&mut DbConnection, &str) -> QueryResult<Vec<String>>,
    O: FnMut(&mut DbConnection, &str) -> QueryResult<T>,
{
    let mut after = String::new();
    loop {
        let rows = match page(conn, &after) {
            Ok(rows) => rows,
            Err(diesel::result::Error::DeserializationError(_)) => {
                let keys = keys(conn, &after)?;
                let Some(last_key) = keys.last().cloned() else { break };
                let mut readable = Vec::with_capacity(keys.len());
                for key in keys {
                    match one(conn, &key) {
                        Ok(row) => readable.push(row),
                        Err(diesel::result::Error::DeserializationError(e)) => {
                            let seq = latest.table_mut(T::TABLE).get_mut(&RowId::new(&key)).map(|r| {
                                r.seen = true;
                                r.seq
                            });
                            report.problem(
                                seq,
                                "unreadable_row",
                                format!("{} row {key} cannot be read ({e})", T::TABLE),
                            );
                            report.rows_checked += 1;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                check_rows(latest, report, &readable);
                after = last_key;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let Some(last) = rows.last() else { break };
        after = last.audit_id();
        check_rows(latest, report, &rows);
    }
    Ok(())
}

/// Checks rows against the digests their latest events recorded.
fn check_rows<T: Audited>(latest: &mut Latest, report: &mut Report, rows: &[T]) {
    let recorded = latest.table_mut(T::TABLE);
    for row in rows {
        let subject = row.subject();
        match recorded.get_mut(&RowId::new(&subject.id)) {
            None => report.problem(
                None,
                "row_without_event",
                format!("{} row {} has no audit event", subject.t, subject.id),
            ),
            Some(record) => {
                record.seen = true;
                if record.digest.is_none() || record.digest != digest_bytes(&subject.d) {
                    let seq = record.seq;
                    report.problem(
                        Some(seq),
                        "row_changed_without_event",
                        format!("{} row {} differs from what event {seq} recorded", subject.t, subject.id),
                    );
                }
            }
        }
        report.rows_checked += 1;
    }
}

fn verify_rows(conn: &mut DbConnection, latest: &mut Latest, report: &mut Report) -> Result<(), AppError> {
    macro_rules! table {
        ($table:ident, $key:ident, $row:ty) => {
            check_table::<$row, _, _, _>(
                conn,
                latest,
                report,
                |conn, after| {
                    $table::table
                        .filter($table::$key.gt(after.to_string()))
                        .order($table::$key.asc())
                        .limit(PAGE)
                        .select(<$row>::as_select())
                        .load(conn)
                },
                |conn, after| {
                    $table::table
                        .filter($table::$key.gt(after.to_string()))
                        .order($table::$key.asc())
                        .limit(PAGE)
                        .select($table::$key)
                        .load(conn)
                },
                |conn, key| {
                    $table::table.filter($table::$key.eq(key.to_string())).select(<$row>::as_select()).first(conn)
                },
            )?
        };
    }
    table!(organisations, slug, OrganisationRow);
    table!(users, id, UserRow);
    table!(role_grants, id, RoleGrantRow);
    table!(api_tokens, id, ApiTokenRow);
    table!(services, id, ServiceRow);
    table!(revisions, id, RevisionRow);
    table!(evaluations, id, EvaluationRow);
    table!(delegations, id, DelegationRow);
    table!(decisions, id, DecisionRow);
    table!(rule_sets, version, RuleSetRow);
    table!(re_reviews, id, ReReviewRow);
    table!(revision_contributors, id, ContributorRow);
    table!(password_credentials, user_id, PasswordRow);
    // Linked identities have a two-column key and are few (one per person): read at once.
    let identities = crate::auth::oidc::all_identities(conn)?;
    check_rows(latest, report, &identities);
    let mut gone: Vec<(i64, &str, &RowId)> = latest
        .tables
        .iter()
        .flat_map(|(table, rows)| {
            rows.iter().filter(|(_, record)| !record.seen).map(move |(id, record)| (record.seq, table.as_str(), id))
        })
        .collect();
    gone.sort_by_key(|(seq, _, _)| *seq);
    for (seq, table, id) in gone {
        report.problem(Some(seq), "row_missing", format!("{table} row {id}, recorded by event {seq}, is gone"));
    }
    Ok(())
}

/// Separation of duties and delegation, checked over the stored record.
fn verify_invariants(conn: &mut DbConnection, report: &mut Report) -> Result<(), AppError> {
    let authors: Vec<(String, String, Option<String>)> =
        revisions::table.select((revisions::service_id, revisions::created_by, revisions::submitted_by)).load(conn)?;
    // Who wrote or submitted each service (usually one or two people).
    let mut by_service: HashMap<RowId, Vec<RowId>> = HashMap::new();
    for (service, created_by, submitted_by) in authors {
        let people = by_service.entry(RowId::new(&service)).or_default();
        for person in std::iter::once(created_by).chain(submitted_by) {
            let person = RowId::new(&person);
            if !people.contains(&person) {
                people.push(person);
            }
        }
    }
    // Contributors of revisions (people who saved the draft) are authors too.
    let contributed: Vec<(String, String)> = revision_contributors::table
        .inner_join(revisions::table.on(revisions::id.eq(revision_contributors::revision_id)))
        .select((revisions::service_id, revision_contributors::user_id))
        .load(conn)?;
    for (service, person) in contributed {
        let people = by_service.entry(RowId::new(&service)).or_default();
        let person = RowId::new(&person);
        if !people.contains(&person) {
            people.push(person);
        }
    }
    // Who granted each person's approver role, and when it was live.
    let mut approver_grants: HashMap<RowId, Vec<(RowId, NaiveDateTime, Option<NaiveDateTime>)>> = HashMap::new();
    let grants: Vec<(String, Option<String>, NaiveDateTime, Option<NaiveDateTime>)> = role_grants::table
        .filter(role_grants::role.eq("approver"))
        .select((role_grants::user_id, role_grants::granted_by, role_grants::granted_at, role_grants::revoked_at))
        .load(conn)?;
    for (user, by, at, revoked) in grants {
        if let Some(by) = by {
            approver_grants.entry(RowId::new(&user)).or_default().push((RowId::new(&by), at, revoked));
        }
    }
    let delegation_rows: HashMap<String, DelegationRow> = delegations::table
        .select(DelegationRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|d| (d.id.clone(), d))
        .collect();
    let mut after = String::new();
    loop {
        let rows: Vec<DecisionRow> = decisions::table
            .filter(decisions::id.gt(after.clone()))
            .order(decisions::id.asc())
            .limit(PAGE)
            .select(DecisionRow::as_select())
            .load(conn)?;
        let Some(last) = rows.last() else { break };
        after = last.id.clone();
        for d in &rows {
            if by_service
                .get(&RowId::new(&d.service_id))
                .is_some_and(|authors| authors.contains(&RowId::new(&d.decided_by)))
            {
                report.problem(
                    None,
                    "separation_of_duties",
                    format!("decision {} was taken by a person who wrote or submitted the service", d.id),
                );
            }
            // The approver role the decision was taken under was granted by an author.
            let authors = by_service.get(&RowId::new(&d.service_id));
            let granted_by_author = approver_grants.get(&RowId::new(&d.decided_by)).is_some_and(|grants| {
                grants.iter().any(|(by, at, revoked)| {
                    *at <= d.decided_at
                        && revoked.is_none_or(|r| r > d.decided_at)
                        && authors.is_some_and(|a| a.contains(by))
                })
            });
            if granted_by_author {
                report.problem(
                    None,
                    "separation_of_duties",
                    format!(
                        "decision {} was taken by an approver whose role was granted by a person who wrote or submitted the service",
                        d.id
                    ),
                );
            }
            match &d.via_delegation_id {
                None if d.deciding_org_slug != d.org_slug => report.problem(
                    None,
                    "decision_without_authority",
                    format!(
                        "decision {} for {} was taken by {} without a delegation",
                        d.id, d.org_slug, d.deciding_org_slug
                    ),
                ),
                Some(id) => {
                    let valid = delegation_rows.get(id).is_some_and(|del| {
                        del.org_slug == d.org_slug
                            && del.delegate_slug == d.deciding_org_slug
                            && super::super::approvals::model::in_force(
                                del.valid_from,
                                del.valid_until,
                                del.revoked_at.is_some_and(|r: NaiveDateTime| r <= d.decided_at),
                                d.decided_at.date(),
                            )
                    });
                    if !valid {
                        report.problem(
                            None,
                            "decision_without_authority",
                            format!("decision {} names delegation {id}, which was not in force for it", d.id),
                        );
                    }
                }
                None => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
