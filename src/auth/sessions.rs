//! Sign-in for people on the web pages: local passwords, hashed with
//! argon2id, and server-side sessions with a CSRF token each.
//!
//! The browser holds a random session id in a `__Host-` cookie; the database
//! holds only its SHA-256, so a copy of the database cannot be used to sign
//! in. A session ends after [`IDLE_TIMEOUT`] without use, after
//! [`ABSOLUTE_LIFETIME`] whatever happens, or at sign-out.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::model::{Actor, OrgKind};
use super::store;
use crate::db::schema::{organisations, password_credentials, users, web_sessions};
use crate::db::{self, DbConnection};
use crate::error::AppError;
use crate::i18n::Message;
use crate::ids::hash_token;

/// The session cookie. `__Host-` makes the browser insist on Secure, Path=/
/// and no Domain, so no sibling host can set or read it.
pub const SESSION_COOKIE: &str = "__Host-tillit_session";
/// A session not used for this long has ended.
pub const IDLE_TIMEOUT: Duration = Duration::minutes(30);
/// No session lives longer than a working day.
pub const ABSOLUTE_LIFETIME: Duration = Duration::hours(10);
/// `last_seen_at` is written at most this often, so that reading pages does
/// not turn into a write per request.
const TOUCH_EVERY: Duration = Duration::seconds(60);

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A person's password credential. The audit chain records the digest of
/// the whole row (never the hash itself), so a changed hash is tampering.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = password_credentials)]
pub struct PasswordRow {
    pub user_id: String,
    pub org_slug: String,
    pub username: String,
    pub password_hash: String,
    pub updated_at: NaiveDateTime,
}

impl crate::audit::Audited for PasswordRow {
    const TABLE: &'static str = "password_credentials";
    fn audit_id(&self) -> String {
        self.user_id.clone()
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = web_sessions)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
}

/// argon2id with the parameters OWASP recommends as a minimum (19 MiB, two
/// passes, one lane).
fn hasher() -> Result<Argon2<'static>, AppError> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| AppError::internal(format!("argon2 params: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// A password as accepted: 12–256 characters, not only spaces.
pub fn check_password_rules(password: &str) -> Result<(), AppError> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) || password.trim().is_empty() {
        return Err(AppError::field(
            "invalid_password",
            "/password",
            Message::new("error-password_length").with("min", MIN_PASSWORD_CHARS).with("max", MAX_PASSWORD_CHARS),
        ));
    }
    Ok(())
}

/// The argon2id PHC string of a password, with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, AppError> {
    check_password_rules(password)?;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AppError::internal(format!("random salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AppError::internal(format!("salt: {e}")))?;
    Ok(hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| AppError::internal(format!("argon2: {e}")))?
        .to_string())
}

/// Whether the password matches the stored PHC string.
pub fn verify_password(stored: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return false };
    hasher().is_ok_and(|h| h.verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A user name for signing in: 2–64 of `a-z 0-9 . _ -`, compared in lower case.
pub fn parse_username(username: &str) -> Result<String, AppError> {
    let username = username.trim().to_lowercase();
    let ok = (2..=64).contains(&username.len())
        && username.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(username)
    } else {
        Err(AppError::field("invalid_username", "/username", Message::new("error-invalid_username")))
    }
}

/// Gives a person of `org` a local password and a user name (`tillit
/// password set`). The person must exist; an existing password is replaced,
/// and every session of the person ends.
pub fn set_password(
    conn: &mut DbConnection,
    org: &str,
    name: &str,
    username: &str,
    password: &str,
) -> Result<String, AppError> {
    let username = parse_username(username)?;
    let hash = hash_password(password)?;
    db::write(conn, |conn| {
        let user = store::find_user_by_name(conn, org, name)?.ok_or(AppError::NotFound)?;
        if user.deactivated_at.is_some() {
            return Err(AppError::conflict("deactivated", Message::new("error-deactivated")));
        }
        let taken: Option<String> = password_credentials::table
            .filter(password_credentials::org_slug.eq(org))
            .filter(password_credentials::username.eq(&username))
            .select(password_credentials::user_id)
            .first(conn)
            .optional()?;
        if taken.as_deref().is_some_and(|id| id != user.id) {
            return Err(AppError::conflict("username_taken", Message::new("error-username_taken")));
        }
        let now = db::now();
        diesel::delete(password_credentials::table.filter(password_credentials::user_id.eq(&user.id))).execute(conn)?;
        let row = PasswordRow {
            user_id: user.id.clone(),
            org_slug: org.to_string(),
            username: username.clone(),
            password_hash: hash.clone(),
            updated_at: now,
        };
        crate::on_backend!(&mut *conn, |c| diesel::insert_into(password_credentials::table).values(&row).execute(c))?;
        end_sessions_of(conn, &user.id, now)?;
        // Set or replaced by the operator (the command line): the chain holds the row's digest only.
        crate::audit::append(
            conn,
            crate::audit::NewEvent::new(crate::audit::AuditAction::PasswordSet, None, Some(org)).subject(&row),
        )?;
        Ok(user.id)
    })
}

