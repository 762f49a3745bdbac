//! Wire types for delegations and decisions.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::model::{Condition, DecisionKind};

/// `POST /api/v1/delegations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelegationRequest {
    /// The delegating municipality.
    #[schema(example = "kinda", pattern = "^[a-z0-9-]{2,40}$")]
    pub org: String,
    /// The federation that may decide for it.
    #[schema(example = "itsam", pattern = "^[a-z0-9-]{2,40}$")]
    pub delegate: String,
    /// The municipality's decision (diarienummer).
    #[schema(example = "KS 2026/114")]
    pub decision_reference: String,
    /// First day in force (YYYY-MM-DD).
    #[schema(example = "2026-01-01", format = Date)]
    pub valid_from: String,
    /// Last day in force, or null for open-ended.
    #[schema(format = Date)]
    pub valid_until: Option<String>,
    /// `all`: every service.
    #[schema(example = "all")]
    pub scope: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DelegationResponse {
    pub delegation_id: String,
    pub org: String,
    pub delegate: String,
    pub decision_reference: String,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub scope: String,
    /// Whether the delegation is in force today.
    pub in_force: bool,
    pub created_at: String,
    pub revoked_at: Option<String>,
    pub revocation_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DelegationList {
    pub delegations: Vec<DelegationResponse>,
}

/// `POST /api/v1/services/{service_id}/decisions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// The organisation the decision is for.
    #[schema(example = "kinda", pattern = "^[a-z0-9-]{2,40}$")]
    pub org: String,
    /// The revision under review.
    #[schema(minimum = 1)]
    pub revision: i32,
    pub decision: DecisionKind,
    /// Required for `approved_with_conditions`, empty otherwise.
    #[serde(default)]
    #[schema(value_type = Vec<Condition>)]
    pub conditions: Vec<Value>,
    /// Required for a rejection.
    pub reason: Option<String>,
    /// Last day the approval is valid (YYYY-MM-DD). Defaults to the review
    /// interval of the revision; may not be later.
    #[schema(format = Date)]
    pub valid_until: Option<String>,
    /// The decision's reference (diarienummer).
    pub decision_reference: Option<String>,
    /// The reason in plain words for everyone (shown on the public pages and
    /// the lookup's answer); `reason` stays internal.
    #[serde(default)]
    pub public_reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeDecisionRequest {
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionCreated {
    pub decision_id: String,
    pub service_id: String,
    pub org: String,
    pub revision: i32,
    pub decision: DecisionKind,
    /// Whether the decision was taken by a federation under a delegation.
    pub via_delegation: bool,
    pub delegation_id: Option<String>,
    /// The organisation whose AI function decided.
    pub deciding_org: String,
    pub valid_until: Option<String>,
    pub decided_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionRevoked {
    pub decision_id: String,
    pub service_id: String,
    pub revoked_at: String,
}

/// A condition with its plain-language wording.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConditionView {
    #[serde(flatten)]
    pub condition: Condition,
    pub text_sv: String,
    pub text_en: String,
}

/// An organisation's current decision on a service.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    pub decision_id: String,
    pub org: String,
    pub revision: i32,
    pub decision: String,
    pub conditions: Vec<ConditionView>,
    pub reason: Option<String>,
    pub valid_until: Option<String>,
    pub decision_reference: Option<String>,
    pub deciding_org: String,
    /// The deciding AI function (never a person).
    pub deciding_function: String,
    pub via_delegation: bool,
    pub delegation_reference: Option<String>,
    pub rule_set_version: String,
    pub decided_at: String,
    pub revoked_at: Option<String>,
    pub revocation_reason: Option<String>,
    /// Whether valid_until has passed.
    pub expired: bool,
    /// The rule set changed and the revision now does worse: review again.
    pub needs_re_review: bool,
}
