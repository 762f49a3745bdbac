//! HTTP only: stateless evaluation and the rule set in force.

use actix_web::{HttpResponse, ResponseError, get, post, web};

use super::dto::{CheckInfo, InvalidEvaluation, RuleInfo, RuleSetResponse};
use super::model::{Evaluation, Verdict};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::RawJson;
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
