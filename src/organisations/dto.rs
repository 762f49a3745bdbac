use serde::Serialize;
use utoipa::ToSchema;

use super::model::OrganisationRow;

/// An organisation as the public sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationResponse {
    #[schema(example = "kinda")]
    pub slug: String,
    pub name: String,
    pub kind: super::model::OrgKind,
    /// The AI function that decides for this organisation.
    pub function_name: String,
    pub function_email: String,
}

impl From<OrganisationRow> for OrganisationResponse {
    fn from(row: OrganisationRow) -> Self {
        OrganisationResponse {
            slug: row.slug,
            name: row.name,
            kind: row.kind,
            function_name: row.function_name,
            function_email: row.function_email,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationList {
    pub organisations: Vec<OrganisationResponse>,
}
