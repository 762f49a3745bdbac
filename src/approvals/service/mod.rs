//! Use cases: delegations and decisions. Each runs inside `idempotency::perform`
//! (one transaction: authenticate, authorize, change, audit).

use std::collections::HashMap;

use chrono::{Months, NaiveDate};
use serde_json::Value;

use super::dto::{
    ConditionView, DecisionCreated, DecisionRequest, DecisionRevoked, DecisionView, DelegationRequest,
    DelegationResponse,
};
use super::model::{Condition, DecisionKind, optional_text, parse_conditions, parse_date, required_text};
use super::store::{self, DecisionRow, DelegationRow};
use crate::audit::{self, AuditAction, NewEvent};
use crate::auth::Actor;
use crate::auth::authz::{self, Action, DecisionRef, ServiceRef};
use crate::auth::model::OrgKind;
use crate::db::date_text;
use crate::db::{self, DbConnection, rfc3339, rfc3339_opt};
use crate::error::AppError;
use crate::i18n::Message;
use crate::ids::new_id;
use crate::organisations;
use crate::submissions::model::RevisionState;
use crate::submissions::{self, store::RevisionRow};

mod delegations;

pub use delegations::*;

fn today() -> NaiveDate {
    crate::swedish::today()
}

/// The organisations `actor` may decide for today: their own (as an
/// approver) and, for a federation's approver, every organisation that has a
/// delegation in force to it (`true` beside those).
pub fn decides_for(conn: &mut DbConnection, actor: &Actor) -> Result<Vec<(String, bool)>, AppError> {
    let mut orgs = Vec::new();
    if !actor.has(crate::auth::Role::Approver) {
        return Ok(orgs);
    }
    orgs.push((actor.org_slug.clone(), false));
    if actor.org_kind == OrgKind::Federation {
        for d in store::delegations_to(conn, &actor.org_slug, today())? {
            orgs.push((d.org_slug, true));
        }
    }
    Ok(orgs)
}

/// The submitted revisions waiting for an organisation's decision (at most
/// `limit`): the approver's queue.
pub fn waiting_for(conn: &mut DbConnection, org: &str, limit: i64) -> Result<Vec<RevisionRow>, AppError> {
    store::waiting_for(conn, org, limit)
}

/// The decision request, checked and typed.
struct Decision {
    kind: DecisionKind,
    conditions: Vec<Condition>,
    reason: Option<String>,
    valid_until: Option<NaiveDate>,
    decision_reference: Option<String>,
    public_reason: Option<String>,
}

fn parse_decision(request: &DecisionRequest) -> Result<Decision, AppError> {
    let conditions = parse_conditions(&request.conditions)?;
    let reason = optional_text(request.reason.as_deref(), 4000, "/reason")?;
    let decision_reference = optional_text(request.decision_reference.as_deref(), 100, "/decision_reference")?;
    let valid_until = request.valid_until.as_deref().map(|d| parse_date(d, "/valid_until")).transpose()?;
    match request.decision {
        DecisionKind::Rejected => {
            if reason.is_none() {
                return Err(AppError::field("reason_required", "/reason", Message::new("error-reason_required")));
            }
            if !conditions.is_empty() {
                return Err(AppError::field(
                    "invalid_conditions",
                    "/conditions",
                    Message::new("error-rejection_conditions"),
                ));
            }
            if valid_until.is_some() {
                return Err(AppError::field(
                    "invalid_valid_until",
                    "/valid_until",
                    Message::new("error-rejection_valid_until"),
                ));
            }
        }
        DecisionKind::ApprovedWithConditions if conditions.is_empty() => {
            return Err(AppError::field(
                "conditions_required",
                "/conditions",
                Message::new("error-conditions_required"),
            ));
        }
        DecisionKind::Approved if !conditions.is_empty() => {
            return Err(AppError::field(
                "invalid_conditions",
                "/conditions",
                Message::new("error-conditions_need_kind"),
            ));
        }
        _ => {}
    }
    let public_reason = optional_text(request.public_reason.as_deref(), 1000, "/public_reason")?;
    Ok(Decision { kind: request.decision, conditions, reason, valid_until, decision_reference, public_reason })
}

/// The latest day an approval of `revision` decided today may hold: today
/// plus the review interval its document sets (the decision form's default).
pub fn default_valid_until(revision: &RevisionRow) -> Result<NaiveDate, AppError> {
    let months = review_interval_months(revision)?;
    Ok(today().checked_add_months(Months::new(months)).unwrap_or(NaiveDate::MAX))
}

