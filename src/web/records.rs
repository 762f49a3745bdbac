//! The auditors' pages: the compliance report (a filter form whose result is
//! the same streamed report as the API's, as CSV, CSV for Excel, JSON or a
//! print-ready page) and the audit log, newest first, with the chain head.
//! Both need the auditor or admin role, checked by the same rule as the API.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde_json::{Value, json};

use super::workspace::{error_page, page, signed_in, to_login, user_view};
use super::{lang_of, url_query_pairs};
use crate::auth::authz::{self, Action};
use crate::auth::sessions;
use crate::db::schema::users;
use crate::db::{self};
use crate::error::AppError;
use crate::reports::routes::ReportQuery;
use crate::state::AppState;

/// `GET /reports` — the report's filters, for auditors and admins.
pub async fn reports_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let web = match signed_in(&state, &req).await {
        Ok(Some(web)) => web,
        Ok(None) => return to_login(&req),
        Err(e) => return error_page(&state, &req, &e),
    };
    if let Err(e) = authz::can(&web.actor, Action::ExportReports) {
        return error_page(&state, &req, &e);
    }
    let lang = lang_of(&req);
    let orgs: Vec<Value> =
        state.lookup.snapshot().orgs.iter().map(|o| json!({"slug": o.slug, "name": o.name})).collect();
    let statuses: Vec<Value> = ["allowed", "allowed_with_conditions", "not_allowed", "expired", "not_assessed"]
        .iter()
        .map(|s| json!({"value": s, "label": state.views.text(lang, &format!("status_{s}"))}))
        .collect();
    let context = json!({"user": user_view(&state, lang, &web), "orgs": orgs, "statuses": statuses});
    page(&state, &req, lang, "reports", "reports_title", context)
}

/// `GET /reports/compliance` — the report itself, for a signed-in auditor.
/// Empty form fields mean "no filter".
pub async fn report(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Some(id) = req.cookie(sessions::SESSION_COOKIE).map(|c| c.value().to_string()) else {
        return to_login(&req);
    };
    let fields: HashMap<String, String> =
        url_query_pairs(req.query_string()).into_iter().filter(|(_, v)| !v.trim().is_empty()).collect();
    let expiring = match fields.get("expiring_within_days").map(|v| v.trim().parse::<i64>()) {
        Some(Ok(days)) => Some(days),
        Some(Err(_)) => {
            let e = AppError::field(
                "invalid_request",
                "/expiring_within_days",
                "Write the number of days as a whole number.",
                "Skriv antalet dagar som ett heltal.",
            );
            return error_page(&state, &req, &e);
        }
        None => None,
    };
    let query = ReportQuery {
        org: fields.get("org").cloned(),
        status: fields.get("status").cloned(),
        risk_class: fields.get("risk_class").cloned(),
        expiring_within_days: expiring,
        as_of: fields.get("as_of").cloned(),
        format: fields.get("format").cloned(),
    };
    let result = crate::reports::routes::respond(&state, query, move |conn| {
        sessions::authenticate(conn, &id).map(|web| web.actor)
    })
    .await;
    match result {
        Ok(response) => response,
        Err(AppError::Unauthorized) => to_login(&req),
        Err(e) => error_page(&state, &req, &e),
    }
}

const AUDIT_PAGE: i64 = 50;

/// `GET /audit-log?before=SEQ` — the audit log, newest first, 50 at a time.
pub async fn audit_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let web = match signed_in(&state, &req).await {
        Ok(Some(web)) => web,
        Ok(None) => return to_login(&req),
        Err(e) => return error_page(&state, &req, &e),
    };
    if let Err(e) = authz::can(&web.actor, Action::ExportAudit) {
        return error_page(&state, &req, &e);
    }
    let lang = lang_of(&req);
    let before = super::query_param(&req, "before").and_then(|b| b.parse::<i64>().ok()).filter(|b| *b > 0);
    let loaded = state
        .db
        .run(move |conn| {
            db::read(conn, |conn| {
                let head = crate::audit::store::head(conn)?;
                let events = crate::audit::store::latest(conn, before, AUDIT_PAGE)?;
                let ids: Vec<String> = events.iter().filter_map(|e| e.actor_id.clone()).collect();
                let names: HashMap<String, String> = users::table
                    .filter(users::id.eq_any(&ids))
                    .select((users::id, users::name))
                    .load::<(String, String)>(conn)?
                    .into_iter()
                    .collect();
                Ok((head, events, names))
            })
        })
        .await;
    let ((head_seq, head_hash), events, names) = match loaded {
        Ok(x) => x,
        Err(e) => return error_page(&state, &req, &e),
    };
    let next = events.last().map(|e| e.seq).filter(|seq| *seq > 1);
    let rows: Vec<Value> = events
        .iter()
        .map(|e| {
            let subjects: Vec<String> = serde_json::from_str::<Value>(&e.subjects)
                .ok()
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default()
                .iter()
                .map(|s| {
                    format!(
                        "{} {}",
                        s.get("t").and_then(Value::as_str).unwrap_or(""),
                        s.get("id").and_then(Value::as_str).unwrap_or("")
                    )
                })
                .collect();
            json!({
                "seq": e.seq,
                "at": db::rfc3339(&e.occurred_at),
                "action": e.action,
                "org": e.org_slug,
                "actor": e.actor_id.as_ref().map(|id| names.get(id).cloned().unwrap_or_else(|| id.clone())),
                "via_delegation": e.via_delegation_id.is_some(),
                "subjects": subjects,
                "hash": e.entry_hash.get(..16).unwrap_or(""),
            })
        })
        .collect();
    let context = json!({
        "user": user_view(&state, lang, &web),
        "head_seq": head_seq,
        "head_hash": head_hash,
        "events": rows,
        "next_before": next,
    });
    page(&state, &req, lang, "audit", "audit_title", context)
}
