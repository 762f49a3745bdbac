//! Single sign-on with OpenID Connect: the authorization code flow with PKCE
//! (S256), a nonce, and a state bound to the browser, against an identity
//! provider configured per organisation (Entra ID or any other).
//!
//! The organisation a person signs in to is the one whose identity provider
//! was chosen when the sign-in started (kept server-side, keyed by the
//! state's hash). Nothing in the ID token, and nothing the person can send,
//! changes it. The ID token must be signed with an asymmetric algorithm by
//! a key in the provider's published key set, be issued by exactly the
//! configured issuer, be meant for this client, be unexpired, and carry the
//! nonce of this sign-in; `openidconnect` checks all of it.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::Deserialize;

use super::service::find_or_create_person;
use super::sessions::{self, NewSession};
use super::store;
use crate::db::schema::{sso_identities, sso_logins};
use crate::db::{self, DbConnection};
use crate::error::AppError;
use crate::ids::hash_token;

/// How long a started sign-in may take at the identity provider.
pub const LOGIN_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::minutes(10);
/// Calls to an identity provider give up after this long.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// The path the identity providers send people back to.
pub const CALLBACK_PATH: &str = "/login/sso/callback";

/// The single sign-on settings file (`--sso-config`, `TILLIT_SSO_CONFIG`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SsoFile {
    /// Tillit's own address as browsers reach it, such as
    /// `https://tillit.example.se`; the callback is under it.
    public_url: String,
    providers: Vec<ProviderFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderFile {
    org: String,
    /// What the sign-in button says ("Boxholms kommun (Entra ID)").
    label: String,
    issuer: String,
    client_id: String,
    /// The client secret, or the name of the environment variable holding it.
    client_secret: Option<String>,
    client_secret_env: Option<String>,
    /// Scopes besides `openid` (default: `profile`).
    #[serde(default)]
    scopes: Vec<String>,
}

/// One organisation's identity provider.
#[derive(Debug, Clone)]
pub struct Provider {
    pub org: String,
    pub label: String,
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    scopes: Vec<String>,
}

/// Every organisation's identity provider, and where they send people back.
#[derive(Debug, Clone, Default)]
pub struct SsoSettings {
    pub redirect_url: String,
    pub providers: Vec<Provider>,
}

impl SsoSettings {
    pub fn provider(&self, org: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.org == org)
    }
}

/// Plain http is only for an identity provider on this machine (tests,
/// development); anything else must be https.
fn secure_enough(url: &str) -> bool {
    if url.starts_with("https://") {
        return true;
    }
    let Some(rest) = url.strip_prefix("http://") else { return false };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// Reads and checks the settings file. Secrets given by environment
/// variable are read now, so that a missing one stops the start.
pub fn load(path: &Path) -> Result<SsoSettings, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: SsoFile = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let public_url = file.public_url.trim_end_matches('/').to_string();
    if !secure_enough(&public_url) {
        return Err(format!("public_url {public_url} must be https (http only for localhost)"));
    }
    let mut providers: Vec<Provider> = Vec::new();
    for p in file.providers {
        if providers.iter().any(|q| q.org == p.org) {
            return Err(format!("organisation {} has two identity providers", p.org));
        }
        if !secure_enough(&p.issuer) {
            return Err(format!("issuer {} must be https (http only for localhost)", p.issuer));
        }
        let issuer = IssuerUrl::new(p.issuer.clone()).map_err(|e| format!("issuer {}: {e}", p.issuer))?;
        let secret = match (p.client_secret, p.client_secret_env) {
            (Some(_), Some(_)) => return Err(format!("{}: give client_secret or client_secret_env, not both", p.org)),
            (Some(secret), None) => Some(secret),
            (None, Some(var)) => {
                Some(std::env::var(&var).map_err(|_| format!("{}: environment variable {var} is not set", p.org))?)
            }
            (None, None) => None,
        };
        let mut scopes = if p.scopes.is_empty() { vec!["profile".to_string()] } else { p.scopes };
        scopes.retain(|s| s != "openid");
        providers.push(Provider {
            org: p.org,
            label: p.label,
            issuer,
            client_id: ClientId::new(p.client_id),
            client_secret: secret.map(ClientSecret::new),
            scopes,
        });
    }
    Ok(SsoSettings { redirect_url: format!("{public_url}{CALLBACK_PATH}"), providers })
}

