//! HTTP only: the audit log export and the chain head.

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::store;
use crate::auth::Credentials;
use crate::auth::authz::{self, Action};
use crate::error::{AppError, ErrorEnvelope};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Head {
    /// The sequence number of the last event (0 for an empty log).
    pub seq: i64,
    /// Its entry hash. Save both outside Tillit as a checkpoint:
    /// `tillit audit verify --checkpoint SEQ:HASH` proves the log still extends it.
    pub entry_hash: String,
}

/// `GET /api/v1/audit/head` — the head of the audit chain, to save as a checkpoint.
#[utoipa::path(tag = "audit", responses((status = 200, body = Head)))]
#[get("/audit/head")]
pub async fn head(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let (seq, entry_hash) = state.db.run(store::head).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(Head { seq, entry_hash }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ExportQuery {
    /// Start after this sequence number (default 0: from the beginning).
    pub after_seq: Option<i64>,
}

/// `GET /api/v1/audit` — the audit log as JSON lines, one event per line, in
/// chain order (auditors and admins). Streamed: memory stays flat.
#[utoipa::path(
    tag = "audit",
    params(ExportQuery),
    responses(
        (status = 200, description = "application/x-ndjson: one AuditEvent per line", body = super::model::AuditEvent, content_type = "application/x-ndjson"),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/audit")]
pub async fn export(
    state: web::Data<AppState>,
    creds: Credentials,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, AppError> {
    state
        .db
        .run(move |conn| {
            let actor = crate::auth::service::authenticate(conn, &creds.token_hash)?;
            authz::can(&actor, Action::ExportAudit)?;
            log::info!("audit export by user {} of {}", actor.user_id, actor.org_slug);
            Ok(())
        })
        .await?;
    let after = query.after_seq.unwrap_or(0).max(0);
    let headers = [("Cache-Control", "no-store".to_string())];
    Ok(crate::stream::respond(&state.db, "application/x-ndjson", &headers, move |conn, sink| {
        store::export_lines(conn, after, |line| Ok(sink.write(line)?)).map(|_| ())
    }))
}
