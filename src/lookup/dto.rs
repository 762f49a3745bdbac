//! Wire types of the lookup. Only these fields ever leave the server on the
//! public lookup: no person, no internal comment, no assessment detail.

use serde::Serialize;
use utoipa::ToSchema;

use super::index::{Field, MatchKind, Status};
use crate::approvals::dto::ConditionView;

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceSummary {
    pub id: String,
    pub name: String,
    pub vendor: String,
    pub aliases: Vec<String>,
}

/// A service's status in one organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgStatus {
    #[schema(example = "kinda")]
    pub org: String,
    pub org_name: String,
    pub status: Status,
    /// For `under_review`: the status of the earlier revision this
    /// organisation decided on (its name may differ; the new revision
    /// inherits nothing from it).
    pub decided_status: Option<Status>,
    /// For `allowed_with_conditions`: the conditions, with plain wording.
    pub conditions: Vec<ConditionView>,
    /// The AI function that decided (never a person).
    pub decided_by_function: Option<String>,
    pub via_delegation: bool,
    /// YYYY-MM-DD.
    pub decided_on: Option<String>,
    pub valid_until: Option<String>,
    /// The rule set changed and the approval is being reviewed again.
    pub needs_re_review: bool,
    /// The answer in plain Swedish, for example
    /// "Ja, men bara för allmänna och interna uppgifter, utan personuppgifter."
    pub answer_sv: String,
    pub answer_en: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LookupMatch {
    pub service: ServiceSummary,
    /// Which field matched: `name`, `alias`, `vendor` or `domain`.
    pub matched_on: Field,
    /// `exact`, `prefix` or `fuzzy`.
    #[serde(rename = "match")]
    pub match_kind: MatchKind,
    /// With `org`: the status there, flattened into the match.
    #[serde(flatten)]
    pub status: Option<OrgStatus>,
    /// Without `org`: the status in every organisation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statuses: Option<Vec<OrgStatus>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LookupResponse {
    pub query: String,
    pub org: Option<String>,
    /// Best match first.
    #[schema(value_type = Vec<DescribedMatch>)]
    pub matches: Vec<LookupMatch>,
}

/// How a match is described in the OpenAPI document: `LookupMatch` flattens
/// an optional status, which a generated schema cannot say, so the two
/// shapes an answer takes are described here instead (never built).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum DescribedMatch {
    /// With `org`: the status there, flattened into the match.
    InOrganisation(MatchInOrganisation),
    /// Without `org`: the status in every organisation.
    Everywhere(MatchEverywhere),
}

#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
struct MatchInOrganisation {
    service: ServiceSummary,
    /// Which field matched: `name`, `alias`, `vendor` or `domain`.
    matched_on: Field,
    /// `exact`, `prefix` or `fuzzy`.
    #[serde(rename = "match")]
    match_kind: MatchKind,
    #[serde(flatten)]
    status: OrgStatus,
}

#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
struct MatchEverywhere {
    service: ServiceSummary,
    /// Which field matched: `name`, `alias`, `vendor` or `domain`.
    matched_on: Field,
    /// `exact`, `prefix` or `fuzzy`.
    #[serde(rename = "match")]
    match_kind: MatchKind,
    /// The status in every organisation (an earlier revision's entry: only
    /// where it was decided on).
    statuses: Vec<OrgStatus>,
}
