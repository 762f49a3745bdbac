//! The signed-in pages: sign-in and sign-out, the start page of each role
//! (the approver's queue, the coordinator's services), the service page and
//! the decision form. Every form POST carries the session's CSRF token, and
//! a POST whose `Sec-Fetch-Site` says it came from another site is refused
//! before anything else happens. Signed-in pages are never cached.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Lang, html, lang_of, url_query_pairs};
use crate::approvals;
use crate::auth::Role;
use crate::auth::sessions::{self, SESSION_COOKIE, SignInError, WebActor};
use crate::db::{self, DbConnection};
use crate::error::AppError;
use crate::state::AppState;
use crate::swedish;

/// The cookie that carries the sign-in form's CSRF token (double submit):
/// before sign-in there is no session to hold it.
const LOGIN_COOKIE: &str = "__Host-tillit_login";
/// Form bodies are small; anything larger is refused.
const FORM_LIMIT: usize = 64 * 1024;

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

pub(super) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.to_string())).finish()
}

/// Signed-in answers must not be stored by the browser or a proxy.
pub(super) fn no_store(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A POST that a browser marks as coming from another site is refused.
fn refuse_cross_site(req: &HttpRequest) -> Result<(), AppError> {
    let site = req.headers().get("sec-fetch-site").and_then(|v| v.to_str().ok()).unwrap_or("");
    if site.eq_ignore_ascii_case("cross-site") {
        return Err(AppError::Forbidden {
            why: "Forms are only accepted from Tillit's own pages.",
            why_sv: "Formulär tas bara emot från Tillits egna sidor.",
        });
    }
    Ok(())
}

/// A form body: `application/x-www-form-urlencoded`, at most 64 KiB, UTF-8.
fn form_fields(req: &HttpRequest, body: &[u8], limit: usize) -> Result<Vec<(String, String)>, AppError> {
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

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn session_id(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()).filter(|v| v.len() == 64)
}

fn check_csrf(web: &WebActor, fields: &[(String, String)]) -> Result<(), AppError> {
    match field(fields, "csrf") {
        Some(token) if sessions::same_secret(token, &web.csrf_token) => Ok(()),
        _ => Err(AppError::Forbidden {
            why: "The form has expired or did not come from Tillit. Reload the page and try again.",
            why_sv: "Formuläret har gått ut eller kom inte från Tillit. Ladda om sidan och försök igen.",
        }),
    }
}

/// The signed-in person of a request, or `None` (the caller redirects to
/// the sign-in page). Refreshes the session's last use when it is due.
pub(super) async fn signed_in(state: &AppState, req: &HttpRequest) -> Result<Option<WebActor>, AppError> {
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

pub(super) fn to_login(req: &HttpRequest) -> HttpResponse {
    let next = format!("{}{}", req.path(), if req.query_string().is_empty() { "" } else { "?" });
    let next = format!("{next}{}", req.query_string());
    see_other(&format!("/login?next={}", super::encode(&next)))
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
pub(super) struct UserView {
    name: String,
    org: String,
    org_name: String,
    roles: Vec<String>,
    csrf: String,
}

pub(super) fn user_view(state: &AppState, lang: Lang, web: &WebActor) -> UserView {
    UserView {
        name: web.name.clone(),
        org: web.actor.org_slug.clone(),
        org_name: web.org_name.clone(),
        roles: web.actor.roles.iter().map(|r| state.views.text(lang, &format!("role_{}", r.as_str()))).collect(),
        csrf: web.csrf_token.clone(),
    }
}

pub(super) fn page(
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

pub(super) fn error_page(state: &AppState, req: &HttpRequest, error: &AppError) -> HttpResponse {
    no_store(state.views.error_page(req, error))
}

// ------------------------------------------------------------------ sign-in --

#[derive(Serialize)]
struct OrgChoice {
    slug: String,
    name: String,
    selected: bool,
}

fn login_form(
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
        .map(|p| json!({"href": format!("/login/sso/{}?next={}", super::encode(&p.org), super::encode(next)), "label": p.label}))
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
    let next = safe_next(super::query_param(&req, "next").as_deref());
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

// --------------------------------------------------------------- start page --

#[derive(Serialize)]
struct QueueItem {
    org: String,
    org_name: String,
    via_delegation: bool,
    service_id: String,
    revision: i32,
    name: String,
    vendor: String,
    risk_class: String,
    submitted_on: String,
    /// The revision this organisation decided on before, when there is one.
    decided_revision: Option<i32>,
    /// What changed since then, as the form names the fields.
    changed: Vec<String>,
}

#[derive(Serialize)]
struct ServiceItem {
    service_id: String,
    name: String,
    vendor: String,
    revision: i32,
    state: String,
    /// Each organisation's current decision: (org slug, decision, revoked, revision it was on).
    decided: Vec<(String, String, bool, i32)>,
}

/// `GET /start` — what the signed-in person has to do, by role.
pub async fn start_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let web = match signed_in(&state, &req).await {
        Ok(Some(web)) => web,
        Ok(None) => return to_login(&req),
        Err(e) => return error_page(&state, &req, &e),
    };
    let lang = lang_of(&req);
    let actor = web.clone();
    let state_views = state.clone();
    // The queue's filters: one municipality, and a service's name or vendor.
    let queue_org = super::query_param(&req, "queue_org").filter(|v| !v.is_empty());
    let queue_service =
        super::query_param(&req, "queue_service").map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let (shown_org, shown_service) = (queue_org.clone(), queue_service.clone());
    let loaded = state
        .db
        .run(move |conn| {
            let state_views = &state_views.views;
            db::read(conn, |conn| {
                let names: std::collections::HashMap<String, String> =
                    crate::organisations::service::all(conn)?.into_iter().map(|o| (o.slug, o.name)).collect();
                let mut queue = Vec::new();
                let deciding = approvals::service::decides_for(conn, &actor.actor)?;
                let filter_options: Vec<(String, String)> = deciding
                    .iter()
                    .map(|(slug, _)| (slug.clone(), names.get(slug).cloned().unwrap_or_else(|| slug.clone())))
                    .collect();
                let grantors = approvals::service::approver_grantors(conn, &actor.actor.user_id)?;
                for (org, via_delegation) in deciding {
                    if queue_org.as_deref().is_some_and(|wanted| wanted != org) {
                        continue;
                    }
                    for r in approvals::service::waiting_for(conn, &org, 100)? {
                        if let Some(wanted) = &queue_service {
                            let folded = |t: &str| t.to_lowercase();
                            if !folded(&r.name).contains(&folded(wanted))
                                && !folded(&r.vendor).contains(&folded(wanted))
                            {
                                continue;
                            }
                        }
                        // Nobody decides on what they (or whoever made them an approver) wrote.
                        if !approvals::service::may_decide_on(conn, &actor.actor.user_id, &grantors, &r.service_id)? {
                            continue;
                        }
                        let since = approvals::service::changes_since_decided(conn, &org, &r)?;
                        let text = |key: &str| state_views.text(lang, key);
                        let mut changed: Vec<String> = since
                            .iter()
                            .flat_map(|(_, changes)| changes.iter())
                            .map(|c| {
                                super::form::describe_field(&c.field, &text).unwrap_or_else(|| text("field_other"))
                            })
                            .collect();
                        changed.dedup();
                        queue.push(QueueItem {
                            decided_revision: since.as_ref().map(|(n, _)| *n),
                            changed,
                            org_name: names.get(&org).cloned().unwrap_or_else(|| org.clone()),
                            org: org.clone(),
                            via_delegation,
                            service_id: r.service_id,
                            revision: r.revision,
                            name: r.name,
                            vendor: r.vendor,
                            risk_class: super::form::describe_value(
                                "/assessments/ai_act/risk_class",
                                &r.risk_class,
                                &text,
                            ),
                            submitted_on: r
                                .submitted_at
                                .map(|t| db::date_text(&swedish::local_date(&t)))
                                .unwrap_or_default(),
                        });
                    }
                }
                let services = if actor.actor.has(Role::Coordinator) || actor.actor.has(Role::Approver) {
                    crate::submissions::service::services_of(conn, &actor.actor.org_slug, 200)?
                        .into_iter()
                        .map(|(s, r)| {
                            let decided = approvals::service::current_decisions(conn, &s.id)?
                                .into_iter()
                                .map(|d| (d.org, d.decision, d.revoked_at.is_some(), d.revision))
                                .collect();
                            Ok(ServiceItem {
                                service_id: s.id,
                                name: r.name,
                                vendor: r.vendor,
                                revision: r.revision,
                                state: r.state,
                                decided,
                            })
                        })
                        .collect::<Result<Vec<_>, AppError>>()?
                } else {
                    Vec::new()
                };
                let drafts = if actor.actor.has(Role::Coordinator) {
                    crate::submissions::service::drafts_of(conn, &actor.actor.org_slug, 100)?
                } else {
                    Vec::new()
                };
                Ok((queue, services, drafts, filter_options))
            })
        })
        .await;
    let (queue, services, drafts, filter_options) = match loaded {
        Ok(x) => x,
        Err(e) => return error_page(&state, &req, &e),
    };
    // Each service's real state in each organisation: "Avslagen i Kinda
    // kommun", "Granskas i …" for a newer version, else the revision's state.
    let org_names = state.lookup.snapshot();
    let org_name = |slug: &str| {
        org_names.orgs.iter().find(|o| o.slug == slug).map(|o| o.name.clone()).unwrap_or_else(|| slug.to_string())
    };
    let t = |key: &str| state.views.text(lang, key);
    let services: Vec<Value> = services
        .into_iter()
        .map(|s| {
            let mut states: Vec<String> = s
                .decided
                .iter()
                .map(|(org, decision, revoked, revision)| {
                    let word = if *revoked {
                        t("state_revoked")
                    } else if *revision < s.revision && s.state == "submitted" {
                        t("state_under_review")
                    } else {
                        t(&format!("state_{decision}"))
                    };
                    format!("{word} {} {}", t("state_in"), org_name(org))
                })
                .collect();
            if states.is_empty() {
                states.push(t(&format!("revision_state_{}", s.state)));
            }
            json!({"service_id": s.service_id, "name": s.name, "vendor": s.vendor, "revision": s.revision, "states": states})
        })
        .collect();
    let context = json!({
        "user": user_view(&state, lang, &web),
        "is_approver": web.actor.has(Role::Approver),
        "is_coordinator": web.actor.has(Role::Coordinator),
        "can_audit": web.actor.has(Role::Auditor) || web.actor.has(Role::Admin),
        "is_admin": web.actor.has(Role::Admin),
        "queue": queue,
        "queue_filter": (filter_options.len() > 1).then(|| json!({
            "orgs": filter_options.iter().map(|(slug, name)| json!({
                "slug": slug, "name": name, "selected": shown_org.as_deref() == Some(slug.as_str()),
            })).collect::<Vec<_>>(),
            "service": shown_service.clone().unwrap_or_default(),
            "active": shown_org.is_some() || shown_service.is_some(),
        })),
        "services": services,
        "drafts": drafts.iter().map(|d| {
            let doc: Value = serde_json::from_str(&d.document).unwrap_or(Value::Null);
            let name = doc.pointer("/service/name").and_then(Value::as_str).unwrap_or("").trim().to_string();
            json!({
                "id": d.id,
                "name": if name.is_empty() { state.views.text(lang, "draft_untitled") } else { name },
                "saved_on": db::date_text(&swedish::local_date(&d.updated_at)),
                "new_version": d.service_id.is_some(),
            })
        }).collect::<Vec<_>>(),
        "discarded": super::query_param(&req, "discarded").is_some(),
    });
    page(&state, &req, lang, "start", "start_title", context)
}

// ------------------------------------------------------------- service page --

pub(super) fn pick(lang: Lang, sv: &str, en: &str) -> String {
    if lang == Lang::Sv { sv.to_string() } else { en.to_string() }
}

/// The service page's context: revisions with their failing checks, every
/// organisation's decision, and the decision form when the person may decide.
fn service_context(state: &AppState, lang: Lang, web: &WebActor, loaded: &ServicePage) -> Value {
    let (service, decide_for, changes) = (&loaded.service, &loaded.decide_for, &loaded.changes);
    let name_of = |slug: &str| loaded.names.get(slug).cloned().unwrap_or_else(|| slug.to_string());
    let views = &state.views;
    let revisions: Vec<Value> = service
        .revisions
        .iter()
        .rev()
        .map(|r| {
            let (verdict, rules) = match &r.evaluation {
                Some(e) => {
                    let parsed: Option<crate::policy::model::Evaluation> =
                        serde_json::to_value(&e.outcome).ok().and_then(|v| serde_json::from_value(v).ok());
                    let rules: Vec<Value> = parsed
                        .map(|ev| {
                            ev.rules
                                .iter()
                                .filter(|rule| !rule.violations.is_empty())
                                .map(|rule| {
                                    json!({
                                        "rule": rule.rule.to_string(),
                                        "title": pick(lang, &rule.title, &rule.title_en),
                                        "violations": rule.violations.iter().map(|v| json!({
                                            "check": v.check.to_string(),
                                            "field": v.pointer,
                                            "message": pick(lang, &v.message_sv, &v.message_en),
                                        })).collect::<Vec<_>>(),
                                    })
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    (views.text(lang, &format!("verdict_{}", e.verdict)), rules)
                }
                None => (views.text(lang, "verdict_none"), Vec::new()),
            };
            json!({
                "revision": r.revision,
                "state_label": views.text(lang, &format!("revision_state_{}", r.state)),
                "created_on": swedish::local_date_text(&r.created_at),
                "submitted_on": r.submitted_at.as_deref().map(swedish::local_date_text),
                "verdict": verdict,
                "failing_rules": rules,
                "changes": changes.get(&r.revision).map(|c| readable(state, lang, c)),
            })
        })
        .collect();
    let decisions: Vec<Value> = service
        .decisions
        .iter()
        .map(|d| {
            json!({
                "org": name_of(&d.org),
                "revision": d.revision,
                "decision": views.text(lang, &format!("decision_{}", d.decision)),
                "conditions": d.conditions.iter().map(|c| pick(lang, &c.text_sv, &c.text_en)).collect::<Vec<_>>(),
                "deciding_function": d.deciding_function,
                "via_delegation": d.via_delegation,
                "delegation_reference": d.delegation_reference,
                "decided_on": swedish::local_date_text(&d.decided_at),
                "decision_reference": d.decision_reference,
                "valid_until": d.valid_until,
                "revoked": d.revoked_at.is_some(),
                "expired": d.expired,
                "needs_re_review": d.needs_re_review,
            })
        })
        .collect();
    let under_review = service.revisions.iter().rev().find(|r| r.state == "submitted").map(|r| r.revision);
    let classes: Vec<Value> = ["public", "internal", "confidential", "strictly_confidential"]
        .iter()
        .map(|c| json!({"value": c, "label": views.text(lang, &format!("class_{c}"))}))
        .collect();
    // Decisions this person may revoke: the live ones of the organisations
    // they decide for. An organisation that has decided on the revision under
    // review sees its decision and the revoke form instead of the decision form.
    let revocable: Vec<Value> = service
        .decisions
        .iter()
        .filter(|d| d.revoked_at.is_none() && decide_for.iter().any(|(slug, _, _)| *slug == d.org))
        .map(|d| {
            json!({
                "decision_id": d.decision_id,
                "org": name_of(&d.org),
                "revision": d.revision,
                "decision": views.text(lang, &format!("decision_{}", d.decision)),
                "decision_reference": d.decision_reference,
                "decided_on": swedish::local_date_text(&d.decided_at),
            })
        })
        .collect();
    let undecided: Vec<Value> = decide_for
        .iter()
        .filter(|(slug, _, _)| {
            !service
                .decisions
                .iter()
                .any(|d| d.org == *slug && d.revoked_at.is_none() && Some(d.revision) == under_review)
        })
        .map(|(slug, name, via)| json!({"slug": slug, "name": name, "via_delegation": via}))
        .collect();
    let form = match under_review {
        Some(revision) if !undecided.is_empty() => Some(json!({
            "revision": revision, "orgs": undecided, "classes": classes,
            "valid_until": loaded.default_valid_until.map(|d| d.to_string()).unwrap_or_default(),
        })),
        _ => None,
    };
    // The whole description, grouped as the form groups it, with what changed
    // since the revision this person's organisation decided on.
    let description = loaded.described.as_ref().map(|d| {
        let rules: Vec<crate::policy::model::RuleResult> = service
            .revisions
            .iter()
            .find(|r| r.revision == d.revision)
            .and_then(|r| r.evaluation.as_ref())
            .and_then(|e| serde_json::to_value(&e.outcome).ok())
            .and_then(|v| serde_json::from_value::<crate::policy::model::Evaluation>(v).ok())
            .map(|e| e.rules)
            .unwrap_or_default();
        let text = |key: &str| views.text(lang, key);
        let texts = super::form::Texts { lang, text: &text, countries: views.countries(lang) };
        json!({
            "revision": d.revision,
            "since": d.since,
            "sections": super::form::describe(&d.document, &rules, &d.changed, &texts),
            "changed_count": d.changed.len(),
        })
    });
    // The owning organisation's coordinators submit the latest draft.
    let submit_revision = service
        .revisions
        .last()
        .filter(|r| r.state == "draft" && web.actor.has(Role::Coordinator) && web.actor.is_member_of(&service.org))
        .map(|r| r.revision);
    let can_change = web.actor.has(Role::Coordinator) && web.actor.is_member_of(&service.org);
    let revision_numbers: Vec<i32> = service.revisions.iter().map(|r| r.revision).collect();
    let compare = loaded
        .compare
        .as_ref()
        .map(|(from, to, changes)| json!({"from": from, "to": to, "changes": readable(state, lang, changes)}));
    let choose = |selected: i32| -> Vec<Value> {
        revision_numbers.iter().map(|n| json!({"number": n, "selected": *n == selected})).collect()
    };
    let (from, to) = match &loaded.compare {
        Some((a, b, _)) => (*a, *b),
        None => {
            let n = revision_numbers.len();
            let at = |i: usize| revision_numbers.get(i).copied().unwrap_or(1);
            (at(n.saturating_sub(2)), at(n.saturating_sub(1)))
        }
    };
    // What the decision form shows typed: nothing yet (a refused form puts
    // back what was typed, see `decide`).
    let typed: serde_json::Map<String, Value> =
        DECISION_FIELDS.iter().map(|name| (name.to_string(), Value::String(String::new()))).collect();
    json!({
        "user": user_view(state, lang, web),
        "typed": typed,
        "field_errors": {},
        "description": description,
        "revocable": revocable,
        "can_change": can_change,
        "compare": compare,
        "compare_choices": if revision_numbers.len() > 1 { Some(json!({"from": choose(from), "to": choose(to)})) } else { None },
        "submit_revision": submit_revision,
        "service": {"id": service.id, "org": name_of(&service.org), "name": service.name, "vendor": service.vendor},
        "revisions": revisions,
        "decisions": decisions,
        "form": form,
    })
}

/// Changes with the form's names for the fields and words for the values.
fn readable(state: &AppState, lang: Lang, changes: &[crate::submissions::diff::Change]) -> Vec<Value> {
    let text = |key: &str| state.views.text(lang, key);
    changes
        .iter()
        .map(|c| {
            let value = |v: &Option<String>| v.as_deref().map(|v| super::form::describe_value(&c.field, v, &text));
            json!({
                "field": c.field,
                "label": super::form::describe_field(&c.field, &text).unwrap_or_else(|| c.field.clone()),
                "before": value(&c.before),
                "after": value(&c.after),
            })
        })
        .collect()
}

/// What changed in each visible revision since the one before it.
type Changes = std::collections::HashMap<i32, Vec<crate::submissions::diff::Change>>;

/// Everything the service page shows.
struct ServicePage {
    service: crate::submissions::dto::ServiceResponse,
    /// The organisations the person may decide for: slug, name, via delegation.
    decide_for: Vec<(String, String, bool)>,
    changes: Changes,
    /// The comparison asked for (`?from=A&to=B`): the two revisions and what
    /// changed between them.
    compare: Option<(i32, i32, Vec<crate::submissions::diff::Change>)>,
    /// Organisation names by slug.
    names: std::collections::HashMap<String, String>,
    /// The decision form's valid-until: today plus the review interval of
    /// the revision under review.
    default_valid_until: Option<chrono::NaiveDate>,
    /// The description shown whole: the revision under review (or the latest
    /// the person may see), its document, and the revision the person's
    /// organisation decided on before with what changed since.
    described: Option<Described>,
}

struct Described {
    revision: i32,
    document: Value,
    since: Option<i32>,
    changed: Vec<String>,
}

async fn load_service_page(
    state: &AppState,
    web: &WebActor,
    service_id: String,
    compare: Option<(i32, i32)>,
) -> Result<ServicePage, AppError> {
    let actor = web.clone();
    let in_force = state.policies();
    state
        .db
        .run(move |conn| {
            db::read(conn, |conn| {
                let service = crate::submissions::service::service_as(conn, &in_force, &actor.actor, &service_id)?;
                let names: std::collections::HashMap<String, String> =
                    crate::organisations::service::all(conn)?.into_iter().map(|o| (o.slug, o.name)).collect();
                let orgs: Vec<(String, String, bool)> = approvals::service::decides_for(conn, &actor.actor)?
                    .into_iter()
                    .map(|(slug, via)| (slug.clone(), names.get(&slug).cloned().unwrap_or(slug), via))
                    .collect();
                // Only the revisions the person may see are compared.
                let visible: std::collections::HashSet<i32> = service.revisions.iter().map(|r| r.revision).collect();
                let mut previous: Option<Value> = None;
                let mut changes = Changes::new();
                let mut default_valid_until = None;
                let mut documents: std::collections::HashMap<i32, Value> = std::collections::HashMap::new();
                for row in crate::submissions::service::revisions_of(conn, &service.id)? {
                    if !visible.contains(&row.revision) {
                        continue;
                    }
                    if row.state == "submitted" {
                        default_valid_until = approvals::service::default_valid_until(&row).ok();
                    }
                    let document: Value = serde_json::from_str(&row.document)?;
                    if let Some(before) = &previous {
                        changes.insert(row.revision, crate::submissions::diff::changes(before, &document, 200));
                    }
                    if compare.is_some_and(|(a, b)| row.revision == a || row.revision == b) {
                        documents.insert(row.revision, document.clone());
                    }
                    previous = Some(document);
                }
                // Only revisions the person may see can be compared.
                let compare = compare.and_then(|(a, b)| {
                    let (before, after) = (documents.get(&a)?, documents.get(&b)?);
                    Some((a, b, crate::submissions::diff::changes(before, after, 500)))
                });
                // The description to read: the revision under review, else the latest visible one.
                let shown = service
                    .revisions
                    .iter()
                    .rev()
                    .find(|r| r.state == "submitted")
                    .or_else(|| service.revisions.last())
                    .map(|r| r.revision);
                let mine: Vec<&str> = std::iter::once(actor.actor.org_slug.as_str())
                    .chain(orgs.iter().map(|(slug, _, _): &(String, String, bool)| slug.as_str()))
                    .collect();
                let described = match shown {
                    Some(number) => {
                        let rows = crate::submissions::service::revisions_of(conn, &service.id)?;
                        let document = rows
                            .iter()
                            .find(|r| r.revision == number)
                            .map(|r| serde_json::from_str::<Value>(&r.document))
                            .transpose()?;
                        // The revision the person's organisation (or one it decides for) decided on before.
                        let since = service
                            .decisions
                            .iter()
                            .filter(|d| d.revision < number && mine.contains(&d.org.as_str()))
                            .max_by_key(|d| (d.org == actor.actor.org_slug, d.revision))
                            .map(|d| d.revision);
                        let before = since
                            .and_then(|n| rows.iter().find(|r| r.revision == n))
                            .map(|r| serde_json::from_str::<Value>(&r.document))
                            .transpose()?;
                        document.map(|document| {
                            let changed = before
                                .map(|b| {
                                    crate::submissions::diff::changes(&b, &document, 1000)
                                        .into_iter()
                                        .map(|c| c.field)
                                        .collect()
                                })
                                .unwrap_or_default();
                            Described { revision: number, document, since, changed }
                        })
                    }
                    None => None,
                };
                Ok(ServicePage { service, decide_for: orgs, changes, compare, names, default_valid_until, described })
            })
        })
        .await
}

/// `GET /services/{id}` — the service, its revisions and evaluations, every
/// organisation's decision, and the decision form for approvers.
pub async fn service_page(state: web::Data<AppState>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let web = match signed_in(&state, &req).await {
        Ok(Some(web)) => web,
        Ok(None) => return to_login(&req),
        Err(e) => return error_page(&state, &req, &e),
    };
    let lang = lang_of(&req);
    let number = |name: &str| super::query_param(&req, name).and_then(|v| v.parse::<i32>().ok());
    let compare = number("from").zip(number("to"));
    match load_service_page(&state, &web, path.into_inner(), compare).await {
        Ok(loaded) => {
            let mut context = service_context(&state, lang, &web, &loaded);
            if let Some(map) = context.as_object_mut() {
                map.insert("decided".into(), json!(super::query_param(&req, "decided").is_some()));
                map.insert("revoked".into(), json!(super::query_param(&req, "revoked").is_some()));
                map.insert("submitted".into(), json!(super::query_param(&req, "submitted").is_some()));
                map.insert("created".into(), json!(super::query_param(&req, "created")));
                map.insert("error".into(), Value::Null);
            }
            page(&state, &req, lang, "service", "service_title", context)
        }
        Err(e) => error_page(&state, &req, &e),
    }
}

/// `POST /services/{id}/revisions/{n}/submit` — a coordinator submits the
/// latest draft for review; from then on it is frozen and every
/// organisation can see it.
pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, i32)>,
    body: web::Bytes,
) -> HttpResponse {
    let lang = lang_of(&req).as_str();
    let (service_id, number) = path.into_inner();
    post_form(&state, &req, &body, move |conn, web, _| {
        crate::submissions::service::submit_revision(conn, &web.actor, &service_id, number)?;
        Ok(format!("/services/{}?submitted=1&lang={lang}", super::encode(&service_id)))
    })
    .await
}

/// The decision request a form describes; the service checks it as it
/// checks the API's.
fn decision_request(fields: &[(String, String)]) -> Result<approvals::dto::DecisionRequest, AppError> {
    let text = |name: &str| field(fields, name).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let lines = |name: &str| -> Vec<String> {
        field(fields, name)
            .map(|v| v.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect())
            .unwrap_or_default()
    };
    let mut conditions = Vec::new();
    if let Some(class) = text("information_class_max") {
        conditions.push(json!({"type": "information_class_max", "value": class}));
    }
    if field(fields, "no_personal_data").is_some() {
        conditions.push(json!({"type": "no_personal_data", "value": true}));
    }
    if field(fields, "no_special_category_data").is_some() {
        conditions.push(json!({"type": "no_special_category_data", "value": true}));
    }
    let tasks = lines("permitted_tasks");
    if !tasks.is_empty() {
        conditions.push(json!({"type": "permitted_tasks", "value": tasks}));
    }
    let settings = lines("required_settings");
    if !settings.is_empty() {
        conditions.push(json!({"type": "required_settings", "value": settings}));
    }
    if let Some(other) = text("other_condition") {
        conditions.push(json!({"type": "other", "value": other}));
    }
    let revision: i32 = text("revision")
        .and_then(|r| r.parse().ok())
        .ok_or_else(|| AppError::field("invalid_request", "/revision", "Choose a revision.", "Välj en version."))?;
    let request = json!({
        "org": text("org").unwrap_or_default(),
        "revision": revision,
        "decision": text("decision").unwrap_or_default(),
        "conditions": conditions,
        "reason": text("reason"),
        // The form offers a valid-until date for an approval; a rejection has
        // none, so the pre-filled date is not held against the person.
        "valid_until": if text("decision").as_deref() == Some("rejected") { None } else { text("valid_until") },
        "decision_reference": text("decision_reference"),
        "public_reason": text("public_reason"),
    });
    serde_json::from_value(request).map_err(|_| {
        AppError::field(
            "invalid_request",
            "/decision",
            "Choose approved, approved with conditions or rejected.",
            "Välj godkänd, godkänd med villkor eller avslag.",
        )
    })
}

/// `POST /services/{id}/decide` — the decision form.
pub async fn decide(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (web, fields) = match checked_form(&state, &req, &body).await {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    let lang = lang_of(&req);
    let service_id = path.into_inner();
    let outcome = match decision_request(&fields) {
        Ok(request) => {
            let id = service_id.clone();
            write_as_session(&state, &req, move |conn, current| {
                approvals::service::decide(conn, &current.actor, &id, &request)
            })
            .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => no_store(see_other(&format!("/services/{}?decided=1", super::encode(&service_id)))),
        Err(AppError::Unauthorized) => see_other("/login"),
        Err(error) => {
            // Shown on the same page, next to the form, with what was wrong.
            let status = actix_web::ResponseError::status_code(&error);
            let envelope = error.envelope();
            let mut message = pick(lang, &envelope.error.message_sv, &envelope.error.message);
            for d in &envelope.error.details {
                let detail = pick(lang, &d.message_sv, &d.message);
                if !message.contains(&detail) {
                    message.push_str(&format!(" {detail}"));
                }
            }
            // What was typed stays, and each message stands beside its field.
            let typed: serde_json::Map<String, Value> = DECISION_FIELDS
                .iter()
                .map(|name| (name.to_string(), json!(field(&fields, name).unwrap_or(""))))
                .collect();
            let field_errors: serde_json::Map<String, Value> = envelope
                .error
                .details
                .iter()
                .filter_map(|d| {
                    let name = d.pointer.trim_start_matches('/').split('/').next()?;
                    let name = if name == "conditions" { "other_condition" } else { name };
                    (!name.is_empty()).then(|| (name.to_string(), json!(pick(lang, &d.message_sv, &d.message))))
                })
                .collect();
            match load_service_page(&state, &web, service_id, None).await {
                Ok(loaded) => {
                    let mut context = service_context(&state, lang, &web, &loaded);
                    if let Some(map) = context.as_object_mut() {
                        map.insert("decided".into(), json!(false));
                        map.insert("submitted".into(), json!(false));
                        map.insert("created".into(), Value::Null);
                        map.insert("error".into(), json!(message));
                        map.insert("typed".into(), Value::Object(typed));
                        map.insert("field_errors".into(), Value::Object(field_errors));
                    }
                    let title = state.views.text(lang, "service_title");
                    match state.views.render(&req, lang, "service", &title, &context) {
                        Ok(body) => no_store(html(status, body)),
                        Err(e) => error_page(&state, &req, &e),
                    }
                }
                Err(_) => error_page(&state, &req, &error),
            }
        }
    }
}

/// The fields of the decision form.
const DECISION_FIELDS: &[&str] = &[
    "org",
    "decision",
    "information_class_max",
    "no_personal_data",
    "no_special_category_data",
    "permitted_tasks",
    "required_settings",
    "other_condition",
    "reason",
    "valid_until",
    "decision_reference",
    "public_reason",
];

/// `POST /decisions/{id}/revoke` — an approver revokes a decision with a
/// reason, as `POST /api/v1/decisions/{id}/revoke` does.
pub async fn revoke_decision(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let lang = lang_of(&req).as_str();
    let decision_id = path.into_inner();
    post_form(&state, &req, &body, move |conn, web, fields| {
        let reason = field(fields, "reason").unwrap_or("").trim().to_string();
        let revoked = approvals::service::revoke_decision(conn, &web.actor, &decision_id, &reason)?;
        Ok(format!("/services/{}?revoked=1&lang={lang}", super::encode(&revoked.service_id)))
    })
    .await
}

/// Runs `action` in one write transaction as the request's session,
/// authenticated again inside it (so a session or role that ended a moment
/// ago changes nothing), then brings this node's lookup up to date.
pub(super) async fn write_as_session<T, F>(state: &AppState, req: &HttpRequest, mut action: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnMut(&mut DbConnection, &WebActor) -> Result<T, AppError> + Send + 'static,
{
    let session = session_id(req).unwrap_or_default();
    let after = state.clone();
    state
        .db
        .run(move |conn| {
            let result = db::write(conn, |conn| {
                let current = sessions::authenticate(conn, &session)?;
                action(conn, &current)
            })?;
            after.refresh_lookup(conn);
            Ok(result)
        })
        .await
}

/// The checks every signed-in form POST passes first: not cross-site, a
/// readable form, a live session, and that session's CSRF token. A failure
/// is the answer to send.
async fn checked_form(
    state: &AppState,
    req: &HttpRequest,
    body: &[u8],
) -> Result<(WebActor, Vec<(String, String)>), HttpResponse> {
    checked_form_limited(state, req, body, FORM_LIMIT).await
}

/// `checked_form` for a form that may be larger (the submission form, up to
/// the API's own body limit).
pub(super) async fn checked_form_limited(
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

/// A form POST of a signed-in page: refuses cross-site requests, reads the
/// form, checks the session and its CSRF token, then runs `action` in one
/// write transaction (authenticating the session again inside it) and
/// answers 303 to the page it returns. A refusal is a page in the layout.
pub(super) async fn post_form<F>(state: &AppState, req: &HttpRequest, body: &[u8], action: F) -> HttpResponse
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

pub(super) fn form_field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    field(fields, name).map(str::trim).filter(|v| !v.is_empty())
}
