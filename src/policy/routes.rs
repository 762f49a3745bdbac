//! HTTP only: stateless evaluation and the rule set in force.

use actix_web::{HttpResponse, ResponseError, get, post, web};

use super::dto::{CheckInfo, InvalidEvaluation, RuleInfo, RuleSetResponse};
use super::model::{Evaluation, Verdict};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::RawJson;
use crate::i18n::Message;
use crate::state::AppState;

/// `POST /api/v1/evaluate` — evaluate a submission document. Public and
/// stateless: nothing is stored.
///
/// Answers 200 with the `tillit check` object when the document follows the
/// schema (verdict `pass` or `fail`), and 422 with the same object (verdict
/// `invalid`, every error with its pointer) plus the error envelope when it
/// does not.
#[utoipa::path(
    tag = "policies",
    request_body(content = crate::openapi::SubmissionDocument, content_type = "application/json"),
    responses(
        (status = 200, description = "Evaluated", body = Evaluation),
        (status = 400, description = "Not JSON", body = ErrorEnvelope),
        (status = 413, body = ErrorEnvelope),
        (status = 415, body = ErrorEnvelope),
        (status = 422, description = "The document fails the submission schema", body = InvalidEvaluation),
    )
)]
#[post("/evaluate")]
pub async fn evaluate(state: web::Data<AppState>, body: RawJson) -> Result<HttpResponse, AppError> {
    let policies = state.policies();
    let (_, evaluation) = policies
        .evaluate_bytes(&body.0)
        .map_err(|e| AppError::bad_request(format!("the body is not valid JSON: {e}")))?;
    if evaluation.verdict == Verdict::Invalid {
        let error = AppError::InvalidDocument(evaluation.errors.clone());
        let envelope = error.envelope();
        return Ok(
            HttpResponse::build(error.status_code()).json(InvalidEvaluation { evaluation, error: envelope.error })
        );
    }
    Ok(HttpResponse::Ok().json(evaluation))
}

/// `GET /api/v1/policies` — the rule set in force: its version, rules and checks.
#[utoipa::path(tag = "policies", responses((status = 200, body = RuleSetResponse)))]
#[get("/policies")]
pub async fn rule_set(state: web::Data<AppState>) -> HttpResponse {
    let policies = state.policies();
    let rules = policies
        .rules()
        .iter()
        .map(|r| RuleInfo {
            id: r.id.to_string(),
            title: r.title_sv.to_string(),
            title_en: r.title_en.to_string(),
            severity: r.severity,
            conditional: r.applies.is_some(),
            file: r.file.clone(),
            checks: r
                .checks
                .iter()
                .map(|c| CheckInfo {
                    id: c.id.to_string(),
                    message_sv: c.message_sv.to_string(),
                    message_en: c.message_en.to_string(),
                })
                .collect(),
        })
        .collect();
    HttpResponse::Ok().json(RuleSetResponse {
        name: policies.name().to_string(),
        rule_set_version: policies.version().to_string(),
        rules,
    })
}

