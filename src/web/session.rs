//! What every signed-in page shares: the session cookie, who is signed in,
//! the page in the layout, and the form POST. Every form POST carries the
//! session's CSRF token, and a POST whose `Sec-Fetch-Site` says it came
//! from another site is refused before anything else happens. Signed-in
//! pages are never cached.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::Value;

use super::{Lang, html, lang_of, url_query_pairs};
use crate::auth::sessions::{self, SESSION_COOKIE, WebActor};
use crate::db::{self, DbConnection};
use crate::error::AppError;
use crate::state::AppState;

/// Form bodies are small; anything larger is refused.
pub(crate) const FORM_LIMIT: usize = 64 * 1024;

pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.to_string())).finish()
}

/// Signed-in answers must not be stored by the browser or a proxy.
pub(crate) fn no_store(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A POST that a browser marks as coming from another site is refused.
pub(crate) fn refuse_cross_site(req: &HttpRequest) -> Result<(), AppError> {
    let site = req.headers().get("sec-fetch-site").and_then(|v| v.to_str().ok()).unwrap_or("");
    if site.eq_ignore_ascii_case("cross-site") {
        return Err(AppError::Forbidden { why: "why-form_foreign" });
    }
    Ok(())
}

/// A form body: `application/x-www-form-urlencoded`, at most 64 KiB, UTF-8.
pub(crate) fn form_fields(req: &HttpRequest, body: &[u8], limit: usize) -> Result<Vec<(String, String)>, AppError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
        return Err(AppError::UnsupportedMediaType);
    }
    if body.len() > limit {
        return Err(AppError::PayloadTooLarge);
    }
    let text = std::str::from_utf8(body).map_err(|_| AppError::bad_request("the form is not UTF-8"))?;
    let fields = url_query_pairs(text);
    if fields.iter().any(|(k, v)| k.chars().chain(v.chars()).any(|c| c == '\0' || crate::json::is_forbidden_char(c))) {
        return Err(AppError::bad_request("the form holds control characters"));
    }
    Ok(fields)
}

pub(crate) fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

pub(crate) fn session_id(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()).filter(|v| v.len() == 64)
}

pub(crate) fn check_csrf(web: &WebActor, fields: &[(String, String)]) -> Result<(), AppError> {
    match field(fields, "csrf") {
        Some(token) if sessions::same_secret(token, &web.csrf_token) => Ok(()),
        _ => Err(AppError::Forbidden { why: "why-form_expired" }),
    }
}