/// The HTTP client for identity providers: no redirects (a token endpoint
/// that redirects is refused, not followed), and a timeout.
pub fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(HTTP_TIMEOUT)
        .build()
        .map_err(|e| format!("building the HTTP client: {e}"))
}

fn unreachable_provider(what: &str, e: impl std::fmt::Display) -> AppError {
    log::warn!("single sign-on: {what}: {e}");
    AppError::Unavailable
}

/// A refusal: the page says the sign-in could not be confirmed; the log
/// says why.
pub(crate) fn refused(why: impl std::fmt::Display) -> AppError {
    log::warn!("single sign-on refused: {why}");
    AppError::Forbidden { why: "why-sign_in_unconfirmed" }
}

type Client = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// Providers' discovery documents, with their key sets, kept for five
/// minutes so that a sign-in does not fetch them twice. An ID token that
/// fails verification against a kept key set is verified once more against
/// a freshly fetched one, so that rotated keys are picked up at once.
#[derive(Default)]
pub struct MetadataCache {
    entries: std::sync::Mutex<HashMap<String, (Instant, CoreProviderMetadata)>>,
}

const METADATA_MAX_AGE: Duration = Duration::from_secs(300);

impl MetadataCache {
    /// The provider's metadata: kept (unless `fresh`), else fetched. The
    /// issuer in the document must be exactly the configured one.
    async fn get(
        &self,
        http: &reqwest::Client,
        provider: &Provider,
        fresh: bool,
    ) -> Result<(CoreProviderMetadata, bool), AppError> {
        if !fresh {
            if let Ok(entries) = self.entries.lock() {
                if let Some((at, metadata)) = entries.get(&provider.org) {
                    if at.elapsed() < METADATA_MAX_AGE {
                        return Ok((metadata.clone(), true));
                    }
                }
            }
        }
        let metadata = CoreProviderMetadata::discover_async(provider.issuer.clone(), http)
            .await
            .map_err(|e| unreachable_provider(&format!("discovery at {}", provider.issuer.as_str()), e))?;
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(provider.org.clone(), (Instant::now(), metadata.clone()));
        }
        Ok((metadata, false))
    }
}

fn build_client(metadata: CoreProviderMetadata, provider: &Provider, redirect_url: &str) -> Result<Client, AppError> {
    let redirect = RedirectUrl::new(redirect_url.to_string()).map_err(|e| AppError::internal(format!("{e}")))?;
    Ok(CoreClient::from_provider_metadata(metadata, provider.client_id.clone(), provider.client_secret.clone())
        .set_redirect_uri(redirect))
}

/// A sign-in on its way to the identity provider.
pub struct Started {
    /// Where to send the browser.
    pub authorize_url: String,
    /// The state, for the cookie that binds the sign-in to this browser.
    pub state: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sso_logins)]
pub struct LoginRow {
    pub state_hash: String,
    pub org_slug: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next_path: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// Starts a sign-in with `provider`: asks for a code with PKCE (S256), a
/// fresh state and nonce, and records them to check the answer against.
pub async fn start(
    http: &reqwest::Client,
    cache: &MetadataCache,
    settings: &SsoSettings,
    provider: &Provider,
    next: &str,
) -> Result<(Started, LoginRow), AppError> {
    let (metadata, _) = cache.get(http, provider, false).await?;
    let client = build_client(metadata, provider, &settings.redirect_url)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .set_pkce_challenge(challenge);
    for scope in &provider.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, state, nonce) = request.url();
    let now = db::now();
    let row = LoginRow {
        state_hash: hash_token(state.secret()),
        org_slug: provider.org.clone(),
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        next_path: next.to_string(),
        created_at: now,
        expires_at: now + LOGIN_LIFETIME,
    };
    Ok((Started { authorize_url: url.to_string(), state: state.secret().clone() }, row))
}

pub fn insert_login(conn: &mut DbConnection, row: &LoginRow) -> Result<(), AppError> {
    diesel::insert_into(sso_logins::table).values(row).execute(conn)?;
    // Sign-ins that were never finished go away.
    diesel::delete(sso_logins::table.filter(sso_logins::expires_at.lt(db::now()))).execute(conn)?;
    Ok(())
}

