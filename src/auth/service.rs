//! Use cases for people, roles and tokens. Each runs in one write transaction
//! with one audit event per change.

use chrono::{Duration, NaiveDateTime};

use super::authz::{self, Action};
use super::dto::{PersonRequest, PersonResponse, TokenIssued, TokenRequest, TokenRevoked};
use super::model::{Actor, OrgKind, Role, parse_person_name};
use super::store::{self, ApiTokenRow, RoleGrantRow, UserRow};
use crate::audit::{self, AuditAction, NewEvent};
use crate::db::{self, DbConnection};
use crate::error::AppError;
use crate::i18n::Message;
use crate::ids::{hash_token, new_id};
use crate::organisations;

/// Prefix of every API token, so that secret scanners can recognise one.
pub const TOKEN_PREFIX: &str = "tillit_pat_";

/// Longest lifetime of an API token.
pub const MAX_TOKEN_DAYS: u32 = 365;

fn random_hex(bytes: usize) -> Result<String, AppError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| AppError::internal(format!("random source: {e}")))?;
    Ok(hex::encode(buf))
}

/// A newly issued token. `secret` is shown once and never stored.
#[derive(Debug)]
pub struct IssuedToken {
    pub token_id: String,
    pub user_id: String,
    pub user_created: bool,
    pub roles: Vec<Role>,
    pub expires_at: NaiveDateTime,
    pub secret: String,
}

/// Finds the person by name in the organisation or creates them.
pub fn find_or_create_person(
    conn: &mut DbConnection,
    org: &str,
    name: &str,
    by: Option<&str>,
) -> Result<(UserRow, bool), AppError> {
    let name = parse_person_name(name)
        .map_err(|why| AppError::field("invalid_name", "/name", Message::new("error-invalid_name").with("why", why)))?;
    organisations::service::require(conn, org)?;
    if let Some(user) = store::find_user_by_name(conn, org, &name)? {
        return Ok((user, false));
    }
    let user = UserRow {
        id: new_id(),
        org_slug: org.to_string(),
        name,
        salt: random_hex(16)?,
        created_at: db::now(),
        deactivated_at: None,
    };
    store::insert_user(conn, &user)?;
    audit::append(conn, NewEvent::new(AuditAction::PersonCreated, by, Some(org)).subject(&user))?;
    Ok((user, true))
}

/// Grants the roles the person does not already hold, one event per grant.
pub fn grant_roles(
    conn: &mut DbConnection,
    user: &UserRow,
    roles: &[Role],
    by: Option<&str>,
) -> Result<Vec<Role>, AppError> {
    if user.deactivated_at.is_some() && !roles.is_empty() {
        return Err(AppError::conflict("deactivated", Message::new("error-deactivated_no_role")));
    }
    let held = store::active_roles(conn, &user.id)?;
    let mut granted = Vec::new();
    for role in roles {
        if held.contains(role) || granted.contains(role) {
            continue;
        }
        let grant = RoleGrantRow {
            id: new_id(),
            user_id: user.id.clone(),
            role: *role,
            granted_at: db::now(),
            granted_by: by.map(str::to_string),
            revoked_at: None,
            revoked_by: None,
        };
        store::insert_grant(conn, &grant)?;
        audit::append(conn, NewEvent::new(AuditAction::RoleGranted, by, Some(&user.org_slug)).subject(&grant))?;
        granted.push(*role);
    }
    Ok(granted)
}

/// Who granted the person's live approver role (none when it came from the
/// command line, which acts as the operator).
pub fn approver_grantors(conn: &mut DbConnection, user_id: &str) -> Result<Vec<String>, AppError> {
    Ok(store::active_grants(conn, user_id)?
        .into_iter()
        .filter(|g| g.role == Role::Approver)
        .filter_map(|g| g.granted_by)
        .collect())
}

/// Longest label a token may have.
pub const MAX_LABEL_CHARS: usize = 120;

/// Issues a token for a person, one event.
pub fn issue_token_for(
    conn: &mut DbConnection,
    user: &UserRow,
    label: &str,
    days: u32,
    by: Option<&str>,
) -> Result<(ApiTokenRow, String), AppError> {
    if days == 0 || days > MAX_TOKEN_DAYS {
        return Err(AppError::field(
            "invalid_lifetime",
            "/days",
            Message::new("error-token_lifetime").with("max", MAX_TOKEN_DAYS),
        ));
    }
    let secret = format!("{TOKEN_PREFIX}{}", random_hex(32)?);
    let now = db::now();
    if label.trim().chars().count() > MAX_LABEL_CHARS {
        return Err(AppError::field(
            "invalid_label",
            "/label",
            Message::new("error-token_label").with("max", MAX_LABEL_CHARS),
        ));
    }
    let label: String = label.trim().chars().filter(|c| !c.is_control()).collect();
    let token = ApiTokenRow {
        id: new_id(),
        user_id: user.id.clone(),
        token_hash: hash_token(&secret),
        label: if label.is_empty() { "api".to_string() } else { label },
        created_at: now,
        expires_at: now + Duration::days(i64::from(days)),
        revoked_at: None,
    };
    store::insert_token(conn, &token)?;
    audit::append(conn, NewEvent::new(AuditAction::TokenIssued, by, Some(&user.org_slug)).subject(&token))?;
    Ok((token, secret))
}

