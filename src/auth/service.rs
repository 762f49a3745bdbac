//! Use cases for people, roles and tokens. Each runs in one write transaction
//! with one audit event per change.

use chrono::{Duration, NaiveDateTime};

use super::model::{Actor, OrgKind, Role, parse_person_name};
use super::store::{self, ApiTokenRow, RoleGrantRow, UserRow};
use crate::audit::{self, AuditAction, NewEvent};
use crate::db::{self, DbConnection};
use crate::error::AppError;
use crate::organisations;

/// Prefix of every API token, so that secret scanners can recognise one.
pub const TOKEN_PREFIX: &str = "tillit_pat_";

/// Longest lifetime of an API token.
pub const MAX_TOKEN_DAYS: u32 = 365;

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn random_hex(bytes: usize) -> Result<String, AppError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| AppError::internal(format!("random source: {e}")))?;
    Ok(hex::encode(buf))
}

/// SHA-256 of a presented token; the only form in which tokens are stored.
pub fn hash_token(token: &str) -> String {
    crate::json::sha256_hex(token.as_bytes())
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
    let name = parse_person_name(name).map_err(|why| {
        AppError::field(
            "invalid_name",
            "/name",
            &format!("The name is not usable: {why}."),
            "Namnet går inte att använda.",
        )
    })?;
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
    let held = store::active_roles(conn, &user.id)?;
    let mut granted = Vec::new();
    for role in roles {
        if held.contains(role) || granted.contains(role) {
            continue;
        }
        let grant = RoleGrantRow {
            id: new_id(),
            user_id: user.id.clone(),
            role: role.as_str().to_string(),
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
            &format!("A token lives between 1 and {MAX_TOKEN_DAYS} days."),
            &format!("En token gäller mellan 1 och {MAX_TOKEN_DAYS} dagar."),
        ));
    }
    let secret = format!("{TOKEN_PREFIX}{}", random_hex(32)?);
    let now = db::now();
    let label: String = label.trim().chars().filter(|c| !c.is_control()).take(120).collect();
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