/// Takes the started sign-in of a state: it can be used once, and only
/// until it expires.
pub fn take_login(conn: &mut DbConnection, state: &str) -> Result<LoginRow, AppError> {
    let hash = hash_token(state);
    let row: Option<LoginRow> = sso_logins::table
        .filter(sso_logins::state_hash.eq(&hash))
        .select(LoginRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else { return Err(refused("unknown or already used state")) };
    if diesel::delete(sso_logins::table.filter(sso_logins::state_hash.eq(&hash))).execute(conn)? != 1 {
        return Err(refused("the state was used meanwhile"));
    }
    if row.expires_at < db::now() {
        return Err(refused("the sign-in took longer than ten minutes"));
    }
    Ok(row)
}

/// Who the identity provider says signed in.
#[derive(Debug, Clone)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub name: String,
}

/// Exchanges the code (with the PKCE verifier) and verifies the ID token.
pub async fn finish(
    http: &reqwest::Client,
    cache: &MetadataCache,
    settings: &SsoSettings,
    provider: &Provider,
    login: &LoginRow,
    code: &str,
) -> Result<Identity, AppError> {
    let (metadata, kept) = cache.get(http, provider, false).await?;
    let client = build_client(metadata, provider, &settings.redirect_url)?;
    let request = client.exchange_code(AuthorizationCode::new(code.to_string())).map_err(refused)?;
    let response = request
        .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier.clone()))
        .request_async(http)
        .await
        .map_err(|e| refused(format!("token request: {e}")))?;
    match verify(&client, &response, login) {
        Err(e) if kept => {
            // Perhaps the provider has rotated its keys: once more with the
            // key set as it is now.
            log::info!("single sign-on: verifying again with {}'s current key set ({e})", provider.org);
            let (metadata, _) = cache.get(http, provider, true).await?;
            verify(&build_client(metadata, provider, &settings.redirect_url)?, &response, login).map_err(refused)
        }
        result => result.map_err(refused),
    }
}

/// Checks the ID token of a token response; the error says why it fails.
fn verify(
    client: &Client,
    response: &openidconnect::core::CoreTokenResponse,
    login: &LoginRow,
) -> Result<Identity, String> {
    let id_token = response.id_token().ok_or("no ID token in the token response")?;
    let verifier = client.id_token_verifier().set_allowed_algs([
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
        CoreJwsSigningAlgorithm::RsaSsaPssSha256,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    ]);
    let nonce = Nonce::new(login.nonce.clone());
    let claims = id_token.claims(&verifier, &nonce).map_err(|e| format!("ID token: {e}"))?;
    // When the token says which access token it came with, they must match.
    if let Some(expected) = claims.access_token_hash() {
        let algorithm = id_token.signing_alg().map_err(|e| e.to_string())?;
        let key = id_token.signing_key(&verifier).map_err(|e| e.to_string())?;
        let actual = openidconnect::AccessTokenHash::from_token(response.access_token(), algorithm, key)
            .map_err(|e| e.to_string())?;
        if &actual != expected {
            return Err("the access token hash does not match".into());
        }
    }
    let name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.as_str().to_string())
        .or_else(|| claims.preferred_username().map(|u| u.as_str().to_string()))
        .or_else(|| claims.email().map(|e| e.as_str().to_string()))
        .unwrap_or_else(|| claims.subject().as_str().to_string());
    Ok(Identity { issuer: claims.issuer().as_str().to_string(), subject: claims.subject().as_str().to_string(), name })
}

/// A sign-on identity linked to a person. The audit chain records the link
/// (who, for which organisation, since when); `last_sign_in_at` changes at
/// every sign-in and is left out of the record.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = sso_identities)]
pub struct IdentityRow {
    pub issuer: String,
    pub subject: String,
    pub org_slug: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
    #[serde(skip)]
    pub last_sign_in_at: NaiveDateTime,
}

impl crate::audit::Audited for IdentityRow {
    const TABLE: &'static str = "sso_identities";
    /// The issuer (a URL, which holds no space), a space, and the subject.
    fn audit_id(&self) -> String {
        format!("{} {}", self.issuer, self.subject)
    }
}

