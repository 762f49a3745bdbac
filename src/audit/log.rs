//! The audit log as an auditor reads it: newest first, a page at a time,
//! filtered by service, person, action and day, with the names of the
//! services, people and organisations the events are about beside their ids.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::model::AuditAction;
use super::store::AuditEventRow;
use crate::db::schema::{audit_events, decisions, evaluations, organisations, revisions, users};
use crate::db::{DbConnection, read};
use crate::error::AppError;

type Backend = <DbConnection as diesel::Connection>::Backend;
type Condition = Box<dyn BoxableExpression<audit_events::table, Backend, SqlType = Bool>>;

/// Services a name search may match; the filter covers all their events.
const MAX_SERVICES: i64 = 20;

/// Which events. Every part is optional; the parts narrow each other.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// A service's id, or part of its name (any of its versions).
    pub service: Option<String>,
    /// A person's id.
    pub person: Option<String>,
    pub action: Option<AuditAction>,
    /// Swedish calendar days, both included.
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

/// One subject of an event, named.
#[derive(Debug, Clone)]
pub struct NamedSubject {
    /// The table (`services`, `revisions`, …).
    pub table: String,
    pub id: String,
    /// What a person calls it: the service's name (of a version or a
    /// decision too), the person's or organisation's name. `None` when it
    /// has no name.
    pub name: Option<String>,
    /// The version's number, for a version.
    pub revision: Option<i32>,
    /// The organisation a decision is for (its name).
    pub for_org: Option<String>,
}

#[derive(Debug, Clone)]
pub struct LogEntry {
    pub seq: i64,
    pub occurred_at: NaiveDateTime,
    pub action: Option<AuditAction>,
    /// The stored action, for one no longer known to this version.
    pub action_code: String,
    pub org: Option<String>,
    pub org_name: Option<String>,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub via_delegation: bool,
    pub subjects: Vec<NamedSubject>,
    pub entry_hash: String,
}

pub struct LogPage {
    pub head_seq: i64,
    pub head_hash: String,
    pub entries: Vec<LogEntry>,
    /// `before` for the next, older page, when there is one.
    pub next_before: Option<i64>,
    /// The services the service filter matched (id, latest name).
    pub matched_services: Vec<(String, String)>,
    /// Everyone who may appear as a person, for the filter (id, name), in
    /// Swedish order.
    pub people: Vec<(String, String)>,
}

/// One page of the log, newest first, older than `before` when given.
pub fn page(conn: &mut DbConnection, filter: &LogFilter, before: Option<i64>, limit: i64) -> Result<LogPage, AppError> {
    read(conn, |conn| {
        let (head_seq, head_hash) = super::store::head(conn)?;
        let matched_services = match filter.service.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(text) => services_matching(conn, text)?,
            None => Vec::new(),
        };
        let mut people: Vec<(String, String)> = users::table.select((users::id, users::name)).load(conn)?;
        crate::swedish::SwedishOrder::new().sort_by_key(&mut people, |(_, name)| name.as_str());
        let mut query = audit_events::table.select(AuditEventRow::as_select()).into_boxed();
        if filter.service.as_deref().is_some_and(|s| !s.trim().is_empty()) {
            let ids = ids_about(conn, &matched_services)?;
            let Some(condition) = any_subject(&ids) else {
                // No service matched: no event can be about it.
                return Ok(LogPage {
                    head_seq,
                    head_hash,
                    entries: Vec::new(),
                    next_before: None,
                    matched_services,
                    people,
                });
            };
            query = query.filter(condition);
        }
        if let Some(person) = &filter.person {
            query = query.filter(audit_events::actor_id.eq(person.clone()));
        }
        if let Some(action) = filter.action {
            query = query.filter(audit_events::action.eq(action.as_str()));
        }
        if let Some(from) = filter.from {
            query = query.filter(audit_events::occurred_at.ge(crate::swedish::day_start_utc(from)));
        }
        if let Some(next) = filter.until.and_then(|d| d.succ_opt()) {
            query = query.filter(audit_events::occurred_at.lt(crate::swedish::day_start_utc(next)));
        }
        if let Some(before) = before {
            query = query.filter(audit_events::seq.lt(before));
        }
        // One more than shown tells whether an older page exists.
        let mut rows: Vec<AuditEventRow> = query.order(audit_events::seq.desc()).limit(limit + 1).load(conn)?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_before = if more { rows.last().map(|r| r.seq) } else { None };
        let entries = named(conn, rows)?;
        Ok(LogPage { head_seq, head_hash, entries, next_before, matched_services, people })
    })
}

/// Services whose id is the text, or one of whose versions' names holds it
/// (case does not matter), by latest name.
fn services_matching(conn: &mut DbConnection, text: &str) -> Result<Vec<(String, String)>, AppError> {
    let pattern = format!("%{}%", like_escaped(&text.to_lowercase()));
    let ids: Vec<String> = revisions::table
        .filter(
            revisions::service_id.eq(text).or(diesel::dsl::sql::<Bool>("LOWER(name) LIKE ")
                .bind::<diesel::sql_types::Text, _>(pattern)
                .sql(" ESCAPE '\\'")),
        )
        .select(revisions::service_id)
        .distinct()
        .limit(MAX_SERVICES)
        .load(conn)?;
    latest_names(conn, &ids).map(|names| {
        let mut found: Vec<(String, String)> = names.into_iter().collect();
        crate::swedish::SwedishOrder::new().sort_by_key(&mut found, |(_, name)| name.as_str());
        found
    })
}

