//! Single sign-on pages: the start of a sign-in at an organisation's
//! identity provider, and the way back. The protocol is in
//! `auth::oidc`; this is HTTP only.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{removal, safe_next, secure_cookie, session_cookie};
use crate::auth::oidc;
use crate::auth::sessions;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::query_param;
use crate::web::session::{self, no_store, see_other};

/// Binds a started sign-in to the browser that started it, so that nobody
/// can finish a sign-in in someone else's browser.
const STATE_COOKIE: &str = "__Host-tillit_sso";

/// `GET /login/sso/{org}` — sends the browser to the organisation's
/// identity provider.
pub async fn start(state: web::Data<AppState>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    if let Err(e) = state.rate_limit_sign_in(&req) {
        return session::error_page(&state, &req, &e);
    }
    let org = path.into_inner();
    let Some(provider) = state.settings.sso.provider(&org) else {
        return session::error_page(&state, &req, &AppError::NotFound);
    };
    let next = safe_next(query_param(&req, "next").as_deref());
    let (started, row) = match oidc::start(&state.http, &state.sso_metadata, &state.settings.sso, provider, &next).await
    {
        Ok(x) => x,
        Err(e) => return session::error_page(&state, &req, &e),
    };
    if let Err(e) = state.db.run(move |conn| crate::db::write(conn, |conn| oidc::insert_login(conn, &row))).await {
        return session::error_page(&state, &req, &e);
    }
    let mut response = see_other(&started.authorize_url);
    let lifetime = actix_web::cookie::time::Duration::seconds(oidc::LOGIN_LIFETIME.num_seconds());
    let _ = response.add_cookie(&secure_cookie(STATE_COOKIE, started.state, lifetime));
    no_store(response)
}

/// `GET /login/sso/callback` — the identity provider's answer: checks the
/// state against this browser's, exchanges the code, verifies the ID token,
/// and opens a session in the organisation whose provider was chosen.
pub async fn callback(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match finish(&state, &req).await {
        Ok((session, next)) => {
            let mut response = see_other(&next);
            let _ = response.add_cookie(&session_cookie(session.id));
            let _ = response.add_cookie(&removal(STATE_COOKIE));
            no_store(response)
        }
        Err(e) => {
            let mut response = session::error_page(&state, &req, &e);
            let _ = response.add_cookie(&removal(STATE_COOKIE));
            response
        }
    }
}

async fn finish(state: &AppState, req: &HttpRequest) -> Result<(sessions::NewSession, String), AppError> {
    state.rate_limit_sign_in(req)?;
    if let Some(error) = query_param(req, "error") {
        // The person cancelled, or the provider refused; say so plainly.
        let shown: String = error.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect();
        return Err(oidc::refused(format!("the identity provider answered {shown}")));
    }
    let given = query_param(req, "state").unwrap_or_default();
    let code = query_param(req, "code").unwrap_or_default();
    let cookie = req.cookie(STATE_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    if given.is_empty() || code.is_empty() || !sessions::same_secret(&given, &cookie) {
        return Err(oidc::refused("the state does not match this browser's"));
    }
    let login = state.db.run(move |conn| crate::db::write(conn, |conn| oidc::take_login(conn, &given))).await?;
    let provider = state.settings.sso.provider(&login.org_slug).ok_or_else(|| oidc::refused("the provider is gone"))?;
    let identity = oidc::finish(&state.http, &state.sso_metadata, &state.settings.sso, provider, &login, &code).await?;
    let org = login.org_slug.clone();
    let session = state.db.run(move |conn| oidc::sign_in(conn, &org, &identity)).await?;
    log::info!("sign-in through single sign-on: person {} of {}", session.user_id, login.org_slug);
    Ok((session, login.next_path))
}
