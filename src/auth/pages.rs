//! Signing in (with a password, or through the organisation's identity
//! provider in `sso`), signing out, and the administrators' page of people
//! and roles.

mod people;
pub mod sso;

pub use people::{add_person, grant_role, people_page, revoke_role};

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::{Value, json};

use crate::auth::sessions::{self, SESSION_COOKIE, SignInError};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::session::{
    FORM_LIMIT, checked_form, error_page, field, form_fields, no_store, refuse_cross_site, see_other, session_id,
    signed_in,
};
use crate::web::{html, lang_of};

/// The cookie that carries the sign-in form's CSRF token (double submit):
/// before sign-in there is no session to hold it.
const LOGIN_COOKIE: &str = "__Host-tillit_login";
pub(super) fn secure_cookie(
    name: &'static str,
    value: String,
    max_age: actix_web::cookie::time::Duration,
) -> Cookie<'static> {
    Cookie::build(name, value).path("/").secure(true).http_only(true).same_site(SameSite::Lax).max_age(max_age).finish()
}

/// The cookie of a new session, for as long as a session may live.
pub(super) fn session_cookie(id: String) -> Cookie<'static> {
    secure_cookie(
        SESSION_COOKIE,
        id,
        actix_web::cookie::time::Duration::seconds(sessions::ABSOLUTE_LIFETIME.num_seconds()),
    )
}

pub(super) fn removal(name: &'static str) -> Cookie<'static> {
    secure_cookie(name, String::new(), actix_web::cookie::time::Duration::ZERO)
}

/// Only same-site paths made of safe characters are followed after sign-in
/// (a decoded tab, CR or LF would make a browser read `/\t/evil.example` as
/// `//evil.example`, or break the Location header); anything else goes to `/start`.
pub(super) fn safe_next(next: Option<&str>) -> String {
    let safe = |n: &str| {
        let mut rest = n.strip_prefix('/')?.chars();
        // `//host` and `/\host` leave the site.
        if matches!(rest.next(), Some('/' | '\\')) {
            return None;
        }
        n.chars().all(|c| c.is_ascii_alphanumeric() || "/-._~?=&%+,;:@!$'()*".contains(c)).then(|| n.to_string())
    };
    next.filter(|n| n.len() <= 2000).and_then(safe).unwrap_or_else(|| "/start".to_string())
}

#[derive(Serialize)]
pub(super) struct OrgChoice {
    slug: String,
    name: String,
    selected: bool,
}

pub(super) fn login_form(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    org: Option<&str>,
    username: &str,
    next: &str,
    error: Option<String>,
) -> HttpResponse {
    let lang = lang_of(req);
    let mut token = [0u8; 32];
    if let Err(e) = getrandom::fill(&mut token) {
        return error_page(state, req, &AppError::internal(format!("random: {e}")));
    }
    let token = hex::encode(token);
    let snapshot = state.lookup.snapshot();
    let orgs: Vec<OrgChoice> = snapshot
        .orgs
        .iter()
        .map(|o| OrgChoice { slug: o.slug.clone(), name: o.name.clone(), selected: org == Some(o.slug.as_str()) })
        .collect();
    let sso: Vec<Value> = state
        .settings
        .sso
        .providers
        .iter()
        .map(|p| json!({"href": format!("/login/sso/{}?next={}", crate::web::encode(&p.org), crate::web::encode(next)), "label": p.label}))
        .collect();
    let context = json!({
        "orgs": orgs, "username": username, "next": next, "csrf": token, "error": error, "sso": sso,
    });
    let title = state.views.text(lang, "login_title");
    let body = match state.views.render(req, lang, "login", &title, &context) {
        Ok(body) => body,
        Err(e) => return error_page(state, req, &e),
    };
    let mut response = no_store(html(status, body));
    let _ = response.add_cookie(&secure_cookie(LOGIN_COOKIE, token, actix_web::cookie::time::Duration::hours(1)));
    response
}

/// `GET /login` — the sign-in form.
pub async fn login_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let next = safe_next(crate::web::query_param(&req, "next").as_deref());
    match signed_in(&state, &req).await {
        Ok(Some(_)) => see_other(&next),
        Ok(None) => login_form(&state, &req, StatusCode::OK, None, "", &next, None),
        Err(e) => error_page(&state, &req, &e),
    }
}

/// `POST /login` — checks the user name and password and starts a new
/// session (always a new id, so a planted id is never promoted).
pub async fn login(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    if let Err(e) = refuse_cross_site(&req).and_then(|_| state.rate_limit_sign_in(&req)) {
        return error_page(&state, &req, &e);
    }
    let fields = match form_fields(&req, &body, FORM_LIMIT) {
        Ok(f) => f,
        Err(e) => return error_page(&state, &req, &e),
    };
    let lang = lang_of(&req);
    let org = field(&fields, "org").unwrap_or("").to_string();
    let username = field(&fields, "username").unwrap_or("").to_string();
    let password = field(&fields, "password").unwrap_or("").to_string();
    let next = safe_next(field(&fields, "next"));
    let cookie_token = req.cookie(LOGIN_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    let form_token = field(&fields, "csrf").unwrap_or("");
    if cookie_token.is_empty() || !sessions::same_secret(&cookie_token, form_token) {
        let message = state.views.text(lang, "login_expired");
        return login_form(&state, &req, StatusCode::FORBIDDEN, Some(&org), &username, &next, Some(message));
    }
    let (org_for_db, user_for_db) = (org.clone(), username.clone());
    let result = actix_web::web::block({
        let db = state.db.clone();
        move || -> Result<Result<sessions::NewSession, SignInError>, AppError> {
            let mut conn = db.get()?;
            Ok(sessions::sign_in(&mut conn, &org_for_db, &user_for_db, &password))
        }
    })
    .await;
    match result {
        Ok(Ok(Ok(session))) => {
            log::info!("sign-in: person {} of {org}", session.user_id);
            let mut response = see_other(&next);
            let _ = response.add_cookie(&session_cookie(session.id));
            let _ = response.add_cookie(&removal(LOGIN_COOKIE));
            no_store(response)
        }
        Ok(Ok(Err(SignInError::WrongCredentials))) => {
            log::info!("sign-in refused for a user name of {org}");
            let message = state.views.text(lang, "login_failed");
            login_form(&state, &req, StatusCode::UNAUTHORIZED, Some(&org), &username, &next, Some(message))
        }
        Ok(Ok(Err(SignInError::Other(e)))) | Ok(Err(e)) => error_page(&state, &req, &e),
        Err(e) => error_page(&state, &req, &AppError::internal(format!("blocking task failed: {e}"))),
    }
}

/// `POST /logout` — ends the session in the database and in the browser.
pub async fn logout(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    if let Err(response) = checked_form(&state, &req, &body).await {
        return response;
    }
    let Some(id) = session_id(&req) else { return see_other("/login") };
    if let Err(e) = state.db.run(move |conn| sessions::sign_out(conn, &id)).await {
        return error_page(&state, &req, &e);
    }
    let mut response = see_other("/login");
    let _ = response.add_cookie(&removal(SESSION_COOKIE));
    no_store(response)
}
