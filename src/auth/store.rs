//! Rows and queries for people, role grants and API tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::model::Role;
use crate::audit::Audited;
use crate::db::DbConnection;
use crate::db::schema::{api_tokens, organisations, role_grants, users};
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub org_slug: String,
    pub name: String,
    /// Random salt, so that the audit digest of this row cannot be used to
    /// guess the person's name.
    pub salt: String,
    pub created_at: NaiveDateTime,
    pub deactivated_at: Option<NaiveDateTime>,
}

impl Audited for UserRow {
    const TABLE: &'static str = "users";
    fn audit_id(&self) -> String {
        self.id.clone()
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = role_grants)]
pub struct RoleGrantRow {
    pub id: String,
    pub user_id: String,
    pub role: Role,
    pub granted_at: NaiveDateTime,
    pub granted_by: Option<String>,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_by: Option<String>,
}

impl Audited for RoleGrantRow {
    const TABLE: &'static str = "role_grants";
    fn audit_id(&self) -> String {
        self.id.clone()
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = api_tokens)]
pub struct ApiTokenRow {
    pub id: String,
    pub user_id: String,
    /// SHA-256 of the secret; the secret itself is never stored.
    pub token_hash: String,
    pub label: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

impl Audited for ApiTokenRow {
    const TABLE: &'static str = "api_tokens";
    fn audit_id(&self) -> String {
        self.id.clone()
    }
}

pub fn find_user_by_name(conn: &mut DbConnection, org: &str, name: &str) -> Result<Option<UserRow>, AppError> {
    Ok(users::table
        .filter(users::org_slug.eq(org))
        .filter(users::name.eq(name))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_user(conn: &mut DbConnection, id: &str) -> Result<Option<UserRow>, AppError> {
    Ok(users::table.filter(users::id.eq(id)).select(UserRow::as_select()).first(conn).optional()?)
}

pub fn users_of(conn: &mut DbConnection, org: &str) -> Result<Vec<UserRow>, AppError> {
    Ok(users::table.filter(users::org_slug.eq(org)).order(users::name.asc()).select(UserRow::as_select()).load(conn)?)
}

pub fn insert_user(conn: &mut DbConnection, row: &UserRow) -> Result<(), AppError> {
    diesel::insert_into(users::table).values(row).execute(conn)?;
    Ok(())
}

pub fn active_grants(conn: &mut DbConnection, user_id: &str) -> Result<Vec<RoleGrantRow>, AppError> {
    Ok(role_grants::table
        .filter(role_grants::user_id.eq(user_id))
        .filter(role_grants::revoked_at.is_null())
        .order(role_grants::role.asc())
        .select(RoleGrantRow::as_select())
        .load(conn)?)
}

pub fn active_roles(conn: &mut DbConnection, user_id: &str) -> Result<Vec<Role>, AppError> {
    let mut roles: Vec<Role> = active_grants(conn, user_id)?.iter().map(|g| g.role).collect();
    roles.sort();
    Ok(roles)
}

pub fn insert_grant(conn: &mut DbConnection, row: &RoleGrantRow) -> Result<(), AppError> {
    diesel::insert_into(role_grants::table).values(row).execute(conn)?;
    Ok(())
}

pub fn revoke_grant(conn: &mut DbConnection, id: &str, at: NaiveDateTime, by: Option<&str>) -> Result<usize, AppError> {
    Ok(diesel::update(role_grants::table.filter(role_grants::id.eq(id)).filter(role_grants::revoked_at.is_null()))
        .set((role_grants::revoked_at.eq(Some(at)), role_grants::revoked_by.eq(by)))
        .execute(conn)?)
}

pub fn find_grant(conn: &mut DbConnection, id: &str) -> Result<Option<RoleGrantRow>, AppError> {
    Ok(role_grants::table.filter(role_grants::id.eq(id)).select(RoleGrantRow::as_select()).first(conn).optional()?)
}

pub fn insert_token(conn: &mut DbConnection, row: &ApiTokenRow) -> Result<(), AppError> {
    diesel::insert_into(api_tokens::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find_token(conn: &mut DbConnection, id: &str) -> Result<Option<ApiTokenRow>, AppError> {
    Ok(api_tokens::table.filter(api_tokens::id.eq(id)).select(ApiTokenRow::as_select()).first(conn).optional()?)
}

pub fn tokens_of(conn: &mut DbConnection, user_id: &str) -> Result<Vec<ApiTokenRow>, AppError> {
    Ok(api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .order(api_tokens::created_at.asc())
        .select(ApiTokenRow::as_select())
        .load(conn)?)
}

pub fn revoke_token(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> Result<usize, AppError> {
    Ok(diesel::update(api_tokens::table.filter(api_tokens::id.eq(id)).filter(api_tokens::revoked_at.is_null()))
        .set(api_tokens::revoked_at.eq(Some(at)))
        .execute(conn)?)
}

/// The live token with this hash, its person and the person's organisation kind.
pub fn find_live_token(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<(ApiTokenRow, UserRow, String)>, AppError> {
    Ok(api_tokens::table
        .inner_join(users::table.inner_join(organisations::table))
        .filter(api_tokens::token_hash.eq(token_hash))
        .filter(api_tokens::revoked_at.is_null())
        .filter(api_tokens::expires_at.gt(now))
        .filter(users::deactivated_at.is_null())
        .select((ApiTokenRow::as_select(), UserRow::as_select(), organisations::kind))
        .first(conn)
        .optional()?)
}

pub fn deactivate_user(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> Result<usize, AppError> {
    Ok(diesel::update(users::table.filter(users::id.eq(id)).filter(users::deactivated_at.is_null()))
        .set(users::deactivated_at.eq(Some(at)))
        .execute(conn)?)
}
