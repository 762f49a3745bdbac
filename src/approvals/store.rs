//! Rows and queries for delegations and decisions.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::model::DecisionKind;
use crate::audit::Audited;
use crate::db::DbConnection;
use crate::db::schema::{decisions, delegations};
use crate::error::AppError;
use crate::policy::model::Verdict;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = delegations)]
pub struct DelegationRow {
    pub id: String,
    pub org_slug: String,
    pub delegate_slug: String,
    pub decision_reference: String,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub scope: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_by: Option<String>,
    pub revocation_reason: Option<String>,
}

impl Audited for DelegationRow {
    const TABLE: &'static str = "delegations";
    fn audit_id(&self) -> String {
        self.id.clone()
    }
}

impl DelegationRow {
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        super::model::in_force(self.valid_from, self.valid_until, self.revoked_at.is_some(), day)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = decisions)]
pub struct DecisionRow {
    pub id: String,
    pub service_id: String,
    pub revision_id: String,
    pub revision: i32,
    /// The organisation the decision is for.
    pub org_slug: String,
    pub decision: DecisionKind,
    /// JSON array of conditions.
    pub conditions: String,
    pub reason: Option<String>,
    pub valid_until: Option<NaiveDate>,
    pub decision_reference: Option<String>,
    pub decided_by: String,
    /// The organisation whose AI function decided (the org itself, or the
    /// federation under a delegation).
    pub deciding_org_slug: String,
    pub via_delegation_id: Option<String>,
    /// Who submitted the revision, copied here so that the database can check
    /// separation of duties.
    pub submitted_by: String,
    pub rule_set_version: String,
    pub verdict: Verdict,
    pub decided_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_by: Option<String>,
    pub revocation_reason: Option<String>,
    /// The reason given to the public (the lookup's "Nej" says it). Left
    /// out of the audit record when there is none, so that decisions
    /// recorded before it existed keep their digests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_reason: Option<String>,
}

impl Audited for DecisionRow {
    const TABLE: &'static str = "decisions";
    fn audit_id(&self) -> String {
        self.id.clone()
    }
}

