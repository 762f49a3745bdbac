//! HTTP only: delegations and decisions.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::dto::{
    DecisionCreated, DecisionRequest, DecisionRevoked, DelegationList, DelegationRequest, DelegationResponse,
    RevokeDecisionRequest, RevokeRequest,
};
use super::{service, store};
use crate::auth::Credentials;
use crate::error::{AppError, ErrorEnvelope};
use crate::http::{OptionalJson, parse_body};
use crate::idempotency::{self, IdempotencyKey, Reply, Write};
use crate::state::AppState;

/// `POST /api/v1/delegations` — a municipality delegates its decisions to a federation.
#[utoipa::path(
    tag = "approvals",
    request_body = DelegationRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, body = DelegationResponse),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, description = "Not an admin of the delegating organisation", body = ErrorEnvelope),
        (status = 415, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/delegations")]
pub async fn create_delegation(state: web::Data<AppState>, write: Write) -> Result<HttpResponse, AppError> {
    let request: DelegationRequest = write.parse()?;
    write
        .run(&state, move |conn, actor| {
            let created = service::create_delegation(conn, actor, &request)?;
            let location = format!("/api/v1/delegations/{}", created.delegation_id);
            Reply::created(&created, location)
        })
        .await
}

/// `POST /api/v1/delegations/{id}/revoke` — end a delegation.
#[utoipa::path(
    tag = "approvals",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = RevokeRequest, description = "Optional reason"),
    responses(
        (status = 200, body = DelegationResponse),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, description = "Already revoked", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/delegations/{id}/revoke")]
pub async fn revoke_delegation(
    state: web::Data<AppState>,
    creds: Credentials,
    key: IdempotencyKey,
    req: HttpRequest,
    path: web::Path<String>,
    body: OptionalJson,
) -> Result<HttpResponse, AppError> {
    let bytes = body.0.unwrap_or_default();
    let request: RevokeRequest = if bytes.is_empty() { RevokeRequest { reason: None } } else { parse_body(&bytes)? };
    let fingerprint = idempotency::fingerprint(&req, &bytes);
    let id = path.into_inner();
    idempotency::handle(&state, creds, key, fingerprint, move |conn, actor| {
        let revoked = service::revoke_delegation(conn, actor, &id, request.reason.as_deref())?;
        Reply::new(StatusCode::OK, &revoked)
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DelegationQuery {
    /// Only delegations from or to this organisation.
    pub org: Option<String>,
}

/// `GET /api/v1/delegations` — every delegation; they are public records.
#[utoipa::path(tag = "approvals", params(DelegationQuery), responses((status = 200, body = DelegationList)))]
#[get("/delegations")]
pub async fn list_delegations(
    state: web::Data<AppState>,
    query: web::Query<DelegationQuery>,
) -> Result<HttpResponse, AppError> {
    let org = query.into_inner().org;
    if let Some(org) = &org {
        if state.lookup.snapshot().org_index(org).is_none() {
            return Err(crate::organisations::service::unknown_org(org));
        }
    }
    let rows = state.db.run(move |conn| store::delegations(conn, org.as_deref())).await?;
    Ok(HttpResponse::Ok().json(DelegationList { delegations: rows.iter().map(service::delegation_response).collect() }))
}

/// `POST /api/v1/services/{service_id}/decisions` — approve, approve with conditions, or reject.
///
/// 403 when the caller may not decide for `org` (not its approver, or an
/// Itsam approver without a delegation in force) or submitted or wrote a
/// revision of the service. 409 when the revision fails a blocking rule (for
/// an approval), when a live decision exists for the service, organisation
/// and revision, or when the revision is not the one under review. 422 for a
/// rejection without reason, conditions missing or misplaced, or a
/// `valid_until` in the past or beyond the review interval.
#[utoipa::path(
    tag = "approvals",
    params(("service_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = DecisionRequest,
    responses(
        (status = 201, body = DecisionCreated),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/services/{service_id}/decisions")]
pub async fn decide(
    state: web::Data<AppState>,
    write: Write,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let request: DecisionRequest = write.parse()?;
    let service_id = path.into_inner();
    write
        .run(&state, move |conn, actor| {
            let created = service::decide(conn, actor, &service_id, &request)?;
            let location = format!("/api/v1/decisions/{}", created.decision_id);
            Reply::created(&created, location)
        })
        .await
}

/// `POST /api/v1/decisions/{decision_id}/revoke` — end a decision, with a reason.
#[utoipa::path(
    tag = "approvals",
    params(("decision_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = RevokeDecisionRequest,
    responses(
        (status = 200, body = DecisionRevoked),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/decisions/{decision_id}/revoke")]
pub async fn revoke_decision(
    state: web::Data<AppState>,
    write: Write,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let request: RevokeDecisionRequest = write.parse()?;
    let decision_id = path.into_inner();
    write
        .run(&state, move |conn, actor| {
            let revoked = service::revoke_decision(conn, actor, &decision_id, &request.reason)?;
            Reply::new(StatusCode::OK, &revoked)
        })
        .await
}