/// The review interval the revision's own document sets.
fn review_interval_months(revision: &RevisionRow) -> Result<u32, AppError> {
    let doc: Value = serde_json::from_str(&revision.document)?;
    doc.pointer("/governance/review/interval_months")
        .and_then(Value::as_u64)
        .and_then(|m| u32::try_from(m).ok())
        // Revisions stored before whole numbers were checked may hold 12.0.
        .or_else(|| {
            doc.pointer("/governance/review/interval_months")
                .and_then(Value::as_f64)
                .filter(|m| m.fract() == 0.0 && (1.0..=600.0).contains(m))
                .map(|m| m as u32)
        })
        .ok_or_else(|| AppError::conflict("no_review_interval", Message::new("error-no_review_interval")))
}

struct Authority {
    delegation: Option<DelegationRow>,
    is_author: bool,
    /// Everyone who wrote, edited or submitted the service.
    authors: Vec<String>,
}

/// Finds the delegation (if the actor decides for another organisation) and
/// whether the actor wrote or submitted any revision of the service.
fn authority(
    conn: &mut DbConnection,
    actor: &Actor,
    for_org: &str,
    revisions: &[RevisionRow],
) -> Result<Authority, AppError> {
    let delegation = if actor.org_slug != for_org && actor.org_kind == OrgKind::Federation {
        store::delegation_in_force(conn, for_org, &actor.org_slug, today())?
    } else {
        None
    };
    let authors = submissions::store::authors_of(conn, revisions.first().map_or("", |r| r.service_id.as_str()))?;
    let is_author = authors.contains(&actor.user_id);
    Ok(Authority { delegation, is_author, authors })
}

/// Whether separation of duties lets this person decide on the service: they
/// did not write, edit or submit it, and neither did any of `grantors`, who
/// made them an approver (`approver_grantors`, read once for many services).
pub fn may_decide_on(
    conn: &mut DbConnection,
    user_id: &str,
    grantors: &[String],
    service_id: &str,
) -> Result<bool, AppError> {
    let authors = submissions::store::authors_of(conn, service_id)?;
    Ok(!authors.iter().any(|a| a == user_id || grantors.contains(a)))
}

/// Who granted the person's live approver role.
pub fn approver_grantors(conn: &mut DbConnection, user_id: &str) -> Result<Vec<String>, AppError> {
    crate::auth::service::approver_grantors(conn, user_id)
}

/// Refuses a decision by an approver whose approver role was granted by
/// someone who wrote, edited or submitted the service: otherwise one person
/// could write a service, make a new approver and approve it through them.
fn check_role_grantor(conn: &mut DbConnection, actor: &Actor, authors: &[String]) -> Result<(), AppError> {
    let grantors = crate::auth::service::approver_grantors(conn, &actor.user_id)?;
    if grantors.iter().any(|g| authors.contains(g)) {
        return Err(AppError::SeparationOfDuties { why: "why-role_granted_by_author" });
    }
    Ok(())
}

