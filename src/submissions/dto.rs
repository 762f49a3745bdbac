//! Wire types for services and revisions.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::policy::Evaluation;

/// Answer to creating a service or adding a revision.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionCreated {
    pub service_id: String,
    /// The owning organisation.
    pub org: String,
    pub revision: i32,
    /// `draft` until submitted for review.
    pub state: String,
    /// SHA-256 of the canonical document.
    pub document_sha256: String,
    pub evaluation: Evaluation,
}

/// One stored evaluation of a revision.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoredEvaluation {
    pub rule_set_version: String,
    pub verdict: String,
    /// RFC 3339 UTC.
    pub evaluated_at: String,
    pub outcome: Evaluation,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionSummary {
    pub revision: i32,
    pub state: String,
    pub name: String,
    pub vendor: String,
    pub document_sha256: String,
    pub created_at: String,
    pub submitted_at: Option<String>,
    /// The most recent evaluation (against the newest rule set it met).
    pub evaluation: Option<StoredEvaluation>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceResponse {
    pub id: String,
    pub org: String,
    pub created_at: String,
    /// Name and vendor from the newest revision the caller may see.
    pub name: String,
    pub vendor: String,
    /// The revisions the caller may see, oldest first.
    pub revisions: Vec<RevisionSummary>,
    /// Every organisation's current decision (the latest, live or revoked).
    pub decisions: Vec<crate::approvals::dto::DecisionView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionSubmitted {
    pub service_id: String,
    pub revision: i32,
    pub state: String,
    pub submitted_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionResponse {
    pub service_id: String,
    pub org: String,
    pub revision: i32,
    pub state: String,
    /// The document as submitted.
    #[schema(value_type = Object)]
    pub document: Value,
    pub document_sha256: String,
    pub created_at: String,
    pub submitted_at: Option<String>,
    /// Every evaluation of this revision, oldest first.
    pub evaluations: Vec<StoredEvaluation>,
}
