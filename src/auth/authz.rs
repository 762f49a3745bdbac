//! The one authorization function. Access is denied unless a rule below
//! grants it. Every request that reads or changes protected data calls
//! `can` inside its transaction, after loading the object.

use super::model::{Actor, Role};
use crate::error::AppError;

/// A service as authorization sees it.
#[derive(Debug, Clone, Copy)]
pub struct ServiceRef<'a> {
    /// The organisation that owns the service.
    pub org: &'a str,
    /// Whether any revision has been submitted for review (then every
    /// organisation in the deployment may see it).
    pub has_submitted: bool,
}

#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// Create a service (and its first revision) for an organisation.
    CreateService { org: &'a str },
    /// See a service, its submitted revisions and decisions.
    ViewService(ServiceRef<'a>),
    /// See the service's draft revisions.
    ViewDrafts(ServiceRef<'a>),
    /// Add a revision to a service.
    AddRevision(ServiceRef<'a>),
}

/// Decides one action. A denial on an object the caller may not even see is
/// a 404, exactly like an object that does not exist.
pub fn can(actor: &Actor, action: Action<'_>) -> Result<(), AppError> {
    let allowed = match action {
        Action::CreateService { org } => actor.is_member_of(org) && actor.has(Role::Coordinator),
        Action::ViewService(service) => {
            if !visible(actor, service) {
                return Err(AppError::NotFound);
            }
            true
        }
        Action::ViewDrafts(service) => actor.is_member_of(service.org),
        Action::AddRevision(service) => {
            if !visible(actor, service) {
                return Err(AppError::NotFound);
            }
            actor.is_member_of(service.org) && actor.has(Role::Coordinator)
        }
    };
    if allowed { Ok(()) } else { Err(AppError::Forbidden("not permitted")) }
}

/// Members of the owning organisation see everything; others see a service
/// once a revision of it has been submitted for review.
fn visible(actor: &Actor, service: ServiceRef<'_>) -> bool {
    actor.is_member_of(service.org) || service.has_submitted
}
