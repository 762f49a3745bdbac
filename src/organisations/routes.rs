use actix_web::{HttpResponse, get, web};

use super::dto::{OrganisationList, OrganisationResponse};
use super::store;
use crate::error::{AppError, ErrorEnvelope};
use crate::state::AppState;

/// `GET /api/v1/organisations` — every organisation and its AI function. Public.
#[utoipa::path(
    tag = "organisations",
    responses((status = 200, body = OrganisationList), (status = 503, body = ErrorEnvelope))
)]
#[get("/organisations")]
pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let rows = state.db.run(store::all).await?;
    Ok(HttpResponse::Ok()
        .json(OrganisationList { organisations: rows.into_iter().map(OrganisationResponse::from).collect() }))
}
