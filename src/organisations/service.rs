use super::model::{DEFAULT_ORGANISATIONS, OrganisationRow};
use super::store;
use crate::audit::{self, AuditAction, NewEvent};
use crate::db::{self, DbConnection};
use crate::error::AppError;
use crate::i18n::Message;

/// Seeds the default organisations into an empty registry, one audit event
/// each. Does nothing once any organisation exists (they are editable data).
pub fn seed_defaults(conn: &mut DbConnection) -> Result<usize, AppError> {
    db::write(conn, |conn| {
        if store::count(conn)? > 0 {
            return Ok(0);
        }
        let now = db::now();
        for (slug, name, kind, function_name) in DEFAULT_ORGANISATIONS {
            let row = OrganisationRow {
                slug: slug.to_string(),
                name: name.to_string(),
                kind: *kind,
                function_name: function_name.to_string(),
                function_email: format!("ai-funktionen@{slug}.example.se"),
                created_at: now,
            };
            store::insert(conn, &row)?;
            audit::append(conn, NewEvent::new(AuditAction::OrganisationCreated, None, Some(slug)).subject(&row))?;
        }
        Ok(DEFAULT_ORGANISATIONS.len())
    })
}

/// Every organisation, by slug.
pub fn all(conn: &mut DbConnection) -> Result<Vec<OrganisationRow>, AppError> {
    store::all(conn)
}

/// The organisation with this slug, or a 404 that says which slug is unknown.
pub fn require(conn: &mut DbConnection, slug: &str) -> Result<OrganisationRow, AppError> {
    store::find(conn, slug)?.ok_or_else(|| unknown_org(slug))
}

/// 404 for an unknown organisation, saying which.
pub fn unknown_org(slug: &str) -> AppError {
    let shown: String = slug.chars().take(40).collect();
    AppError::not_found("unknown_organisation", Message::new("error-unknown_organisation").with("slug", shown))
}
