use serde::Serialize;
use utoipa::ToSchema;

use super::model::{Evaluation, Severity};
use crate::error::ErrorBody;

/// The answer to evaluating a document that fails the submission schema:
/// the `tillit check` object (verdict `invalid`, every error) together with
/// the standard error envelope, under status 422.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvalidEvaluation {
    #[serde(flatten)]
    pub evaluation: Evaluation,
    pub error: ErrorBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckInfo {
    pub id: String,
    pub message_sv: String,
    pub message_en: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleInfo {
    pub id: String,
    pub title: String,
    pub title_en: String,
    pub severity: Severity,
    /// Whether the rule has an applicability condition.
    pub conditional: bool,
    pub file: String,
    pub checks: Vec<CheckInfo>,
}

/// The rule set in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleSetResponse {
    pub name: String,
    pub rule_set_version: String,
    pub rules: Vec<RuleInfo>,
}
