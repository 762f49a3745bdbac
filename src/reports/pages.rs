//! The auditors' pages: the compliance report (a filter form whose result is
//! the same streamed report as the API's, as CSV, CSV for Excel, JSON or a
//! print-ready page) and the audit log, newest first, with the chain head.
//! Both need the auditor or admin role, checked by the same rule as the API.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::audit::AuditAction;
use crate::audit::log::{self as audit_log, LogFilter};
use crate::auth::authz::{self, Action};
use crate::auth::sessions;
use crate::error::AppError;
use crate::i18n::Message;
use crate::reports::routes::ReportQuery;
use crate::state::AppState;
use crate::web::session::{SignedIn, error_page, page, to_login, user_view};
use crate::web::{lang_of, url_query_pairs};

/// `GET /reports` — the report's filters, for auditors and admins.
pub async fn reports_page(state: web::Data<AppState>, req: HttpRequest, SignedIn(web): SignedIn) -> HttpResponse {
    if let Err(e) = authz::can(&web.actor, Action::ExportReports) {
        return error_page(&state, &req, &e);
    }
    let lang = lang_of(&req);
    let snapshot = state.lookup.snapshot();
    let mut orgs: Vec<(&str, &str)> = snapshot.orgs.iter().map(|o| (o.slug.as_str(), o.name.as_str())).collect();
    crate::swedish::SwedishOrder::new().sort_by_key(&mut orgs, |o| o.1);
    let orgs: Vec<Value> = orgs.iter().map(|(slug, name)| json!({"slug": slug, "name": name})).collect();
    let risk_classes: Vec<Value> = ["prohibited", "high_risk", "limited_transparency", "minimal", "not_ai_system"]
        .iter()
        .map(|c| json!({"value": c, "label": state.views.text(lang, &format!("value-{c}"))}))
        .collect();
    let statuses: Vec<Value> = ["allowed", "allowed_with_conditions", "not_allowed", "expired", "not_assessed"]
        .iter()
        .map(|s| json!({"value": s, "label": state.views.text(lang, &format!("status_{s}"))}))
        .collect();
    let context = json!({
        "user": user_view(&state, lang, &web),
        "orgs": orgs,
        "statuses": statuses,
        "risk_classes": risk_classes,
    });
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
            let e =
                AppError::field("invalid_request", "/expiring_within_days", Message::new("error-days_whole_number"));
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
    let result = crate::reports::routes::respond(&state, query, lang_of(&req), move |conn| {
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

/// `GET /audit-log?service=&person=&action=&from=&until=&before=SEQ` — the
/// audit log, newest first, 50 at a time, with names beside ids.
pub async fn audit_page(state: web::Data<AppState>, req: HttpRequest, SignedIn(web): SignedIn) -> HttpResponse {
    if let Err(e) = authz::can(&web.actor, Action::ExportAudit) {
        return error_page(&state, &req, &e);
    }
    let lang = lang_of(&req);
    let fields: HashMap<String, String> = url_query_pairs(req.query_string())
        .into_iter()
        .map(|(k, v)| (k, v.trim().to_string()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let text = |key: &str| state.views.text(lang, key);
    // A day that is not a date is said beside its field, not ignored.
    let mut problems: Vec<Value> = Vec::new();
    let mut day = |name: &str| -> Option<chrono::NaiveDate> {
        let value = fields.get(name)?;
        match chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                problems.push(json!({"field": name, "message": text("audit_filter_bad_date")}));
                None
            }
        }
    };
    let filter = LogFilter {
        service: fields.get("service").cloned(),
        person: fields.get("person").cloned(),
        action: fields.get("action").and_then(|a| AuditAction::parse(a)),
        from: day("from"),
        until: day("until"),
    };
    let before = fields.get("before").and_then(|b| b.parse::<i64>().ok()).filter(|b| *b > 0);
    let query_filter = filter.clone();
    let loaded = state.db.run(move |conn| audit_log::page(conn, &query_filter, before, AUDIT_PAGE)).await;
    let page_data = match loaded {
        Ok(x) => x,
        Err(e) => return error_page(&state, &req, &e),
    };
    let rows: Vec<Value> = page_data
        .entries
        .iter()
        .map(|e| {
            let subjects: Vec<Value> = e
                .subjects
                .iter()
                .map(|s| {
                    json!({
                        "kind": text(&format!("audit_subject_{}", s.table)),
                        "name": s.name,
                        "version": s.revision.map(|n| crate::i18n::catalogue().format(lang, "report_version", &[("n", n.into())])),
                        "for_org": s.for_org,
                        "id": s.id,
                    })
                })
                .collect();
            json!({
                "seq": e.seq,
                "at": crate::swedish::local_minute(&e.occurred_at),
                "action": e.action.map(|a| action_label(&state, lang, a)).unwrap_or_else(|| e.action_code.clone()),
                "org": e.org_name.clone().or_else(|| e.org.clone()),
                "actor": e.actor_name.clone(),
                "actor_id": e.actor_id,
                "via_delegation": e.via_delegation,
                "subjects": subjects,
                "hash": e.entry_hash.get(..16).unwrap_or(""),
            })
        })
        .collect();
    let chosen = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let people: Vec<Value> = page_data
        .people
        .iter()
        .map(|(id, name)| json!({"value": id, "label": name, "selected": fields.get("person") == Some(id)}))
        .collect();
    let mut actions: Vec<(String, String)> =
        AuditAction::ALL.iter().map(|a| (a.as_str().to_string(), action_label(&state, lang, *a))).collect();
    crate::swedish::SwedishOrder::new().sort_by_key(&mut actions, |(_, label)| label.as_str());
    let actions: Vec<Value> = actions
        .iter()
        .map(|(code, label)| json!({"value": code, "label": label, "selected": fields.get("action") == Some(code)}))
        .collect();
    let matched: Vec<Value> =
        page_data.matched_services.iter().map(|(id, name)| json!({"id": id, "name": name})).collect();
    // The older page keeps the filters.
    let next_url = page_data.next_before.map(|before| {
        let mut pairs: Vec<String> = ["service", "person", "action", "from", "until"]
            .iter()
            .filter_map(|k| fields.get(*k).map(|v| format!("{k}={}", crate::web::encode(v))))
            .collect();
        pairs.push(format!("before={before}"));
        pairs.push(format!("lang={}", lang.as_str()));
        format!("/audit-log?{}", pairs.join("&"))
    });
    let filtered = ["service", "person", "action", "from", "until"].iter().any(|k| fields.contains_key(*k));
    let context = json!({
        "user": user_view(&state, lang, &web),
        "head_seq": page_data.head_seq,
        "head_hash": page_data.head_hash,
        "events": rows,
        "next_url": next_url,
        "filtered": filtered,
        "filter": {
            "service": chosen("service"),
            "from": chosen("from"),
            "until": chosen("until"),
            "people": people,
            "actions": actions,
            "problems": problems,
        },
        "matched_services": matched,
        "service_searched": fields.contains_key("service"),
    });
    page(&state, &req, lang, "audit", "audit_title", context)
}

/// An action's words ("Beslut registrerat") for the log.
fn action_label(state: &AppState, lang: crate::web::Lang, action: AuditAction) -> String {
    state.views.text(lang, &format!("audit_action_{}", action.as_str().replace('.', "_")))
}