fn end_sessions_of(conn: &mut DbConnection, user_id: &str, now: NaiveDateTime) -> Result<usize, AppError> {
    Ok(diesel::update(
        web_sessions::table.filter(web_sessions::user_id.eq(user_id)).filter(web_sessions::ended_at.is_null()),
    )
    .set(web_sessions::ended_at.eq(now))
    .execute(conn)?)
}

fn random_hex(bytes: usize) -> Result<String, AppError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| AppError::internal(format!("random: {e}")))?;
    Ok(hex::encode(buf))
}

/// A new session: the id goes to the browser, never to the database.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub csrf_token: String,
    pub user_id: String,
}

/// Why a sign-in failed. The page says the same thing for every reason,
/// so that it cannot be used to find out which user names exist.
#[derive(Debug)]
pub enum SignInError {
    WrongCredentials,
    Other(AppError),
}

impl From<AppError> for SignInError {
    fn from(e: AppError) -> Self {
        SignInError::Other(e)
    }
}

/// A PHC string that never matches, verified when the user name is unknown
/// so that a wrong user name takes as long as a wrong password.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3wNu5DZfmm0KtQ9Kt7/CxMx1KjGlnrvCRpdvb3MlhGw";

/// Checks a user name and password of `org` and opens a new session. The
/// password check runs outside any transaction (it takes tens of
/// milliseconds on purpose); the session is written in one.
pub fn sign_in(conn: &mut DbConnection, org: &str, username: &str, password: &str) -> Result<NewSession, SignInError> {
    let Ok(username) = parse_username(username) else { return Err(SignInError::WrongCredentials) };
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(SignInError::WrongCredentials);
    }
    let found: Option<(PasswordRow, Option<NaiveDateTime>)> = password_credentials::table
        .inner_join(users::table.on(users::id.eq(password_credentials::user_id)))
        .filter(password_credentials::org_slug.eq(org))
        .filter(password_credentials::username.eq(&username))
        .select((PasswordRow::as_select(), users::deactivated_at))
        .first(conn)
        .optional()
        .map_err(AppError::from)?;
    let Some((credential, None)) = found else {
        let _ = verify_password(DUMMY_HASH, password);
        return Err(SignInError::WrongCredentials);
    };
    if !verify_password(&credential.password_hash, password) {
        return Err(SignInError::WrongCredentials);
    }
    let (session, row) = new_session(&credential.user_id)?;
    db::write(conn, |conn| insert_session(conn, &row))?;
    Ok(session)
}

