use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::service::{self, DemandEntry};
use crate::auth::Credentials;
use crate::error::{AppError, ErrorEnvelope};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DemandQuery {
    /// The organisation's slug.
    pub org: String,
    /// The period, in days up to today (1 to 90; 30 when left out).
    pub days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DemandList {
    pub org: String,
    pub days: i64,
    /// Most asked first.
    pub questions: Vec<DemandEntry>,
}

/// `GET /api/v1/demand?org=SLUG&days=30` — what employees of the
/// organisation asked the lookup that it could not answer yes to (nothing
/// found, or a service not assessed there), most asked first. For the
/// organisation's coordinators, approvers and admins. No address or
/// person is stored with a question.
#[utoipa::path(
    tag = "organisations",
    params(DemandQuery),
    responses(
        (status = 200, body = DemandList),
        (status = 400, description = "`org` is missing, or `days` is not a whole number", body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/demand")]
pub async fn most_asked(
    state: web::Data<AppState>,
    creds: Credentials,
    query: web::Query<DemandQuery>,
) -> Result<HttpResponse, AppError> {
    let DemandQuery { org, days } = query.into_inner();
    if state.lookup.snapshot().org_index(&org).is_none() {
        return Err(crate::organisations::service::unknown_org(&org));
    }
    let days = days.unwrap_or(30).clamp(1, service::KEPT_DAYS);
    let counter = state.demand.clone();
    let questions = state
        .db
        .run(move |conn| {
            let actor = crate::auth::service::authenticate(conn, &creds.token_hash)?;
            let questions = service::most_asked(conn, &counter, &actor, &org, days, crate::swedish::today())?;
            Ok((org, questions))
        })
        .await?;
    let (org, questions) = questions;
    Ok(HttpResponse::Ok().json(DemandList { org, days, questions }))
}
