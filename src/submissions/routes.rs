//! HTTP only: services and their revisions.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};

use super::dto::{RevisionCreated, RevisionResponse, RevisionSubmitted, ServiceResponse};
use super::model::ParsedDocument;
use super::service;
use crate::auth::Credentials;
use crate::error::{AppError, ErrorEnvelope};
use crate::idempotency::{EmptyWrite, Reply, Write};
use crate::state::AppState;

/// Checks the token before the document is parsed, so that an anonymous
/// caller learns nothing from a write endpoint.
async fn require_actor(state: &AppState, creds: &Credentials) -> Result<(), AppError> {
    let creds = creds.clone();
    state.db.run(move |conn| crate::auth::service::authenticate(conn, &creds.token_hash).map(|_| ())).await
}

fn revision_location(created: &RevisionCreated) -> String {
    format!("/api/v1/services/{}/revisions/{}", created.service_id, created.revision)
}

/// `POST /api/v1/services` — create a service with its first revision.
///
/// The body is a submission document. It is evaluated against the rule set
/// and stored as a draft of the caller's organisation, with its evaluation.
#[utoipa::path(
    tag = "services",
    params(("Idempotency-Key" = Option<String>, Header)),
    request_body(content = crate::openapi::SubmissionDocument, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = RevisionCreated),
        (status = 400, description = "Not JSON", body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 413, body = ErrorEnvelope),
        (status = 415, body = ErrorEnvelope),
        (status = 422, description = "The document fails the submission schema", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/services")]
pub async fn create_service(state: web::Data<AppState>, write: Write) -> Result<HttpResponse, AppError> {
    require_actor(&state, write.credentials()).await?;
    let parsed = ParsedDocument::parse(&state.policies(), write.body())?;
    write
        .run(&state, move |conn, actor| {
            let created = service::create_service(conn, actor, &parsed, &[])?;
            Reply::created(&created, revision_location(&created))
        })
        .await
}

/// `POST /api/v1/services/{service_id}/revisions` — add a revision.
#[utoipa::path(
    tag = "services",
    params(("service_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = crate::openapi::SubmissionDocument, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = RevisionCreated),
        (status = 400, body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 413, body = ErrorEnvelope),
        (status = 415, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/services/{service_id}/revisions")]
pub async fn add_revision(
    state: web::Data<AppState>,
    write: Write,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    require_actor(&state, write.credentials()).await?;
    let parsed = ParsedDocument::parse(&state.policies(), write.body())?;
    let service_id = path.into_inner();
    write
        .run(&state, move |conn, actor| {
            let created = service::add_revision(conn, actor, &service_id, &parsed, &[])?;
            Reply::created(&created, revision_location(&created))
        })
        .await
}

/// `POST /api/v1/services/{service_id}/revisions/{revision}/submit` — submit the latest revision for review.
///
/// From then on the revision is frozen and every organisation in the
/// deployment may see it and decide on it.
#[utoipa::path(
    tag = "services",
    params(("service_id" = String, Path), ("revision" = i32, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, body = RevisionSubmitted),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Already submitted, or not the latest revision", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/services/{service_id}/revisions/{revision}/submit")]
pub async fn submit_revision(
    state: web::Data<AppState>,
    write: EmptyWrite,
    path: web::Path<(String, i32)>,
) -> Result<HttpResponse, AppError> {
    let (service_id, number) = path.into_inner();
    write
        .0
        .run(&state, move |conn, actor| {
            let submitted = service::submit_revision(conn, actor, &service_id, number)?;
            Reply::new(StatusCode::OK, &submitted)
        })
        .await
}

/// `GET /api/v1/services/{service_id}` — a service, its revisions and evaluations.
#[utoipa::path(
    tag = "services",
    params(("service_id" = String, Path)),
    responses(
        (status = 200, body = ServiceResponse),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/services/{service_id}")]
pub async fn get_service(
    state: web::Data<AppState>,
    creds: Credentials,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let service_id = path.into_inner();
    let in_force = state.policies();
    let response = state.db.run(move |conn| service::get_service(conn, &in_force, &creds, &service_id)).await?;
    Ok(HttpResponse::Ok().json(response))
}

/// `GET /api/v1/services/{service_id}/revisions/{revision}` — one revision with its document.
#[utoipa::path(
    tag = "services",
    params(("service_id" = String, Path), ("revision" = i32, Path)),
    responses(
        (status = 200, body = RevisionResponse),
        (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/services/{service_id}/revisions/{revision}")]
pub async fn get_revision(
    state: web::Data<AppState>,
    creds: Credentials,
    path: web::Path<(String, i32)>,
) -> Result<HttpResponse, AppError> {
    let (service_id, number) = path.into_inner();
    let in_force = state.policies();
    let response =
        state.db.run(move |conn| service::get_revision(conn, &in_force, &creds, &service_id, number)).await?;
    Ok(HttpResponse::Ok().json(response))
}