/// A new session for a person: the id for the browser, and the row (which
/// holds only the id's hash).
pub(crate) fn new_session(user_id: &str) -> Result<(NewSession, SessionRow), AppError> {
    let id = random_hex(32)?;
    let csrf_token = random_hex(32)?;
    let now = db::now();
    let row = SessionRow {
        id_hash: hash_token(&id),
        user_id: user_id.to_string(),
        csrf_token: csrf_token.clone(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + ABSOLUTE_LIFETIME,
        ended_at: None,
    };
    Ok((NewSession { id, csrf_token, user_id: user_id.to_string() }, row))
}

/// Stores a session row, inside the caller's write transaction.
pub(crate) fn insert_session(conn: &mut DbConnection, row: &SessionRow) -> Result<(), AppError> {
    crate::on_backend!(&mut *conn, |c| diesel::insert_into(web_sessions::table).values(row).execute(c))?;
    Ok(())
}

/// A signed-in person, as the pages need them.
#[derive(Debug, Clone)]
pub struct WebActor {
    pub actor: Actor,
    pub name: String,
    pub org_name: String,
    pub csrf_token: String,
    /// The session's last use was recorded more than a minute ago.
    pub needs_touch: bool,
}

/// The person behind a session cookie, inside the caller's transaction: an
/// ended, expired or idle session, or a deactivated person, is signed out.
/// Reads only; [`touch`] records the use.
pub fn authenticate(conn: &mut DbConnection, session_id: &str) -> Result<WebActor, AppError> {
    let now = db::now();
    let id_hash = hash_token(session_id);
    let found: Option<(SessionRow, store::UserRow, String, String)> = web_sessions::table
        .inner_join(users::table.on(users::id.eq(web_sessions::user_id)))
        .inner_join(organisations::table.on(organisations::slug.eq(users::org_slug)))
        .filter(web_sessions::id_hash.eq(&id_hash))
        .select((SessionRow::as_select(), store::UserRow::as_select(), organisations::kind, organisations::name))
        .first(conn)
        .optional()?;
    let Some((session, user, kind, org_name)) = found else { return Err(AppError::Unauthorized) };
    let live = session.ended_at.is_none()
        && session.expires_at > now
        && session.last_seen_at + IDLE_TIMEOUT > now
        && user.deactivated_at.is_none();
    if !live {
        return Err(AppError::Unauthorized);
    }
    let needs_touch = session.last_seen_at + TOUCH_EVERY < now;
    let roles = store::active_roles(conn, &user.id)?;
    Ok(WebActor {
        actor: Actor {
            user_id: user.id.clone(),
            org_slug: user.org_slug.clone(),
            org_kind: OrgKind::parse(&kind).ok_or_else(|| AppError::internal("unknown organisation kind"))?,
            roles,
            token_id: format!("session:{}", &id_hash[..16]),
        },
        name: user.name,
        org_name,
        csrf_token: session.csrf_token,
        needs_touch,
    })
}

/// Records that a session was used now (for the idle timeout). A write of
/// its own, so that reading a page never upgrades a read transaction.
pub fn touch(conn: &mut DbConnection, session_id: &str) -> Result<(), AppError> {
    let id_hash = hash_token(session_id);
    db::write(conn, |conn| {
        diesel::update(web_sessions::table.filter(web_sessions::id_hash.eq(&id_hash)))
            .filter(web_sessions::ended_at.is_null())
            .set(web_sessions::last_seen_at.eq(db::now()))
            .execute(conn)?;
        Ok(())
    })
}

/// Ends a session (sign-out). Ending one that has already ended is fine.
pub fn sign_out(conn: &mut DbConnection, session_id: &str) -> Result<(), AppError> {
    let id_hash = hash_token(session_id);
    db::write(conn, |conn| {
        diesel::update(web_sessions::table.filter(web_sessions::id_hash.eq(&id_hash)))
            .filter(web_sessions::ended_at.is_null())
            .set(web_sessions::ended_at.eq(db::now()))
            .execute(conn)?;
        Ok(())
    })
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("korrekt häst batteri").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password(&hash, "korrekt häst batteri"));
        assert!(!verify_password(&hash, "korrekt häst batterI"));
        assert!(!verify_password("not a phc string", "x"));
        assert!(!verify_password(DUMMY_HASH, "korrekt häst batteri"));
        assert_ne!(hash, hash_password("korrekt häst batteri").unwrap(), "every hash has its own salt");
    }

    #[test]
    fn password_and_username_rules() {
        assert!(check_password_rules("kort").is_err());
        assert!(check_password_rules("            ").is_err());
        assert!(check_password_rules(&"x".repeat(257)).is_err());
        assert!(check_password_rules("tolv tecken!").is_ok());
        assert_eq!(parse_username(" Karin.K ").unwrap(), "karin.k");
        assert!(parse_username("k").is_err());
        assert!(parse_username("karin karlsson").is_err());
        assert!(parse_username("kärin").is_err());
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
