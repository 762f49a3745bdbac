//! Wire types for people, roles and tokens.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::Role;

/// `POST /api/v1/people`: create a person, or reuse them by name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonRequest {
    #[schema(example = "kinda", pattern = "^[a-z0-9-]{2,40}$")]
    pub org: String,
    #[schema(example = "Karin Karlsson")]
    pub name: String,
    #[serde(default)]
    pub roles: Vec<Role>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    pub role: Role,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// What the token is for.
    #[serde(default)]
    pub label: Option<String>,
    /// Days until it expires (1–365, default 90).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 365)]
    pub days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonResponse {
    pub person_id: String,
    pub org: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub active: bool,
    pub created_at: String,
    /// True when this request created the person.
    pub created: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PeopleList {
    pub people: Vec<PersonResponse>,
}

/// A new token. The secret is shown once and never stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenIssued {
    pub token_id: String,
    pub person_id: String,
    pub expires_at: String,
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenRevoked {
    pub token_id: String,
    pub revoked_at: String,
}
