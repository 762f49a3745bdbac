//! Signing in with a password, and signing out.

use super::*;

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