pub fn insert_delegation(conn: &mut DbConnection, row: &DelegationRow) -> Result<(), AppError> {
    diesel::insert_into(delegations::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find_delegation(conn: &mut DbConnection, id: &str) -> Result<Option<DelegationRow>, AppError> {
    Ok(delegations::table.filter(delegations::id.eq(id)).select(DelegationRow::as_select()).first(conn).optional()?)
}

pub fn delegations(conn: &mut DbConnection, org: Option<&str>) -> Result<Vec<DelegationRow>, AppError> {
    let mut query = delegations::table.select(DelegationRow::as_select()).into_boxed();
    if let Some(org) = org {
        query =
            query.filter(delegations::org_slug.eq(org.to_string()).or(delegations::delegate_slug.eq(org.to_string())));
    }
    Ok(query.order((delegations::created_at.asc(), delegations::id.asc())).load(conn)?)
}

/// The delegation from `org` to `delegate` in force on `day`, if any (the
/// most recent one when several are).
pub fn delegation_in_force(
    conn: &mut DbConnection,
    org: &str,
    delegate: &str,
    day: NaiveDate,
) -> Result<Option<DelegationRow>, AppError> {
    let candidates: Vec<DelegationRow> = delegations::table
        .filter(delegations::org_slug.eq(org))
        .filter(delegations::delegate_slug.eq(delegate))
        .filter(delegations::revoked_at.is_null())
        .filter(delegations::valid_from.le(day))
        .order(delegations::created_at.desc())
        .select(DelegationRow::as_select())
        .load(conn)?;
    Ok(candidates.into_iter().find(|d| d.in_force_on(day)))
}

pub fn revoke_delegation(
    conn: &mut DbConnection,
    id: &str,
    at: NaiveDateTime,
    by: &str,
    reason: Option<&str>,
) -> Result<usize, AppError> {
    Ok(diesel::update(delegations::table.filter(delegations::id.eq(id)).filter(delegations::revoked_at.is_null()))
        .set((
            delegations::revoked_at.eq(Some(at)),
            delegations::revoked_by.eq(Some(by)),
            delegations::revocation_reason.eq(reason),
        ))
        .execute(conn)?)
}

pub fn insert_decision(conn: &mut DbConnection, row: &DecisionRow) -> Result<(), AppError> {
    diesel::insert_into(decisions::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find_decision(conn: &mut DbConnection, id: &str) -> Result<Option<DecisionRow>, AppError> {
    Ok(decisions::table.filter(decisions::id.eq(id)).select(DecisionRow::as_select()).first(conn).optional()?)
}

pub fn live_decision(
    conn: &mut DbConnection,
    service_id: &str,
    org: &str,
    revision: i32,
) -> Result<Option<DecisionRow>, AppError> {
    Ok(decisions::table
        .filter(decisions::service_id.eq(service_id))
        .filter(decisions::org_slug.eq(org))
        .filter(decisions::revision.eq(revision))
        .filter(decisions::revoked_at.is_null())
        .select(DecisionRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every decision on a service, oldest first.
pub fn decisions_of(conn: &mut DbConnection, service_id: &str) -> Result<Vec<DecisionRow>, AppError> {
    Ok(decisions::table
        .filter(decisions::service_id.eq(service_id))
        .order((decisions::decided_at.asc(), decisions::id.asc()))
        .select(DecisionRow::as_select())
        .load(conn)?)
}

pub fn revoke_decision(
    conn: &mut DbConnection,
    id: &str,
    at: NaiveDateTime,
    by: &str,
    reason: &str,
) -> Result<usize, AppError> {
    if crate::fault::active() == crate::fault::Fault::SkipCas {
        return Ok(diesel::update(decisions::table.filter(decisions::id.eq(id)))
            .set((
                decisions::revoked_at.eq(Some(at)),
                decisions::revoked_by.eq(Some(by)),
                decisions::revocation_reason.eq(Some(reason)),
            ))
            .execute(conn)?);
    }
    Ok(diesel::update(decisions::table.filter(decisions::id.eq(id)).filter(decisions::revoked_at.is_null()))
        .set((
            decisions::revoked_at.eq(Some(at)),
            decisions::revoked_by.eq(Some(by)),
            decisions::revocation_reason.eq(Some(reason)),
        ))
        .execute(conn)?)
}

/// Delegations to `delegate` in force on `day` (one per delegating organisation).
pub fn delegations_to(conn: &mut DbConnection, delegate: &str, day: NaiveDate) -> Result<Vec<DelegationRow>, AppError> {
    let rows: Vec<DelegationRow> = delegations::table
        .filter(delegations::delegate_slug.eq(delegate))
        .filter(delegations::revoked_at.is_null())
        .filter(delegations::valid_from.le(day))
        .order((delegations::org_slug.asc(), delegations::created_at.desc()))
        .select(DelegationRow::as_select())
        .load(conn)?;
    let mut seen = std::collections::HashSet::new();
    Ok(rows.into_iter().filter(|d| d.in_force_on(day) && seen.insert(d.org_slug.clone())).collect())
}

/// Revisions waiting for `org`'s decision: each service's newest submitted
/// revision on which `org` has no live decision, oldest submission first.
pub fn waiting_for(
    conn: &mut DbConnection,
    org: &str,
    limit: i64,
) -> Result<Vec<crate::submissions::store::RevisionRow>, AppError> {
    use crate::db::schema::revisions;
    use crate::submissions::store::RevisionRow;
    let (newer, decided) = diesel::alias!(revisions as newer, decisions as decided);
    Ok(revisions::table
        .filter(revisions::state.eq("submitted"))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            newer
                .filter(newer.field(revisions::service_id).eq(revisions::service_id))
                .filter(newer.field(revisions::state).eq("submitted"))
                .filter(newer.field(revisions::revision).gt(revisions::revision)),
        )))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            decided
                .filter(decided.field(decisions::revision_id).eq(revisions::id))
                .filter(decided.field(decisions::org_slug).eq(org))
                .filter(decided.field(decisions::revoked_at).is_null()),
        )))
        .order((revisions::submitted_at.asc(), revisions::id.asc()))
        .limit(limit)
        .select(RevisionRow::as_select())
        .load(conn)?)
}
