//! The compliance report: one row per service × organisation (the owning
//! organisation, and every organisation that has decided on the service),
//! rebuilt from the stored history for any past day. Rows are produced page
//! by page so that memory stays flat whatever the size.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::approvals::model::{Condition, DecisionKind};
use crate::db::DbConnection;
use crate::db::date_text as date;
use crate::db::schema::{decisions, delegations, evaluations, organisations, re_reviews, revisions, services, users};
use crate::error::AppError;
use crate::lookup::index::Status;
use crate::policy::reevaluate::lists_version;

const PAGE: i64 = 2_000;

/// One row. `decided_by_name` is shown to auditors and admins only (this
/// report is never public).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComplianceRow {
    pub service_id: String,
    pub service_name: String,
    pub vendor: String,
    pub owner_org: String,
    /// The revision the decision is about (else the latest submitted one, else the latest).
    pub revision: i32,
    pub latest_revision: i32,
    pub risk_class: String,
    pub org: String,
    pub status: Status,
    pub decision: Option<String>,
    pub decision_id: Option<String>,
    pub decision_reference: Option<String>,
    pub decided_on: Option<String>,
    pub deciding_org: Option<String>,
    pub deciding_function: Option<String>,
    pub decided_by: Option<String>,
    pub decided_by_name: Option<String>,
    pub via_delegation: bool,
    pub delegation_reference: Option<String>,
    pub rule_set_version_at_decision: Option<String>,
    /// "R1=pass,R2=fail,…" under the rule set in force at decision time.
    pub rule_outcomes_at_decision: Option<String>,
    pub rule_set_version_now: Option<String>,
    pub rule_outcomes_now: Option<String>,
    pub valid_until: Option<String>,
    pub expiring_within_60_days: bool,
    pub expired: bool,
    pub needs_re_review: bool,
    pub conditions: Vec<String>,
}

/// Which rows, and as of when.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub org: Option<String>,
    pub status: Option<Status>,
    pub risk_class: Option<String>,
    pub expiring_within_days: Option<i64>,
    /// The end of this day is the point in time the report describes.
    pub as_of: Option<NaiveDate>,
}

impl Filter {
    /// The instant the report describes: the end of `as_of` (a Swedish
    /// calendar day), or now.
    pub fn instant(&self) -> NaiveDateTime {
        match self.as_of {
            // The end of that day in Sweden.
            Some(day) => match day.succ_opt() {
                Some(next) => crate::swedish::day_start_utc(next) - chrono::Duration::microseconds(1),
                None => crate::db::now(),
            },
            None => crate::db::now(),
        }
    }

