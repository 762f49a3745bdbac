//! `GET /healthz`.

use actix_web::{HttpResponse, get, web};
use diesel::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, ErrorEnvelope};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the database answers.
    pub status: String,
    pub rule_set_version: String,
}

/// `GET /healthz` — 200 when the database answers, 503 otherwise.
#[utoipa::path(tag = "health", responses((status = 200, body = Health), (status = 503, body = ErrorEnvelope)))]
#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    state
        .db
        .run(|conn| {
            diesel::sql_query("SELECT 1").execute(conn).map_err(|e| {
                log::error!("health check: {e}");
                AppError::Unavailable
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(Health { status: "ok".into(), rule_set_version: state.policies().version().to_string() }))
}
