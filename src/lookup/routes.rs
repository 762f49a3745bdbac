//! HTTP only: the public lookup API.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::dto::LookupResponse;
use super::service;
use crate::auth::MaybeCredentials;
use crate::error::{AppError, ErrorEnvelope};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct LookupQuery {
    /// A name, alias, vendor or domain; a pasted URL works too. Case,
    /// diacritics, spaces, hyphens and punctuation are ignored, and small
    /// typos are forgiven. At most 200 characters, not only spaces, and no
    /// control or text-direction characters.
    #[param(
        required = true,
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*[^\s\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$"
    )]
    pub q: Option<String>,
    /// An organisation's slug. Without it, the status in every organisation.
    #[param(pattern = r"^[a-z0-9-]{2,40}$")]
    pub org: Option<String>,
    /// At most this many matches (default 10, at most 50).
    pub limit: Option<usize>,
}

/// `GET /api/v1/lookup?q=TEXT&org=SLUG` — "Får jag använda X?". Public.
///
/// Services marked `internal_only` are shown to signed-in callers only;
/// `withheld` ones and drafts never.
#[utoipa::path(
    tag = "lookup",
    params(LookupQuery),
    responses(
        (status = 200, body = LookupResponse),
        (status = 404, description = "Unknown organisation", body = ErrorEnvelope),
        (status = 422, description = "Missing or unusable query", body = ErrorEnvelope),
        (status = 429, description = "Too many requests from this client; see Retry-After", body = ErrorEnvelope),
    )
)]
#[get("/lookup")]
pub async fn lookup(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<LookupQuery>,
    creds: MaybeCredentials,
) -> Result<HttpResponse, AppError> {
    state.rate_limit(&req)?;
    let query = query.into_inner();
    let signed_in = match creds.0 {
        None => false,
        Some(creds) => {
            state.db.run(move |conn| crate::auth::service::authenticate(conn, &creds.token_hash)).await?;
            true
        }
    };
    let q = query.q.as_deref().unwrap_or_default();
    let answer = service::lookup_json(&state.lookup, q, query.org.as_deref(), signed_in, query.limit.unwrap_or(10))?;
    if let (Some(unanswered), Some(org)) = (&answer.unanswered, query.org.as_deref()) {
        state.demand.count(org, q, unanswered, crate::swedish::today());
    }
    let cache = if signed_in { "private, no-store" } else { "public, max-age=5" };
    let answer = HttpResponse::Ok()
        .insert_header(header::ContentType::json())
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static(cache)))
        .body(answer.body);
    Ok(answer)
}