/// Records in the audit chain the credentials that were stored before
/// setting a password and linking an identity were audited (listed by the
/// migration in `unrecorded_credentials`): one event, then the list is empty.
pub fn record_credentials_from_before(conn: &mut DbConnection) -> Result<usize, AppError> {
    use crate::db::schema::{password_credentials, unrecorded_credentials};
    db::write(conn, |conn| {
        let pending: Vec<(String, String)> = unrecorded_credentials::table
            .select((unrecorded_credentials::table_name, unrecorded_credentials::row_id))
            .load(conn)?;
        if pending.is_empty() {
            return Ok(0);
        }
        let mut event = crate::audit::NewEvent::new(crate::audit::AuditAction::CredentialsRecorded, None, None);
        let mut recorded = 0;
        for (table, id) in &pending {
            match table.as_str() {
                "password_credentials" => {
                    let row: Option<sessions::PasswordRow> = password_credentials::table
                        .filter(password_credentials::user_id.eq(id))
                        .select(sessions::PasswordRow::as_select())
                        .first(conn)
                        .optional()?;
                    if let Some(row) = row {
                        event = event.subject(&row);
                        recorded += 1;
                    }
                }
                _ => {
                    if let Some(row) = identity_by_audit_id(conn, id)? {
                        event = event.subject(&row);
                        recorded += 1;
                    }
                }
            }
        }
        if recorded > 0 {
            crate::audit::append(conn, event)?;
        }
        diesel::delete(unrecorded_credentials::table).execute(conn)?;
        Ok(recorded)
    })
}

/// The identity an audit id names.
pub fn identity_by_audit_id(conn: &mut DbConnection, id: &str) -> Result<Option<IdentityRow>, AppError> {
    let Some((issuer, subject)) = id.split_once(' ') else { return Ok(None) };
    Ok(sso_identities::table
        .filter(sso_identities::issuer.eq(issuer))
        .filter(sso_identities::subject.eq(subject))
        .select(IdentityRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every linked identity, for the audit verification.
pub fn all_identities(conn: &mut DbConnection) -> Result<Vec<IdentityRow>, AppError> {
    Ok(sso_identities::table
        .order((sso_identities::issuer.asc(), sso_identities::subject.asc()))
        .select(IdentityRow::as_select())
        .load(conn)?)
}

/// Opens a session for the person an identity belongs to in `org` (the
/// organisation whose provider was used). The first sign-in links the
/// identity to the person of that name in `org`, or creates them without
/// roles (an admin grants roles). In one write transaction.
pub fn sign_in(conn: &mut DbConnection, org: &str, identity: &Identity) -> Result<NewSession, AppError> {
    db::write(conn, |conn| {
        let now = db::now();
        let known: Option<IdentityRow> = sso_identities::table
            .filter(sso_identities::issuer.eq(&identity.issuer))
            .filter(sso_identities::subject.eq(&identity.subject))
            .select(IdentityRow::as_select())
            .first(conn)
            .optional()?;
        let user = match known {
            Some(link) => {
                if link.org_slug != org {
                    return Err(refused(format!(
                        "identity {} of {} belongs to {}, not {org}",
                        identity.subject, identity.issuer, link.org_slug
                    )));
                }
                diesel::update(
                    sso_identities::table
                        .filter(sso_identities::issuer.eq(&link.issuer))
                        .filter(sso_identities::subject.eq(&link.subject)),
                )
                .set(sso_identities::last_sign_in_at.eq(now))
                .execute(conn)?;
                store::find_user(conn, &link.user_id)?.ok_or_else(|| AppError::internal("linked person is missing"))?
            }
            None => {
                let (user, created) = find_or_create_person(conn, org, &identity.name, None)?;
                if !created {
                    let linked: i64 =
                        sso_identities::table.filter(sso_identities::user_id.eq(&user.id)).count().get_result(conn)?;
                    if linked > 0 {
                        return Err(AppError::Forbidden { why: "why-identity_linked_elsewhere" });
                    }
                }
                let row = IdentityRow {
                    issuer: identity.issuer.clone(),
                    subject: identity.subject.clone(),
                    org_slug: org.to_string(),
                    user_id: user.id.clone(),
                    created_at: now,
                    last_sign_in_at: now,
                };
                diesel::insert_into(sso_identities::table).values(&row).execute(conn)?;
                crate::audit::append(
                    conn,
                    crate::audit::NewEvent::new(crate::audit::AuditAction::IdentityLinked, None, Some(org))
                        .subject(&row),
                )?;
                log::info!("single sign-on: identity linked to person {} of {org}", user.id);
                user
            }
        };
        if user.deactivated_at.is_some() {
            return Err(refused(format!("person {} is deactivated", user.id)));
        }
        let (session, row) = sessions::new_session(&user.id)?;
        sessions::insert_session(conn, &row)?;
        Ok(session)
    })
}

#[cfg(test)]
mod tests;
