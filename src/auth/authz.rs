//! The one authorization function. Access is denied unless a rule below
//! grants it. Every request that reads or changes protected data calls `can`
//! inside its transaction, after loading the object, for JSON and HTML alike.

use super::model::{Actor, OrgKind, Role};
use crate::error::AppError;

/// A service as authorization sees it.
#[derive(Debug, Clone, Copy)]
pub struct ServiceRef<'a> {
    /// The organisation that owns the service.
    pub org: &'a str,
    /// Whether any revision has been submitted for review (then every
    /// organisation in the deployment may see it, so that each can decide).
    pub has_submitted: bool,
}

/// The authority under which a decision is taken for an organisation.
#[derive(Debug, Clone, Copy)]
pub struct DecisionRef<'a> {
    pub service: ServiceRef<'a>,
    /// The organisation the decision is for.
    pub for_org: &'a str,
    /// A delegation from `for_org` to the actor's federation that is in force
    /// today, if any.
    pub delegation_in_force: Option<&'a str>,
    /// Whether the actor created or submitted a revision of this service
    /// (separation of duties).
    pub actor_is_author: bool,
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
    /// Submit a revision for review.
    SubmitRevision(ServiceRef<'a>),
    /// Decide on a revision for an organisation.
    Decide(DecisionRef<'a>),
    /// Revoke a decision taken for an organisation.
    RevokeDecision(DecisionRef<'a>),
    /// Create or revoke a delegation from an organisation.
    ManageDelegations { org: &'a str },
    /// See and manage the people, roles and tokens of an organisation.
    ManagePeople { org: &'a str },
    /// Grant a role to a person of the actor's organisation.
    GrantRole { org: &'a str, person_id: &'a str, role: Role },
    /// Issue or revoke a token of a person.
    ManageTokens { org: &'a str, person_id: &'a str },
    /// Export the audit log.
    ExportAudit,
    /// Export compliance reports (which name the deciding person).
    ExportReports,
    /// See what the organisation's employees asked the lookup for in vain.
    SeeDemand { org: &'a str },
}

/// Refuses with the catalogue's reason `why` (a `why-…` message).
fn forbidden(why: &'static str) -> Result<(), AppError> {
    Err(AppError::Forbidden { why })
}

/// Decides one action. A denial about an object the caller may not even see
/// is a 404, exactly like an object that does not exist.
pub fn can(actor: &Actor, action: Action<'_>) -> Result<(), AppError> {
    match action {
        Action::CreateService { org } => {
            if actor.is_member_of(org) && actor.has(Role::Coordinator) {
                return Ok(());
            }
            forbidden("why-coordinators_create")
        }
        Action::ViewService(service) => visible(actor, service),
        Action::ViewDrafts(service) => {
            if actor.is_member_of(service.org) {
                return Ok(());
            }
            forbidden("why-drafts_private")
        }
        Action::AddRevision(service) | Action::SubmitRevision(service) => {
            visible(actor, service)?;
            if actor.is_member_of(service.org) && actor.has(Role::Coordinator) {
                return Ok(());
            }
            forbidden("why-coordinators_change")
        }
        Action::Decide(decision) | Action::RevokeDecision(decision) => {
            visible(actor, decision.service)?;
            if !actor.has(Role::Approver) {
                return forbidden("why-approvers_decide");
            }
            let own = actor.is_member_of(decision.for_org);
            let delegated = actor.org_kind == OrgKind::Federation && decision.delegation_in_force.is_some();
            if !own && !delegated {
                return forbidden("why-no_authority");
            }
            if matches!(action, Action::Decide(_)) && decision.actor_is_author {
                return forbidden("why-own_service");
            }
            Ok(())
        }
        Action::ManageDelegations { org } | Action::ManagePeople { org } => {
            if actor.is_member_of(org) && actor.has(Role::Admin) {
                return Ok(());
            }
            forbidden("why-admins_only")
        }
        Action::GrantRole { org, person_id, .. } => {
            if !(actor.is_member_of(org) && actor.has(Role::Admin)) {
                return forbidden("why-admins_only");
            }
            if person_id == actor.user_id {
                return forbidden("why-own_role");
            }
            Ok(())
        }
        Action::ManageTokens { org, person_id } => {
            if person_id == actor.user_id || (actor.is_member_of(org) && actor.has(Role::Admin)) {
                return Ok(());
            }
            forbidden("why-person_or_admins")
        }
        Action::ExportAudit => {
            if actor.has(Role::Auditor) || actor.has(Role::Admin) {
                return Ok(());
            }
            forbidden("why-auditors_export")
        }
        Action::SeeDemand { org } => {
            let role = actor.has(Role::Coordinator) || actor.has(Role::Approver) || actor.has(Role::Admin);
            if actor.is_member_of(org) && role {
                return Ok(());
            }
            forbidden("why-demand_own_org")
        }
        Action::ExportReports => {
            if actor.has(Role::Auditor) || actor.has(Role::Admin) {
                return Ok(());
            }
            forbidden("why-auditors_export")
        }
    }
}

/// Members of the owning organisation see everything; others see a service
/// once a revision of it has been submitted for review.
fn visible(actor: &Actor, service: ServiceRef<'_>) -> Result<(), AppError> {
    if actor.is_member_of(service.org) || service.has_submitted { Ok(()) } else { Err(AppError::NotFound) }
}