    fn keeps(&self, row: &ComplianceRow, today: NaiveDate) -> bool {
        self.org.as_ref().is_none_or(|o| *o == row.org)
            && self.status.is_none_or(|s| s == row.status)
            && self.risk_class.as_ref().is_none_or(|r| *r == row.risk_class)
            && self.expiring_within_days.is_none_or(|days| {
                row.valid_until
                    .as_deref()
                    .and_then(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
                    .is_some_and(|until| until >= today && until <= today + Duration::days(days))
            })
    }
}

/// An evaluation of a revision: revision id, rule-set version, rule
/// outcomes, when, and the versions it is worse than.
type EvaluationTuple = (String, String, String, NaiveDateTime, String);
type RevisionTuple = (String, String, i32, String, String, String, String, NaiveDateTime, Option<NaiveDateTime>);
type DecisionTuple = (
    String,
    String,
    String,
    i32,
    String,
    String,
    Option<NaiveDate>,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

/// Organisation slug → (function name).
fn functions(conn: &mut DbConnection) -> Result<HashMap<String, String>, AppError> {
    Ok(organisations::table
        .select((organisations::slug, organisations::function_name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// Produces the report's rows in order (service id, organisation), calling
/// `emit` for each; `emit` returning an error stops the work (a client that
/// went away).
pub fn rows(
    conn: &mut DbConnection,
    filter: &Filter,
    mut emit: impl FnMut(&ComplianceRow) -> Result<(), AppError>,
) -> Result<u64, AppError> {
    let at = filter.instant();
    let today = crate::swedish::local_date(&at);
    let functions = functions(conn)?;
    let delegation_refs: HashMap<String, String> = delegations::table
        .select((delegations::id, delegations::decision_reference))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let mut count = 0u64;
    // Flags recorded one by one before migration 000010 (later ones are
    // read from the evaluations, `worse_than`); none in a newer registry.
    let legacy_flags = crate::policy::reevaluate::has_legacy_flags(conn)?;
    let mut after = String::new();
    loop {
        let page: Vec<(String, String)> = services::table
            .filter(services::id.gt(&after))
            .filter(services::created_at.le(at))
            .order(services::id.asc())
            .limit(PAGE)
            .select((services::id, services::org_slug))
            .load(conn)?;
        let Some(last) = page.last() else { break };
        after = last.0.clone();
        let ids: Vec<&String> = page.iter().map(|(id, _)| id).collect();

        let revision_rows: Vec<RevisionTuple> = revisions::table
            .filter(revisions::service_id.eq_any(&ids))
            .filter(revisions::created_at.le(at))
            .order((revisions::service_id.asc(), revisions::revision.asc()))
            .select((
                revisions::service_id,
                revisions::id,
                revisions::revision,
                revisions::name,
                revisions::vendor,
                revisions::risk_class,
                revisions::state,
                revisions::created_at,
                revisions::submitted_at,
            ))
            .load(conn)?;
        let mut by_service: HashMap<&str, Vec<&RevisionTuple>> = HashMap::new();
        for r in &revision_rows {
            by_service.entry(r.0.as_str()).or_default().push(r);
        }
        let decision_rows: Vec<DecisionTuple> = decisions::table
            .filter(decisions::service_id.eq_any(&ids))
            .filter(decisions::decided_at.le(at))
            .order((decisions::service_id.asc(), decisions::org_slug.asc(), decisions::decided_at.asc()))
            .select((
                decisions::id,
                decisions::service_id,
                decisions::revision_id,
                decisions::revision,
                decisions::org_slug,
                decisions::decision,
                decisions::valid_until,
                decisions::decision_reference,
                decisions::decided_by,
                decisions::deciding_org_slug,
                decisions::via_delegation_id,
                decisions::rule_set_version,
                decisions::decided_at,
                decisions::revoked_at,
            ))
            .load(conn)?;
        // The latest decision per service and organisation at the instant.
        let mut current: HashMap<(&str, &str), &DecisionTuple> = HashMap::new();
        for d in &decision_rows {
            current.insert((d.1.as_str(), d.4.as_str()), d);
        }
        let mut orgs_of: HashMap<&str, Vec<&str>> = HashMap::new();
        for (service, org) in current.keys() {
            orgs_of.entry(service).or_default().push(org);
        }
        let decision_ids: Vec<&String> = current.values().map(|d| &d.0).collect();
        let flagged: HashSet<String> = if decision_ids.is_empty() || !legacy_flags {
            HashSet::new()
        } else {
            re_reviews::table
                .filter(re_reviews::decision_id.eq_any(&decision_ids))
                .filter(re_reviews::flagged_at.le(at))
                .select(re_reviews::decision_id)
                .load::<String>(conn)?
                .into_iter()
                .collect()
        };
        let conditions: HashMap<String, String> = if decision_ids.is_empty() {
            HashMap::new()
        } else {
            decisions::table
                .filter(decisions::id.eq_any(&decision_ids))
                .select((decisions::id, decisions::conditions))
                .load::<(String, String)>(conn)?
                .into_iter()
                .collect()
        };
        let person_ids: HashSet<&String> = current.values().map(|d| &d.8).collect();
        let names: HashMap<String, String> = if person_ids.is_empty() {
            HashMap::new()
        } else {
            users::table
                .filter(users::id.eq_any(person_ids.into_iter().collect::<Vec<_>>()))
                .select((users::id, users::name))
                .load::<(String, String)>(conn)?
                .into_iter()
                .collect()
        };
        let revision_ids: Vec<&String> = revision_rows.iter().map(|r| &r.1).collect();
        let evaluation_rows: Vec<EvaluationTuple> = evaluations::table
            .filter(evaluations::revision_id.eq_any(&revision_ids))
            .filter(evaluations::evaluated_at.le(at))
            .order(evaluations::evaluated_at.asc())
            .select((
                evaluations::revision_id,
                evaluations::rule_set_version,
                evaluations::rule_outcomes,
                evaluations::evaluated_at,
                evaluations::worse_than,
            ))
            .load(conn)?;
        let mut evaluations_of: HashMap<&str, Vec<&EvaluationTuple>> = HashMap::new();
        for e in &evaluation_rows {
            evaluations_of.entry(e.0.as_str()).or_default().push(e);
        }

        for (service_id, owner) in &page {
            let Some(revs) = by_service.get(service_id.as_str()) else { continue };
            let Some(latest) = revs.last() else { continue };
            let shown = revs
                .iter()
                .rev()
                .find(|r| r.6 == "submitted" && r.8.is_some_and(|s| s <= at))
                .copied()
                .unwrap_or(latest);
            let mut orgs: Vec<&str> = orgs_of.remove(service_id.as_str()).unwrap_or_default();
            if !orgs.contains(&owner.as_str()) {
                orgs.push(owner.as_str());
            }
            orgs.sort_unstable();
            for org in orgs {
                let decision = current.get(&(service_id.as_str(), org)).copied();
                let revision = decision.and_then(|d| revs.iter().find(|r| r.1 == d.2).copied()).unwrap_or(shown);
                let evals = evaluations_of.get(revision.1.as_str());
                let now_eval = evals.and_then(|e| e.last());
                let then_eval = decision.and_then(|d| evals.and_then(|e| e.iter().find(|x| x.1 == d.11)));
                let status = match decision {
                    None => Status::NotAssessed,
                    Some(d) if d.13.is_some_and(|r| r <= at) => Status::NotAllowed,
                    Some(d) => match DecisionKind::parse(&d.5) {
                        Some(DecisionKind::Rejected) | None => Status::NotAllowed,
                        Some(_) if d.6.is_some_and(|u| u < today) => Status::Expired,
                        Some(DecisionKind::Approved) => Status::Allowed,
                        Some(DecisionKind::ApprovedWithConditions) => Status::AllowedWithConditions,
                    },
                };
                let valid_until = decision.and_then(|d| d.6);
                let live = matches!(status, Status::Allowed | Status::AllowedWithConditions);
                let row = ComplianceRow {
                    service_id: service_id.clone(),
                    service_name: revision.3.clone(),
                    vendor: revision.4.clone(),
                    owner_org: owner.clone(),
                    revision: revision.2,
                    latest_revision: latest.2,
                    risk_class: revision.5.clone(),
                    org: org.to_string(),
                    status,
                    decision: decision.map(|d| d.5.clone()),
                    decision_id: decision.map(|d| d.0.clone()),
                    decision_reference: decision.and_then(|d| d.7.clone()),
                    decided_on: decision.map(|d| date(&crate::swedish::local_date(&d.12))),
                    deciding_org: decision.map(|d| d.9.clone()),
                    deciding_function: decision.and_then(|d| functions.get(&d.9).cloned()),
                    decided_by: decision.map(|d| d.8.clone()),
                    decided_by_name: decision.and_then(|d| names.get(&d.8).cloned()),
                    via_delegation: decision.is_some_and(|d| d.10.is_some()),
                    delegation_reference: decision
                        .and_then(|d| d.10.as_ref())
                        .and_then(|id| delegation_refs.get(id).cloned()),
                    rule_set_version_at_decision: decision.map(|d| d.11.clone()),
                    rule_outcomes_at_decision: then_eval.map(|e| e.2.clone()),
                    rule_set_version_now: now_eval.map(|e| e.1.clone()),
                    rule_outcomes_now: now_eval.map(|e| e.2.clone()),
                    valid_until: valid_until.as_ref().map(date),
                    expiring_within_60_days: live
                        && valid_until.is_some_and(|u| u >= today && u <= today + Duration::days(60)),
                    expired: status == Status::Expired,
                    needs_re_review: live
                        && decision.is_some_and(|d| {
                            flagged.contains(&d.0)
                                || evals.is_some_and(|e| e.iter().any(|x| lists_version(&x.4, &d.11)))
                        }),
                    conditions: decision
                        .and_then(|d| conditions.get(&d.0))
                        .and_then(|c| serde_json::from_str::<Vec<Condition>>(c).ok())
                        .unwrap_or_default()
                        .iter()
                        .map(|c| c.describe().0)
                        .collect(),
                };
                if filter.keeps(&row, today) {
                    emit(&row)?;
                    count += 1;
                }
            }
        }
    }
    Ok(count)
}