/// The signed-in person of a request, or `None` (the caller redirects to
/// the sign-in page). Refreshes the session's last use when it is due.
pub(crate) async fn signed_in(state: &AppState, req: &HttpRequest) -> Result<Option<WebActor>, AppError> {
    let Some(id) = session_id(req) else { return Ok(None) };
    let result = state
        .db
        .run(move |conn| {
            let web = db::read(conn, |conn| sessions::authenticate(conn, &id))?;
            if web.needs_touch {
                // Best effort: a busy database delays the record of use, not the page.
                if let Err(e) = sessions::touch(conn, &id) {
                    log::warn!("recording a session's use: {e}");
                }
            }
            Ok(web)
        })
        .await;
    match result {
        Ok(web) => Ok(Some(web)),
        Err(AppError::Unauthorized) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(crate) fn to_login(req: &HttpRequest) -> HttpResponse {
    let next = format!("{}{}", req.path(), if req.query_string().is_empty() { "" } else { "?" });
    let next = format!("{next}{}", req.query_string());
    see_other(&format!("/login?next={}", crate::web::encode(&next)))
}

#[derive(Serialize)]
pub(crate) struct UserView {
    name: String,
    org: String,
    org_name: String,
    roles: Vec<String>,
    csrf: String,
}

pub(crate) fn user_view(state: &AppState, lang: Lang, web: &WebActor) -> UserView {
    UserView {
        name: web.name.clone(),
        org: web.actor.org_slug.clone(),
        org_name: web.org_name.clone(),
        roles: web.actor.roles.iter().map(|r| state.views.text(lang, &format!("role_{}", r.as_str()))).collect(),
        csrf: web.csrf_token.clone(),
    }
}

pub(crate) fn page(
    state: &AppState,
    req: &HttpRequest,
    lang: Lang,
    template: &str,
    title_key: &str,
    context: Value,
) -> HttpResponse {
    let title = state.views.text(lang, title_key);
    match state.views.render(req, lang, template, &title, &context) {
        Ok(body) => no_store(html(StatusCode::OK, body)),
        Err(e) => no_store(state.views.error_page(req, &e)),
    }
}

pub(crate) fn error_page(state: &AppState, req: &HttpRequest, error: &AppError) -> HttpResponse {
    no_store(state.views.error_page(req, error))
}

/// Runs `action` in one write transaction as the request's session,
/// authenticated again inside it (so a session or role that ended a moment
/// ago changes nothing), then brings this node's lookup up to date.
pub(crate) async fn write_as_session<T, F>(state: &AppState, req: &HttpRequest, mut action: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnMut(&mut DbConnection, &WebActor) -> Result<T, AppError> + Send + 'static,
{
    let session = session_id(req).unwrap_or_default();
    state
        .db
        .run_committing(move |conn| {
            db::write(conn, |conn| {
                let current = sessions::authenticate(conn, &session)?;
                action(conn, &current)
            })
        })
        .await
}

/// The checks every signed-in form POST passes first: not cross-site, a
/// readable form, a live session, and that session's CSRF token. A failure
/// is the answer to send.
pub(crate) async fn checked_form(
    state: &AppState,
    req: &HttpRequest,
    body: &[u8],
) -> Result<(WebActor, Vec<(String, String)>), HttpResponse> {
    checked_form_limited(state, req, body, FORM_LIMIT).await
}

/// `checked_form` for a form that may be larger (the submission form, up to
/// the API's own body limit).
pub(crate) async fn checked_form_limited(
    state: &AppState,
    req: &HttpRequest,
    body: &[u8],
    limit: usize,
) -> Result<(WebActor, Vec<(String, String)>), HttpResponse> {
    refuse_cross_site(req).map_err(|e| error_page(state, req, &e))?;
    let fields = form_fields(req, body, limit).map_err(|e| error_page(state, req, &e))?;
    let web = match signed_in(state, req).await {
        Ok(Some(web)) => web,
        Ok(None) => return Err(see_other("/login")),
        Err(e) => return Err(error_page(state, req, &e)),
    };
    check_csrf(&web, &fields).map_err(|e| error_page(state, req, &e))?;
    Ok((web, fields))
}

/// The signed-in person of a page, as an extractor. Without a live session
/// the page answers with the sign-in page, which comes back here after; a
/// failure to read the session is the error page.
pub struct SignedIn(pub WebActor);

impl actix_web::FromRequest for SignedIn {
    type Error = actix_web::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let answer = |response: HttpResponse| actix_web::error::InternalError::from_response("", response).into();
            let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
                return Err(actix_web::error::ErrorInternalServerError("no application state"));
            };
            match signed_in(&state, &req).await {
                Ok(Some(web)) => Ok(SignedIn(web)),
                Ok(None) => Err(answer(to_login(&req))),
                Err(e) => Err(answer(error_page(&state, &req, &e))),
            }
        })
    }
}

/// A form posted to a signed-in page that writes: what `post_form` needs,
/// taken from the request in one extractor.
pub struct FormPost {
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
}

impl actix_web::FromRequest for FormPost {
    type Error = actix_web::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let state = web::Data::<AppState>::from_request(req, payload);
        let body = web::Bytes::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move { Ok(FormPost { state: state.await?, body: body.await?, req }) })
    }
}

impl FormPost {
    /// The page's language, for the address it answers with.
    pub(crate) fn lang(&self) -> &'static str {
        lang_of(&self.req).as_str()
    }

    /// Runs `action` as `post_form` does.
    pub(crate) async fn run<F>(self, action: F) -> HttpResponse
    where
        F: FnMut(&mut DbConnection, &WebActor, &[(String, String)]) -> Result<String, AppError> + Send + 'static,
    {
        post_form(&self.state, &self.req, &self.body, action).await
    }
}

/// A form POST of a signed-in page: refuses cross-site requests, reads the
/// form, checks the session and its CSRF token, then runs `action` in one
/// write transaction (authenticating the session again inside it) and
/// answers 303 to the page it returns. A refusal is a page in the layout.
pub(crate) async fn post_form<F>(state: &AppState, req: &HttpRequest, body: &[u8], action: F) -> HttpResponse
where
    F: FnMut(&mut DbConnection, &WebActor, &[(String, String)]) -> Result<String, AppError> + Send + 'static,
{
    let (_, fields) = match checked_form(state, req, body).await {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    let mut action = action;
    let result = write_as_session(state, req, move |conn, current| action(conn, current, &fields)).await;
    match result {
        Ok(location) => no_store(see_other(&location)),
        Err(AppError::Unauthorized) => see_other("/login"),
        Err(e) => error_page(state, req, &e),
    }
}

pub(crate) fn form_field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    field(fields, name).map(str::trim).filter(|v| !v.is_empty())
}