/// Records a decision on the revision under review, for one organisation.
pub fn decide(
    conn: &mut DbConnection,
    actor: &Actor,
    service_id: &str,
    request: &DecisionRequest,
) -> Result<DecisionCreated, AppError> {
    let (service, has_submitted) = submissions::store::load_service(conn, service_id)?;
    let service_ref = ServiceRef { org: &service.org_slug, has_submitted };
    authz::can(actor, Action::ViewService(service_ref))?;
    let for_org =
        organisations::store::find(conn, &request.org)?.ok_or_else(|| unknown_org_at(&request.org, "/org"))?;
    let revisions = submissions::store::revisions_of(conn, &service.id)?;
    let authority = authority(conn, actor, &for_org.slug, &revisions)?;
    authz::can(
        actor,
        Action::Decide(DecisionRef {
            service: service_ref,
            for_org: &for_org.slug,
            delegation_in_force: authority.delegation.as_ref().map(|d| d.id.as_str()),
            actor_is_author: authority.is_author,
        }),
    )?;
    check_role_grantor(conn, actor, &authority.authors)?;

    // Another organisation's draft looks exactly like a revision that does not exist.
    let visible = |r: &&RevisionRow| actor.is_member_of(&service.org_slug) || r.state == RevisionState::Submitted;
    let revision = revisions.iter().filter(visible).find(|r| r.revision == request.revision).ok_or_else(|| {
        AppError::not_found(
            "unknown_revision",
            Message::new("error-unknown_revision").with("revision", request.revision),
        )
    })?;
    let under_review = revisions.iter().filter(|r| r.state == RevisionState::Submitted).map(|r| r.revision).max();
    if under_review != Some(revision.revision) {
        return Err(AppError::conflict("not_under_review", Message::new("error-not_under_review")));
    }
    let evaluation = submissions::store::evaluations_of(conn, std::slice::from_ref(&revision.id))?
        .pop()
        .ok_or_else(|| AppError::internal("revision without an evaluation"))?;
    let decision = parse_decision(request)?;
    if decision.kind.is_approval() && evaluation.verdict != crate::policy::Verdict::Pass {
        return Err(AppError::conflict("verdict_fail", Message::new("error-verdict_fail")));
    }
    if store::live_decision(conn, &service.id, &for_org.slug, revision.revision)?.is_some() {
        return Err(AppError::conflict("decision_exists", Message::new("error-decision_exists")));
    }
    let day = today();
    let valid_until = if decision.kind.is_approval() {
        let months = review_interval_months(revision)?;
        let latest = day.checked_add_months(Months::new(months)).unwrap_or(NaiveDate::MAX);
        match decision.valid_until {
            None => Some(latest),
            Some(until) if until < day => {
                return Err(AppError::field(
                    "invalid_valid_until",
                    "/valid_until",
                    Message::new("error-valid_until_past"),
                ));
            }
            Some(until) if until > latest => {
                return Err(AppError::field(
                    "invalid_valid_until",
                    "/valid_until",
                    Message::new("error-valid_until_after_review")
                        .with("latest", date_text(&latest))
                        .with("months", months),
                ));
            }
            Some(until) => Some(until),
        }
    } else {
        None
    };
    let submitted_by =
        revision.submitted_by.clone().ok_or_else(|| AppError::internal("submitted revision without a submitter"))?;
    let via_delegation = actor.org_slug != for_org.slug;
    let row = DecisionRow {
        id: new_id(),
        service_id: service.id.clone(),
        revision_id: revision.id.clone(),
        revision: revision.revision,
        org_slug: for_org.slug.clone(),
        decision: decision.kind,
        conditions: serde_json::to_string(&decision.conditions)?,
        reason: decision.reason,
        valid_until,
        decision_reference: decision.decision_reference,
        decided_by: actor.user_id.clone(),
        deciding_org_slug: actor.org_slug.clone(),
        via_delegation_id: if via_delegation { authority.delegation.as_ref().map(|d| d.id.clone()) } else { None },
        submitted_by,
        rule_set_version: evaluation.rule_set_version.clone(),
        verdict: evaluation.verdict,
        decided_at: db::now(),
        revoked_at: None,
        revoked_by: None,
        revocation_reason: None,
        public_reason: decision.public_reason,
    };
    store::insert_decision(conn, &row)?;
    audit::append(
        conn,
        NewEvent::new(AuditAction::DecisionRecorded, Some(&actor.user_id), Some(&row.org_slug))
            .via_delegation(row.via_delegation_id.as_deref())
            .subject(&row),
    )?;
    log::info!(
        "decision {} ({}) on service {} revision {} for {} by user {} of {}",
        row.id,
        row.decision.as_str(),
        row.service_id,
        row.revision,
        row.org_slug,
        actor.user_id,
        actor.org_slug
    );
    Ok(DecisionCreated {
        decision_id: row.id,
        service_id: row.service_id,
        org: row.org_slug,
        revision: row.revision,
        decision: decision.kind,
        via_delegation,
        delegation_id: row.via_delegation_id,
        deciding_org: row.deciding_org_slug,
        valid_until: row.valid_until.as_ref().map(date_text),
        decided_at: rfc3339(&row.decided_at),
    })
}

/// Revokes a live decision. The decision stays on record.
pub fn revoke_decision(
    conn: &mut DbConnection,
    actor: &Actor,
    decision_id: &str,
    reason: &str,
) -> Result<DecisionRevoked, AppError> {
    let decision = store::find_decision(conn, decision_id)?.ok_or(AppError::NotFound)?;
    let (service, has_submitted) = submissions::store::load_service(conn, &decision.service_id)?;
    let revisions = submissions::store::revisions_of(conn, &service.id)?;
    let authority = authority(conn, actor, &decision.org_slug, &revisions)?;
    authz::can(
        actor,
        Action::RevokeDecision(DecisionRef {
            service: ServiceRef { org: &service.org_slug, has_submitted },
            for_org: &decision.org_slug,
            delegation_in_force: authority.delegation.as_ref().map(|d| d.id.as_str()),
            actor_is_author: authority.is_author,
        }),
    )?;
    if decision.revoked_at.is_some() {
        return Err(AppError::conflict("already_revoked", Message::new("error-decision_revoked")));
    }
    let reason = required_text(Some(reason), 4000, "/reason", Message::new("error-revoke_reason"))?;
    let via =
        if actor.org_slug != decision.org_slug { authority.delegation.as_ref().map(|d| d.id.as_str()) } else { None };
    if store::revoke_decision(conn, decision_id, db::now(), &actor.user_id, &reason)? != 1 {
        return Err(AppError::conflict("already_revoked", Message::new("error-decision_revoked")));
    }
    let row = store::find_decision(conn, decision_id)?.ok_or(AppError::NotFound)?;
    audit::append(
        conn,
        NewEvent::new(AuditAction::DecisionRevoked, Some(&actor.user_id), Some(&row.org_slug))
            .via_delegation(via)
            .subject(&row),
    )?;
    Ok(DecisionRevoked {
        decision_id: row.id,
        service_id: row.service_id,
        revoked_at: rfc3339_opt(&row.revoked_at).unwrap_or_default(),
    })
}