/// Each service's latest name.
fn latest_names(conn: &mut DbConnection, ids: &[String]) -> Result<HashMap<String, String>, AppError> {
    let rows: Vec<(String, i32, String)> = revisions::table
        .filter(revisions::service_id.eq_any(ids))
        .select((revisions::service_id, revisions::revision, revisions::name))
        .order((revisions::service_id.asc(), revisions::revision.asc()))
        .load(conn)?;
    // Ordered by revision, so the last one written wins.
    Ok(rows.into_iter().map(|(id, _, name)| (id, name)).collect())
}

/// Every row id an event about these services names: the services, their
/// versions, the versions' evaluations and the decisions on them.
fn ids_about(conn: &mut DbConnection, services: &[(String, String)]) -> Result<Vec<String>, AppError> {
    let service_ids: Vec<String> = services.iter().map(|(id, _)| id.clone()).collect();
    let revision_ids: Vec<String> =
        revisions::table.filter(revisions::service_id.eq_any(&service_ids)).select(revisions::id).load(conn)?;
    let evaluation_ids: Vec<String> =
        evaluations::table.filter(evaluations::revision_id.eq_any(&revision_ids)).select(evaluations::id).load(conn)?;
    let decision_ids: Vec<String> =
        decisions::table.filter(decisions::service_id.eq_any(&service_ids)).select(decisions::id).load(conn)?;
    Ok(service_ids.into_iter().chain(revision_ids).chain(evaluation_ids).chain(decision_ids).collect())
}

/// Events naming any of the ids among their subjects. Subjects are stored
/// as JSON objects with an `"id":"…"` member, so an id is matched whole by
/// its quotes (whatever order the members are written in).
fn any_subject(ids: &[String]) -> Option<Condition> {
    let mut condition: Option<Condition> = None;
    for id in ids {
        let pattern = format!("%\"id\":\"{}\"%", like_escaped(id));
        let this = audit_events::subjects.like(pattern).escape('\\');
        condition = Some(match condition {
            None => Box::new(this),
            Some(before) => Box::new(before.or(this)),
        });
    }
    condition
}

fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// The rows with the names of what they are about.
fn named(conn: &mut DbConnection, rows: Vec<AuditEventRow>) -> Result<Vec<LogEntry>, AppError> {
    let parsed: Vec<Vec<super::model::Subject>> =
        rows.iter().map(|r| serde_json::from_str(&r.subjects).unwrap_or_default()).collect();
    let ids_of = |table: &str| -> Vec<String> {
        parsed.iter().flatten().filter(|s| s.t == table).map(|s| s.id.clone()).collect()
    };
    let mut person_ids = ids_of("users");
    person_ids.extend(rows.iter().filter_map(|r| r.actor_id.clone()));
    let people: HashMap<String, String> = users::table
        .filter(users::id.eq_any(&person_ids))
        .select((users::id, users::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let orgs: HashMap<String, String> = organisations::table
        .select((organisations::slug, organisations::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let revisions_named: HashMap<String, (String, i32)> = revisions::table
        .filter(revisions::id.eq_any(ids_of("revisions")))
        .select((revisions::id, revisions::service_id, revisions::revision))
        .load::<(String, String, i32)>(conn)?
        .into_iter()
        .map(|(id, service, n)| (id, (service, n)))
        .collect();
    let decisions_on: HashMap<String, (String, String)> = decisions::table
        .filter(decisions::id.eq_any(ids_of("decisions")))
        .select((decisions::id, decisions::service_id, decisions::org_slug))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(id, service, org)| (id, (service, org)))
        .collect();
    let mut service_ids = ids_of("services");
    service_ids.extend(revisions_named.values().map(|(s, _)| s.clone()));
    service_ids.extend(decisions_on.values().map(|(s, _)| s.clone()));
    let service_names = latest_names(conn, &service_ids)?;
    let service_name = |id: &str| service_names.get(id).cloned();
    Ok(rows
        .into_iter()
        .zip(parsed)
        .map(|(row, subjects)| {
            let subjects = subjects
                .into_iter()
                .map(|s| {
                    let (mut revision, mut for_org) = (None, None);
                    let name = match s.t.as_str() {
                        "services" => service_name(&s.id),
                        "revisions" => revisions_named.get(&s.id).and_then(|(service, n)| {
                            revision = Some(*n);
                            service_name(service)
                        }),
                        "decisions" => decisions_on.get(&s.id).and_then(|(service, org)| {
                            for_org = Some(orgs.get(org).cloned().unwrap_or_else(|| org.clone()));
                            service_name(service)
                        }),
                        "users" => people.get(&s.id).cloned(),
                        "organisations" => orgs.get(&s.id).cloned(),
                        _ => None,
                    };
                    NamedSubject { table: s.t, id: s.id, name, revision, for_org }
                })
                .collect();
            LogEntry {
                seq: row.seq,
                occurred_at: row.occurred_at,
                action: AuditAction::parse(&row.action),
                action_code: row.action,
                org_name: row.org_slug.as_ref().and_then(|o| orgs.get(o).cloned()),
                org: row.org_slug,
                actor_name: row.actor_id.as_ref().and_then(|a| people.get(a).cloned()),
                actor_id: row.actor_id,
                via_delegation: row.via_delegation_id.is_some(),
                subjects,
                entry_hash: row.entry_hash,
            }
        })
        .collect())
}
