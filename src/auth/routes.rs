//! HTTP only: people, roles and tokens, managed by an organisation's admins.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::dto::{PeopleList, PersonRequest, PersonResponse, RoleRequest, TokenIssued, TokenRequest, TokenRevoked};
use super::model::Role;
use super::{Credentials, service};
use crate::error::{AppError, ErrorEnvelope};
use crate::idempotency::{EmptyWrite, Reply, Write};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct PeopleQuery {
    /// The organisation's slug.
    pub org: String,
}

/// `GET /api/v1/people?org=SLUG` — the people of an organisation and their roles (admins).
#[utoipa::path(
    tag = "people",
    params(PeopleQuery),
    responses((status = 200, body = PeopleList), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)),
    security(("bearer" = []))
)]
#[get("/people")]
pub async fn list_people(
    state: web::Data<AppState>,
    creds: Credentials,
    query: web::Query<PeopleQuery>,
) -> Result<HttpResponse, AppError> {
    let org = query.into_inner().org;
    let people = state
        .db
        .run(move |conn| {
            crate::db::read(conn, |conn| {
                let actor = service::authenticate(conn, &creds.token_hash)?;
                service::list_people(conn, &actor, &org)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(PeopleList { people }))
}

/// `POST /api/v1/people` — add a person to an organisation (or find them by name) with roles.
#[utoipa::path(
    tag = "people",
    request_body = PersonRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, body = PersonResponse), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/people")]
pub async fn add_person(state: web::Data<AppState>, write: Write) -> Result<HttpResponse, AppError> {
    let request: PersonRequest = write.parse()?;
    write
        .run(&state, move |conn, actor| {
            let person = service::add_person(conn, actor, &request)?;
            Reply::created(&person, format!("/api/v1/people/{}", person.person_id))
        })
        .await
}

/// `POST /api/v1/people/{id}/roles` — grant a role. An admin cannot make themself an approver.
#[utoipa::path(
    tag = "people",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = RoleRequest,
    responses(
        (status = 200, body = PersonResponse), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/people/{id}/roles")]
pub async fn grant_role(
    state: web::Data<AppState>,
    write: Write,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let request: RoleRequest = write.parse()?;
    let id = path.into_inner();
    write
        .run(&state, move |conn, actor| {
            Reply::new(StatusCode::OK, &service::grant_role(conn, actor, &id, request.role)?)
        })
        .await
}

/// `POST /api/v1/people/{id}/roles/{role}/revoke` — revoke a role.
#[utoipa::path(
    tag = "people",
    params(("id" = String, Path), ("role" = Role, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, body = PersonResponse), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/people/{id}/roles/{role}/revoke")]
pub async fn revoke_role(
    state: web::Data<AppState>,
    write: EmptyWrite,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, role) = path.into_inner();
    let role = Role::parse(&role).ok_or(AppError::NotFound)?;
    write
        .0
        .run(&state, move |conn, actor| Reply::new(StatusCode::OK, &service::revoke_role(conn, actor, &id, role)?))
        .await
}

/// `POST /api/v1/people/{id}/deactivate` — deactivate a person; their tokens stop working.
#[utoipa::path(
    tag = "people",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, body = PersonResponse), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/people/{id}/deactivate")]
pub async fn deactivate_person(
    state: web::Data<AppState>,
    write: EmptyWrite,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    write
        .0
        .run(&state, move |conn, actor| Reply::new(StatusCode::OK, &service::deactivate_person(conn, actor, &id)?))
        .await
}

/// `POST /api/v1/people/{id}/tokens` — issue a token (the person themself, or an admin).
#[utoipa::path(
    tag = "people",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = TokenRequest,
    responses(
        (status = 201, body = TokenIssued), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/people/{id}/tokens")]
pub async fn issue_token(
    state: web::Data<AppState>,
    write: Write,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let request: TokenRequest = write.parse()?;
    let id = path.into_inner();
    write
        .run(&state, move |conn, actor| {
            let issued = service::issue_token(conn, actor, &id, &request)?;
            let mut reply = Reply::created(&issued, format!("/api/v1/tokens/{}", issued.token_id))?;
            // The secret is shown once: a replay of this request answers without it.
            reply.shown_once = &["token"];
            Ok(reply)
        })
        .await
}

/// `POST /api/v1/tokens/{id}/revoke` — revoke a token at once.
#[utoipa::path(
    tag = "people",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, body = TokenRevoked), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/tokens/{id}/revoke")]
pub async fn revoke_token(
    state: web::Data<AppState>,
    write: EmptyWrite,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    write
        .0
        .run(&state, move |conn, actor| Reply::new(StatusCode::OK, &service::revoke_token(conn, Some(actor), &id)?))
        .await
}