/// What changed in `revision` since the revision `org` last decided on:
/// that revision's number and the changes, or None when `org` has not
/// decided on an earlier revision of the service (the approver reads it whole).
pub fn changes_since_decided(
    conn: &mut DbConnection,
    org: &str,
    revision: &RevisionRow,
) -> Result<Option<(i32, Vec<submissions::diff::Change>)>, AppError> {
    let decided = store::decisions_of(conn, &revision.service_id)?
        .into_iter()
        .filter(|d| d.org_slug == org && d.revision < revision.revision)
        .max_by_key(|d| d.decided_at);
    let Some(decided) = decided else { return Ok(None) };
    let Some(before) = submissions::store::find_revision(conn, &revision.service_id, decided.revision)? else {
        return Ok(None);
    };
    let before: Value = serde_json::from_str(&before.document)?;
    let after: Value = serde_json::from_str(&revision.document)?;
    Ok(Some((decided.revision, submissions::diff::changes(&before, &after, 200))))
}

/// Conditions stored on a decision, with their wording.
pub fn condition_views(stored: &str) -> Result<Vec<ConditionView>, AppError> {
    let conditions: Vec<Condition> = serde_json::from_str(stored)?;
    Ok(conditions
        .into_iter()
        .map(|condition| {
            let (text_sv, text_en) = condition.describe();
            ConditionView { condition, text_sv, text_en }
        })
        .collect())
}

/// Every organisation's current decision on a service: the most recent one
/// per organisation, live or revoked.
pub fn current_decisions(conn: &mut DbConnection, service_id: &str) -> Result<Vec<DecisionView>, AppError> {
    let functions: HashMap<String, String> =
        organisations::store::all(conn)?.into_iter().map(|o| (o.slug, o.function_name)).collect();
    let mut latest: HashMap<String, DecisionRow> = HashMap::new();
    for row in store::decisions_of(conn, service_id)? {
        latest.insert(row.org_slug.clone(), row);
    }
    let mut rows: Vec<DecisionRow> = latest.into_values().collect();
    rows.sort_by(|a, b| a.org_slug.cmp(&b.org_slug));
    let day = today();
    let flags = crate::policy::reevaluate::ReReviewFlags::load(
        conn,
        rows.iter().map(|r| (r.id.as_str(), r.revision_id.as_str())),
    )?;
    rows.into_iter()
        .map(|row| {
            let delegation_reference = match &row.via_delegation_id {
                Some(id) => store::find_delegation(conn, id)?.map(|d| d.decision_reference),
                None => None,
            };
            Ok(DecisionView {
                decision_id: row.id.clone(),
                org: row.org_slug.clone(),
                revision: row.revision,
                decision: row.decision.as_str().to_string(),
                conditions: condition_views(&row.conditions)?,
                reason: row.reason.clone(),
                valid_until: row.valid_until.as_ref().map(date_text),
                decision_reference: row.decision_reference.clone(),
                deciding_function: functions.get(&row.deciding_org_slug).cloned().unwrap_or_default(),
                deciding_org: row.deciding_org_slug.clone(),
                via_delegation: row.via_delegation_id.is_some(),
                delegation_reference,
                rule_set_version: row.rule_set_version.clone(),
                decided_at: rfc3339(&row.decided_at),
                revoked_at: rfc3339_opt(&row.revoked_at),
                revocation_reason: row.revocation_reason.clone(),
                expired: row.valid_until.is_some_and(|until| until < day),
                needs_re_review: row.decision != DecisionKind::Rejected
                    && row.revoked_at.is_none()
                    && flags.flagged(&row.id, &row.revision_id, &row.rule_set_version),
            })
        })
        .collect()
}
