//! The approvers' pages: the start page with what waits for a decision,
//! the service page, its forms (submit a revision, decide, revoke a
//! decision), and the organisation's delegations.

mod delegations;
mod service;
mod start;

pub use delegations::{create_delegation, delegations_page, revoke_delegation};
pub use service::service_page;
pub use start::start_page;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::approvals;
use crate::error::AppError;
use crate::i18n::Message;
use crate::state::AppState;
use crate::web::session::{FormPost, checked_form, error_page, field, no_store, see_other, write_as_session};
use crate::web::{html, lang_of, pick};
use service::{load_service_page, service_context};

/// `POST /services/{id}/revisions/{n}/submit` — a coordinator submits the
/// latest draft for review; from then on it is frozen and every
/// organisation can see it.
pub async fn submit(post: FormPost, path: web::Path<(String, i32)>) -> HttpResponse {
    let lang = post.lang();
    let (service_id, number) = path.into_inner();
    post.run(move |conn, web, _| {
        crate::submissions::service::submit_revision(conn, &web.actor, &service_id, number)?;
        Ok(format!("/services/{}?submitted=1&lang={lang}", crate::web::encode(&service_id)))
    })
    .await
}

/// The decision request a form describes; the service checks it as it
/// checks the API's.
pub(super) fn decision_request(fields: &[(String, String)]) -> Result<approvals::dto::DecisionRequest, AppError> {
    let text = |name: &str| field(fields, name).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let lines = |name: &str| -> Vec<String> {
        field(fields, name)
            .map(|v| v.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect())
            .unwrap_or_default()
    };
    let mut conditions = Vec::new();
    if let Some(class) = text("information_class_max") {
        conditions.push(json!({"type": "information_class_max", "value": class}));
    }
    if field(fields, "no_personal_data").is_some() {
        conditions.push(json!({"type": "no_personal_data", "value": true}));
    }
    if field(fields, "no_special_category_data").is_some() {
        conditions.push(json!({"type": "no_special_category_data", "value": true}));
    }
    let tasks = lines("permitted_tasks");
    if !tasks.is_empty() {
        conditions.push(json!({"type": "permitted_tasks", "value": tasks}));
    }
    let settings = lines("required_settings");
    if !settings.is_empty() {
        conditions.push(json!({"type": "required_settings", "value": settings}));
    }
    if let Some(other) = text("other_condition") {
        conditions.push(json!({"type": "other", "value": other}));
    }
    let revision: i32 = text("revision")
        .and_then(|r| r.parse().ok())
        .ok_or_else(|| AppError::field("invalid_request", "/revision", Message::new("error-choose_revision")))?;
    let request = json!({
        "org": text("org").unwrap_or_default(),
        "revision": revision,
        "decision": text("decision").unwrap_or_default(),
        "conditions": conditions,
        "reason": text("reason"),
        // The form offers a valid-until date for an approval; a rejection has
        // none, so the pre-filled date is not held against the person.
        "valid_until": if text("decision").as_deref() == Some("rejected") { None } else { text("valid_until") },
        "decision_reference": text("decision_reference"),
        "public_reason": text("public_reason"),
    });
    serde_json::from_value(request)
        .map_err(|_| AppError::field("invalid_request", "/decision", Message::new("error-choose_decision")))
}

/// `POST /services/{id}/decide` — the decision form.
pub async fn decide(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (web, fields) = match checked_form(&state, &req, &body).await {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    let lang = lang_of(&req);
    let service_id = path.into_inner();
    let outcome = match decision_request(&fields) {
        Ok(request) => {
            let id = service_id.clone();
            write_as_session(&state, &req, move |conn, current| {
                approvals::service::decide(conn, &current.actor, &id, &request)
            })
            .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => no_store(see_other(&format!("/services/{}?decided=1", crate::web::encode(&service_id)))),
        Err(AppError::Unauthorized) => see_other("/login"),
        Err(error) => {
            // Shown on the same page, next to the form, with what was wrong.
            let status = actix_web::ResponseError::status_code(&error);
            let envelope = error.envelope();
            let mut message = pick(lang, &envelope.error.message_sv, &envelope.error.message);
            for d in &envelope.error.details {
                let detail = pick(lang, &d.message_sv, &d.message);
                if !message.contains(&detail) {
                    message.push_str(&format!(" {detail}"));
                }
            }
            // What was typed stays, and each message stands beside its field.
            let typed: serde_json::Map<String, Value> = DECISION_FIELDS
                .iter()
                .map(|name| (name.to_string(), json!(field(&fields, name).unwrap_or(""))))
                .collect();
            let field_errors: serde_json::Map<String, Value> = envelope
                .error
                .details
                .iter()
                .filter_map(|d| {
                    let name = d.pointer.trim_start_matches('/').split('/').next()?;
                    let name = if name == "conditions" { "other_condition" } else { name };
                    (!name.is_empty()).then(|| (name.to_string(), json!(pick(lang, &d.message_sv, &d.message))))
                })
                .collect();
            match load_service_page(&state, &web, service_id, None).await {
                Ok(loaded) => {
                    let mut context = service_context(&state, lang, &web, &loaded);
                    if let Some(map) = context.as_object_mut() {
                        map.insert("decided".into(), json!(false));
                        map.insert("submitted".into(), json!(false));
                        map.insert("created".into(), Value::Null);
                        map.insert("error".into(), json!(message));
                        map.insert("typed".into(), Value::Object(typed));
                        map.insert("field_errors".into(), Value::Object(field_errors));
                    }
                    let title = state.views.text(lang, "service_title");
                    match state.views.render(&req, lang, "service", &title, &context) {
                        Ok(body) => no_store(html(status, body)),
                        Err(e) => error_page(&state, &req, &e),
                    }
                }
                Err(_) => error_page(&state, &req, &error),
            }
        }
    }
}

/// The fields of the decision form.
pub(super) const DECISION_FIELDS: &[&str] = &[
    "org",
    "decision",
    "information_class_max",
    "no_personal_data",
    "no_special_category_data",
    "permitted_tasks",
    "required_settings",
    "other_condition",
    "reason",
    "valid_until",
    "decision_reference",
    "public_reason",
];

/// `POST /decisions/{id}/revoke` — an approver revokes a decision with a
/// reason, as `POST /api/v1/decisions/{id}/revoke` does.
pub async fn revoke_decision(post: FormPost, path: web::Path<String>) -> HttpResponse {
    let lang = post.lang();
    let decision_id = path.into_inner();
    post.run(move |conn, web, fields| {
        let reason = field(fields, "reason").unwrap_or("").trim().to_string();
        let revoked = approvals::service::revoke_decision(conn, &web.actor, &decision_id, &reason)?;
        Ok(format!("/services/{}?revoked=1&lang={lang}", crate::web::encode(&revoked.service_id)))
    })
    .await
}
