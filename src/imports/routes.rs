//! HTTP only: the import template and importing a file through the API.

use actix_web::{HttpResponse, get, post, web};
use futures_core::Stream;
use serde::Deserialize;
use utoipa::IntoParams;

use super::model::MAX_BYTES;
use super::service::{self, ImportReport};
use super::template;
use crate::auth::Credentials;
use crate::db;
use crate::error::{AppError, ErrorEnvelope};
use crate::lang::Lang;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplateQuery {
    /// The language of the column names and the instructions (Swedish when
    /// left out). A file in either language can be imported.
    #[param(inline)]
    pub lang: Option<Lang>,
}

/// `GET /api/v1/import-template.xlsx` — the template for importing an
/// inventory: one column per field, drop-down lists for choices, and a
/// sheet that explains each column. Public.
#[utoipa::path(
    tag = "imports",
    params(TemplateQuery),
    responses(
        (status = 200, description = "The template", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, description = "`lang` is neither `sv` nor `en`", body = ErrorEnvelope),
    )
)]
#[get("/import-template.xlsx")]
pub async fn import_template(query: web::Query<TemplateQuery>) -> Result<HttpResponse, AppError> {
    let lang = query.lang.unwrap_or(Lang::Sv);
    let bytes = web::block(move || template::workbook(lang)).await.map_err(|e| AppError::internal(e.to_string()))??;
    let name = if lang == Lang::En { "tillit-import-template.xlsx" } else { "tillit-importmall.xlsx" };
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}\"")))
        .body(bytes))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The organisation whose drafts the rows become.
    pub org: String,
}

/// Reads a request body of at most `limit` bytes.
pub(crate) async fn read_limited(
    mut body: impl Stream<Item = Result<web::Bytes, impl std::fmt::Display>> + Unpin,
    limit: usize,
) -> Result<Vec<u8>, AppError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_next(cx)).await {
        let chunk = chunk.map_err(|e| AppError::bad_request(format!("the body could not be read ({e})")))?;
        if bytes.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// `POST /api/v1/imports?org=SLUG` — imports an inventory: the body is the
/// `.xlsx` or CSV file itself, at most 5 MB. Each row becomes a draft of the
/// organisation, or updates the draft an earlier import of the same name
/// made. For the organisation's coordinators. A file that cannot be read
/// changes nothing.
#[utoipa::path(
    tag = "imports",
    params(ImportQuery),
    request_body(
        content = String,
        content_type = "application/octet-stream",
        description = "The `.xlsx` or CSV file itself, whatever the Content-Type says"
    ),
    responses(
        (status = 200, body = ImportReport),
        (status = 400, description = "`org` is missing, or the body could not be read", body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 413, body = ErrorEnvelope),
        (status = 422, description = "The file cannot be read as an inventory", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/imports")]
pub async fn import(
    state: web::Data<AppState>,
    creds: Credentials,
    query: web::Query<ImportQuery>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let org = query.into_inner().org;
    // Who asks, and whether they may import here, comes first: nobody else
    // makes the server read a file. The write checks both again.
    let (hash, wanted) = (creds.token_hash.clone(), org.clone());
    state
        .db
        .run(move |conn| {
            let actor = crate::auth::service::authenticate(conn, &hash)?;
            crate::organisations::service::require(conn, &wanted)?;
            crate::auth::authz::can(&actor, crate::auth::authz::Action::CreateService { org: &wanted })
        })
        .await?;
    let bytes = read_limited(body, MAX_BYTES).await?;
    let policies = state.policies();
    let report = state
        .db
        .run_committing(move |conn| {
            db::write(conn, |conn| {
                let actor = crate::auth::service::authenticate(conn, &creds.token_hash)?;
                service::import_file(conn, &actor, &policies, &org, &bytes)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(report))
}