/// `POST /api/v1/policies/reload` — read the policy directory again; if the
/// rule set changed, put it in force and start re-evaluating (deployment
/// operators only, `--operators`).
#[utoipa::path(
    tag = "policies",
    responses(
        (status = 200, description = "Unchanged", body = ReloadResponse),
        (status = 202, description = "Changed; re-evaluation started", body = ReloadResponse),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 409, description = "The policies are built in, or a new policy is invalid", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/policies/reload")]
pub async fn reload(
    state: web::Data<AppState>,
    creds: crate::auth::Credentials,
    _body: crate::http::NoBody,
) -> Result<HttpResponse, AppError> {
    let operators = state.settings.operators.clone();
    state
        .db
        .run(move |conn| {
            let actor = crate::auth::service::authenticate(conn, &creds.token_hash)?;
            // A deployment-wide act: no municipality's admin may do it.
            if operators.contains(&actor.user_id) {
                Ok(())
            } else {
                Err(AppError::Forbidden { why: "why-operator_reloads" })
            }
        })
        .await?;
    let Some(dir) = state.settings.policies_dir.clone() else {
        return Err(AppError::conflict("policies_built_in", Message::new("error-policies_built_in")));
    };
    let policies = super::load(Some(&dir)).map_err(|e| {
        AppError::conflict("invalid_policy", Message::new("error-invalid_policy").with("detail", e.to_string()))
    })?;
    if policies.version() == state.policies().version() {
        return Ok(HttpResponse::Ok().json(ReloadResponse {
            changed: false,
            rule_set_version: policies.version().into(),
            job: None,
        }));
    }
    // On record before it is in force, so that the evaluations stored under
    // it from the first request on are stored in the lean form.
    let policies = state
        .db
        .run(move |conn| {
            super::reevaluate::register_rule_set(conn, &policies)?;
            Ok(policies)
        })
        .await?;
    state.replace_policies(policies);
    let started = state.spawn_reevaluation()?;
    Ok(HttpResponse::Accepted().json(ReloadResponse {
        changed: true,
        rule_set_version: state.policies().version().into(),
        job: Some(started),
    }))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ReloadResponse {
    pub changed: bool,
    pub rule_set_version: String,
    pub job: Option<super::reevaluate::JobStatus>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct JobList {
    pub jobs: Vec<super::reevaluate::JobStatus>,
}

/// `GET /api/v1/policies/jobs` — re-evaluation jobs and their progress.
#[utoipa::path(tag = "policies", responses((status = 200, body = JobList)))]
#[get("/policies/jobs")]
pub async fn jobs(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let rows = state.db.run(super::reevaluate::jobs).await?;
    Ok(HttpResponse::Ok().json(JobList { jobs: rows.iter().map(super::reevaluate::JobStatus::from).collect() }))
}

/// `GET /api/v1/policies/jobs/{id}` — one job's progress: done, total, rate and ETA.
#[utoipa::path(tag = "policies", params(("id" = String, Path)), responses((status = 200, body = super::reevaluate::JobStatus), (status = 404, body = ErrorEnvelope)))]
#[get("/policies/jobs/{id}")]
pub async fn job(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let row = state.db.run(move |conn| super::reevaluate::job(conn, &id)).await?.ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok().json(super::reevaluate::JobStatus::from(&row)))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct DriftQuery {
    /// The earlier rule-set version, for example `2026.1+3f9a2c1b7d0e`.
    #[param(
        min_length = 1,
        max_length = 80,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]{1,80}$"
    )]
    pub from: String,
    /// The later rule-set version (default: the one in force).
    #[param(
        min_length = 1,
        max_length = 80,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]{1,80}$"
    )]
    pub to: Option<String>,
}

/// `GET /api/v1/policies/drift?from=V1&to=V2` — what changed between two rule-set versions, per rule and per service (auditors and admins).
#[utoipa::path(tag = "policies", params(DriftQuery), responses((status = 200, body = super::drift::DriftReport), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)), security(("bearer" = [])))]
#[get("/policies/drift")]
pub async fn drift(
    state: web::Data<AppState>,
    creds: crate::auth::Credentials,
    query: web::Query<DriftQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let to = query.to.unwrap_or_else(|| state.policies().version().to_string());
    for version in [&query.from, &to] {
        if version.is_empty()
            || version.chars().count() > 80
            || version.chars().any(|c| c.is_control() || crate::json::is_forbidden_char(c))
        {
            return Err(AppError::field("invalid_version", "/from", Message::new("error-invalid_version")));
        }
    }
    let report = state
        .db
        .run(move |conn| {
            let actor = crate::auth::service::authenticate(conn, &creds.token_hash)?;
            crate::auth::authz::can(&actor, crate::auth::authz::Action::ExportAudit)?;
            super::drift::drift(conn, &query.from, &to)
        })
        .await?;
    Ok(HttpResponse::Ok().json(report))
}
