//! Delegations: a municipality lets a federation decide for it, and ends that.

use super::*;
use crate::i18n::Message;

/// The delegations an organisation has made (every one when `org` is None),
/// live and revoked, for its admin's page.
pub fn delegations(conn: &mut DbConnection, org: Option<&str>) -> Result<Vec<DelegationRow>, AppError> {
    store::delegations(conn, org)
}

pub fn delegation_response(row: &DelegationRow) -> DelegationResponse {
    DelegationResponse {
        delegation_id: row.id.clone(),
        org: row.org_slug.clone(),
        delegate: row.delegate_slug.clone(),
        decision_reference: row.decision_reference.clone(),
        valid_from: date_text(&row.valid_from),
        valid_until: row.valid_until.as_ref().map(date_text),
        scope: row.scope.clone(),
        in_force: row.in_force_on(today()),
        created_at: rfc3339(&row.created_at),
        revoked_at: rfc3339_opt(&row.revoked_at),
        revocation_reason: row.revocation_reason.clone(),
    }
}

pub(super) fn unknown_org_at(slug: &str, _pointer: &str) -> AppError {
    crate::organisations::service::unknown_org(slug)
}

/// Creates a delegation from a municipality to a federation.
pub fn create_delegation(
    conn: &mut DbConnection,
    actor: &Actor,
    request: &DelegationRequest,
) -> Result<DelegationResponse, AppError> {
    let org = organisations::store::find(conn, &request.org)?.ok_or_else(|| unknown_org_at(&request.org, "/org"))?;
    authz::can(actor, Action::ManageDelegations { org: &org.slug })?;
    let delegate = organisations::store::find(conn, &request.delegate)?
        .ok_or_else(|| unknown_org_at(&request.delegate, "/delegate"))?;
    if delegate.kind != OrgKind::Federation || delegate.slug == org.slug {
        return Err(AppError::field("invalid_delegate", "/delegate", Message::new("error-invalid_delegate")));
    }
    if request.scope != "all" {
        return Err(AppError::field("invalid_scope", "/scope", Message::new("error-invalid_scope")));
    }
    let decision_reference = required_text(
        Some(&request.decision_reference),
        100,
        "/decision_reference",
        Message::new("error-decision_reference"),
    )?;
    let valid_from = parse_date(&request.valid_from, "/valid_from")?;
    let valid_until = request.valid_until.as_deref().map(|d| parse_date(d, "/valid_until")).transpose()?;
    if valid_until.is_some_and(|until| until < valid_from) {
        return Err(AppError::field("invalid_period", "/valid_until", Message::new("error-invalid_period")));
    }
    let row = DelegationRow {
        id: new_id(),
        org_slug: org.slug.clone(),
        delegate_slug: delegate.slug.clone(),
        decision_reference,
        valid_from,
        valid_until,
        scope: "all".into(),
        created_by: actor.user_id.clone(),
        created_at: db::now(),
        revoked_at: None,
        revoked_by: None,
        revocation_reason: None,
    };
    store::insert_delegation(conn, &row)?;
    audit::append(
        conn,
        NewEvent::new(AuditAction::DelegationCreated, Some(&actor.user_id), Some(&org.slug)).subject(&row),
    )?;
    log::info!(
        "delegation {} from {} to {} created by user {}",
        row.id,
        row.org_slug,
        row.delegate_slug,
        actor.user_id
    );
    Ok(delegation_response(&row))
}

/// Ends a delegation. Decisions already taken under it stay valid records.
pub fn revoke_delegation(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    reason: Option<&str>,
) -> Result<DelegationResponse, AppError> {
    let delegation = store::find_delegation(conn, id)?.ok_or(AppError::NotFound)?;
    authz::can(actor, Action::ManageDelegations { org: &delegation.org_slug })?;
    if delegation.revoked_at.is_some() {
        return Err(AppError::conflict("already_revoked", Message::new("error-delegation_revoked")));
    }
    let reason = optional_text(reason, 1000, "/reason")?;
    if store::revoke_delegation(conn, id, db::now(), &actor.user_id, reason.as_deref())? != 1 {
        return Err(AppError::conflict("already_revoked", Message::new("error-delegation_revoked")));
    }
    let row = store::find_delegation(conn, id)?.ok_or(AppError::NotFound)?;
    audit::append(
        conn,
        NewEvent::new(AuditAction::DelegationRevoked, Some(&actor.user_id), Some(&row.org_slug)).subject(&row),
    )?;
    Ok(delegation_response(&row))
}