/// `tillit token create`: the person (created if new), the roles (granted if
/// not held) and a new token, all in one transaction.
pub fn create_token(
    conn: &mut DbConnection,
    org: &str,
    name: &str,
    roles: &[Role],
    label: &str,
    days: u32,
) -> Result<IssuedToken, AppError> {
    db::write(conn, |conn| {
        let (user, user_created) = find_or_create_person(conn, org, name, None)?;
        grant_roles(conn, &user, roles, None)?;
        let (token, secret) = issue_token_for(conn, &user, label, days, None)?;
        Ok(IssuedToken {
            token_id: token.id,
            user_id: user.id.clone(),
            user_created,
            roles: store::active_roles(conn, &user.id)?,
            expires_at: token.expires_at,
            secret,
        })
    })
}

/// Establishes the actor from a presented token. Runs inside the request's
/// transaction, so a revoked token or role takes effect at once.
pub fn authenticate(conn: &mut DbConnection, token_hash: &str) -> Result<Actor, AppError> {
    let (token, user, kind) = store::find_live_token(conn, token_hash, db::now())?.ok_or(AppError::Unauthorized)?;
    let roles = store::active_roles(conn, &user.id)?;
    Ok(Actor {
        user_id: user.id,
        org_slug: user.org_slug,
        org_kind: OrgKind::parse(&kind).ok_or_else(|| AppError::internal("unknown organisation kind"))?,
        roles,
        token_id: token.id,
    })
}

/// The person who acts through a command (`tillit import --as NAME`): the
/// active person called `name` in `org`, or, without a name, the
/// organisation's only coordinator. The command's operator vouches for them,
/// as with `tillit role grant`; their roles still decide what they may do.
pub fn command_line_actor(conn: &mut DbConnection, org: &str, name: Option<&str>) -> Result<Actor, AppError> {
    let organisation = crate::organisations::service::require(conn, org)?;
    let user = match name {
        Some(name) => {
            store::find_user_by_name(conn, org, name)?.filter(|u| u.deactivated_at.is_none()).ok_or_else(|| {
                AppError::not_found("unknown_person", Message::new("error-unknown_person").with("name", name))
            })?
        }
        None => {
            let mut coordinators = Vec::new();
            for user in store::users_of(conn, org)?.into_iter().filter(|u| u.deactivated_at.is_none()) {
                if store::active_roles(conn, &user.id)?.contains(&Role::Coordinator) {
                    coordinators.push(user);
                }
            }
            match <[UserRow; 1]>::try_from(coordinators) {
                Ok([only]) => only,
                Err(_) => {
                    return Err(AppError::unprocessable("name_the_person", Message::new("error-name_the_person")));
                }
            }
        }
    };
    let roles = store::active_roles(conn, &user.id)?;
    Ok(Actor {
        user_id: user.id,
        org_slug: user.org_slug,
        org_kind: organisation.kind,
        roles,
        token_id: "command-line".to_string(),
    })
}

/// A person of the caller's organisation; anyone else's answers 404.
fn person_in_org(conn: &mut DbConnection, actor: &Actor, person_id: &str) -> Result<UserRow, AppError> {
    match store::find_user(conn, person_id)? {
        Some(user) if user.org_slug == actor.org_slug => Ok(user),
        _ => Err(AppError::NotFound),
    }
}

fn person_response(conn: &mut DbConnection, user: &UserRow, created: bool) -> Result<PersonResponse, AppError> {
    Ok(PersonResponse {
        person_id: user.id.clone(),
        org: user.org_slug.clone(),
        name: user.name.clone(),
        roles: store::active_roles(conn, &user.id)?,
        active: user.deactivated_at.is_none(),
        created_at: crate::db::rfc3339(&user.created_at),
        created,
    })
}

/// `POST /api/v1/people`: an admin adds a person (or finds them by name) and
/// grants roles.
pub fn add_person(conn: &mut DbConnection, actor: &Actor, request: &PersonRequest) -> Result<PersonResponse, AppError> {
    organisations::service::require(conn, &request.org)?;
    authz::can(actor, Action::ManagePeople { org: &request.org })?;
    let (user, created) = find_or_create_person(conn, &request.org, &request.name, Some(&actor.user_id))?;
    for role in &request.roles {
        authz::can(actor, Action::GrantRole { org: &user.org_slug, person_id: &user.id, role: *role })?;
    }
    grant_roles(conn, &user, &request.roles, Some(&actor.user_id))?;
    person_response(conn, &user, created)
}

pub fn list_people(conn: &mut DbConnection, actor: &Actor, org: &str) -> Result<Vec<PersonResponse>, AppError> {
    organisations::service::require(conn, org)?;
    authz::can(actor, Action::ManagePeople { org })?;
    let users = store::users_of(conn, org)?;
    users.iter().map(|u| person_response(conn, u, false)).collect()
}

