//! People, roles and the authenticated actor.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Coordinator,
    Approver,
    Auditor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Coordinator, Role::Approver, Role::Auditor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Coordinator => "coordinator",
            Role::Approver => "approver",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

crate::db::text_enum!(Role);

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub use crate::organisations::model::OrgKind;

/// Who is making a request, as established inside the request's transaction.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: String,
    pub org_slug: String,
    pub org_kind: OrgKind,
    pub roles: Vec<Role>,
    pub token_id: String,
}

impl Actor {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn is_member_of(&self, org: &str) -> bool {
        self.org_slug == org
    }
}

/// A person's name as stored: trimmed, 1–120 characters, no control characters.
pub fn parse_person_name(name: &str) -> Result<String, &'static str> {
    let name = name.trim();
    if name.is_empty() {
        return Err("the name is empty");
    }
    if name.chars().count() > 120 {
        return Err("the name is longer than 120 characters");
    }
    if name.chars().any(|c| c.is_control() || crate::json::is_forbidden_char(c)) {
        return Err("the name contains control characters");
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("superuser"), None);
    }

    #[test]
    fn person_names_are_checked() {
        assert_eq!(parse_person_name("  Anna Andersson ").unwrap(), "Anna Andersson");
        assert!(parse_person_name("   ").is_err());
        assert!(parse_person_name("a\u{0}b").is_err());
        assert!(parse_person_name(&"x".repeat(121)).is_err());
    }
}