pub fn grant_role(
    conn: &mut DbConnection,
    actor: &Actor,
    person_id: &str,
    role: Role,
) -> Result<PersonResponse, AppError> {
    let user = person_in_org(conn, actor, person_id)?;
    authz::can(actor, Action::GrantRole { org: &user.org_slug, person_id: &user.id, role })?;
    if grant_roles(conn, &user, &[role], Some(&actor.user_id))?.is_empty() {
        return Err(AppError::conflict("role_held", Message::new("error-role_held")));
    }
    person_response(conn, &user, false)
}

/// Revokes a role grant, one event.
pub fn revoke_role(
    conn: &mut DbConnection,
    actor: &Actor,
    person_id: &str,
    role: Role,
) -> Result<PersonResponse, AppError> {
    let user = person_in_org(conn, actor, person_id)?;
    authz::can(actor, Action::ManagePeople { org: &user.org_slug })?;
    revoke_role_of(conn, &user, role, Some(&actor.user_id))?;
    person_response(conn, &user, false)
}

pub fn revoke_role_of(conn: &mut DbConnection, user: &UserRow, role: Role, by: Option<&str>) -> Result<(), AppError> {
    let grant = store::active_grants(conn, &user.id)?
        .into_iter()
        .find(|g| g.role == role)
        .ok_or_else(|| AppError::conflict("role_not_held", Message::new("error-role_not_held")))?;
    if store::revoke_grant(conn, &grant.id, db::now(), by)? != 1 {
        return Err(AppError::conflict("role_not_held", Message::new("error-role_not_held")));
    }
    let grant = store::find_grant(conn, &grant.id)?.ok_or(AppError::NotFound)?;
    audit::append(conn, NewEvent::new(AuditAction::RoleRevoked, by, Some(&user.org_slug)).subject(&grant))?;
    Ok(())
}

/// Deactivates a person: their tokens stop working at once.
pub fn deactivate_person(conn: &mut DbConnection, actor: &Actor, person_id: &str) -> Result<PersonResponse, AppError> {
    let user = person_in_org(conn, actor, person_id)?;
    authz::can(actor, Action::ManagePeople { org: &user.org_slug })?;
    if user.deactivated_at.is_some() {
        return Err(AppError::conflict("already_deactivated", Message::new("error-already_deactivated")));
    }
    if store::deactivate_user(conn, &user.id, db::now())? != 1 {
        return Err(AppError::conflict("already_deactivated", Message::new("error-already_deactivated")));
    }
    let user = store::find_user(conn, &user.id)?.ok_or(AppError::NotFound)?;
    audit::append(
        conn,
        NewEvent::new(AuditAction::PersonDeactivated, Some(&actor.user_id), Some(&user.org_slug)).subject(&user),
    )?;
    person_response(conn, &user, false)
}

pub fn issue_token(
    conn: &mut DbConnection,
    actor: &Actor,
    person_id: &str,
    request: &TokenRequest,
) -> Result<TokenIssued, AppError> {
    let user = person_in_org(conn, actor, person_id)?;
    authz::can(actor, Action::ManageTokens { org: &user.org_slug, person_id: &user.id })?;
    if user.deactivated_at.is_some() {
        return Err(AppError::conflict("deactivated", Message::new("error-deactivated")));
    }
    let (token, secret) = issue_token_for(
        conn,
        &user,
        request.label.as_deref().unwrap_or("api"),
        request.days.unwrap_or(90),
        Some(&actor.user_id),
    )?;
    Ok(TokenIssued {
        token_id: token.id,
        person_id: user.id,
        expires_at: crate::db::rfc3339(&token.expires_at),
        token: secret,
    })
}

/// Revokes a token with immediate effect.
pub fn revoke_token(conn: &mut DbConnection, actor: Option<&Actor>, token_id: &str) -> Result<TokenRevoked, AppError> {
    let token = store::find_token(conn, token_id)?.ok_or(AppError::NotFound)?;
    let owner = store::find_user(conn, &token.user_id)?.ok_or(AppError::NotFound)?;
    if let Some(actor) = actor {
        if owner.org_slug != actor.org_slug {
            return Err(AppError::NotFound);
        }
        authz::can(actor, Action::ManageTokens { org: &owner.org_slug, person_id: &owner.id })?;
    }
    if token.revoked_at.is_some() {
        return Err(AppError::conflict("already_revoked", Message::new("error-token_revoked")));
    }
    let at = db::now();
    if store::revoke_token(conn, &token.id, at)? != 1 {
        return Err(AppError::conflict("already_revoked", Message::new("error-token_revoked")));
    }
    let token = store::find_token(conn, token_id)?.ok_or(AppError::NotFound)?;
    let by = actor.map(|a| a.user_id.as_str());
    audit::append(conn, NewEvent::new(AuditAction::TokenRevoked, by, Some(&owner.org_slug)).subject(&token))?;
    Ok(TokenRevoked { token_id: token.id, revoked_at: crate::db::rfc3339(&at) })
}
