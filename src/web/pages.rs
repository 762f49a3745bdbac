//! The public pages: the lookup (`/`), the registers (`/register`,
//! `/register/{org}`) and their open-data downloads. Nothing here needs
//! JavaScript, and nothing here shows a person, an internal comment, a
//! draft, a pending or withheld service, or an `internal_only` one.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::{LANG_COOKIE, Lang, html, lang_of, query_param};
use crate::lookup::index::Status;
use crate::lookup::register;
use crate::lookup::service::lookup;
use crate::state::AppState;

pub const ORG_COOKIE: &str = "tillit_org";
const STYLE: &str = include_str!("../../templates/static/style.css");
const REPORT_STYLE: &str = include_str!("../../templates/static/report.css");

fn remember(response: &mut HttpResponse, name: &'static str, value: &str) {
    let cookie = Cookie::build(name, value.to_string())
        .path("/")
        .max_age(actix_web::cookie::time::Duration::days(365))
        .same_site(SameSite::Lax)
        .http_only(true)
        .finish();
    let _ = response.add_cookie(&cookie);
}

fn status_label(views: &super::Views, lang: Lang, status: Status) -> String {
    views.text(lang, &format!("status_{}", status.as_str()))
}

#[derive(Serialize)]
struct OrgOption {
    slug: String,
    name: String,
    selected: bool,
}

#[derive(Serialize)]
struct PerOrg {
    org_name: String,
    status: &'static str,
    answer: String,
    valid_until: Option<String>,
}

#[derive(Serialize)]
struct MatchView {
    name: String,
    vendor: String,
    aliases: String,
    matched_on: String,
    fuzzy: bool,
    status: &'static str,
    status_label: String,
    answer: Option<String>,
    conditions: Vec<String>,
    decided_by: Option<String>,
    via_delegation: bool,
    decided_on: Option<String>,
    valid_until: Option<String>,
    per_org: Vec<PerOrg>,
}

#[derive(Serialize)]
struct LookupPage {
    q: String,
    orgs: Vec<OrgOption>,
    searched: bool,
    matches: Vec<MatchView>,
    error: Option<String>,
    /// With a municipality chosen: whom to ask about a tool not found.
    ask: Option<AskView>,
}

#[derive(Serialize)]
struct AskView {
    function_name: String,
    contact: String,
}

/// `GET /` — "Får jag använda X?", as a page.
pub async fn lookup_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if let Err(e) = state.rate_limit(&req) {
        return state.views.error_page(&req, &e);
    }
    let lang = lang_of(&req);
    let views = &state.views;
    let q = query_param(&req, "q").unwrap_or_default();
    // The municipality: chosen now, or remembered from the last visit.
    let org_param = query_param(&req, "org");
    let org =
        org_param.clone().or_else(|| req.cookie(ORG_COOKIE).map(|c| c.value().to_string())).filter(|o| !o.is_empty());
    let snapshot = state.lookup.snapshot();
    let org = org.filter(|o| snapshot.org_index(o).is_some());
    let orgs: Vec<OrgOption> = snapshot
        .orgs
        .iter()
        .map(|o| OrgOption {
            slug: o.slug.clone(),
            name: o.name.clone(),
            selected: org.as_deref() == Some(o.slug.as_str()),
        })
        .collect();
    let mut orgs: Vec<OrgOption> = orgs;
    crate::swedish::SwedishOrder::new().sort_by_key(&mut orgs, |o| &o.name);
    // Whom to ask when nothing is found: the chosen municipality's AI function.
    let ask = org
        .as_deref()
        .and_then(|slug| snapshot.orgs.iter().find(|o| o.slug == slug))
        .map(|o| AskView { function_name: o.function_name.clone(), contact: o.contact.clone() });
    let mut page = LookupPage { q: q.clone(), orgs, searched: false, matches: Vec::new(), error: None, ask };
    if !q.trim().is_empty() {
        page.searched = true;
        match lookup(&state.lookup, &q, org.as_deref(), false, 10) {
            Ok(response) => {
                let pick = |sv: &str, en: &str| if lang == Lang::Sv { sv.to_string() } else { en.to_string() };
                page.matches = response
                    .matches
                    .into_iter()
                    .map(|m| {
                        let matched_on = views.text(
                            lang,
                            &format!(
                                "matched_on_{}",
                                serde_json::to_value(m.matched_on)
                                    .ok()
                                    .and_then(|v| v.as_str().map(str::to_string))
                                    .unwrap_or_default()
                            ),
                        );
                        let mut view = MatchView {
                            name: m.service.name,
                            vendor: m.service.vendor,
                            aliases: m.service.aliases.join(", "),
                            matched_on,
                            fuzzy: m.match_kind == crate::lookup::index::MatchKind::Fuzzy,
                            status: "none",
                            status_label: String::new(),
                            answer: None,
                            conditions: Vec::new(),
                            decided_by: None,
                            via_delegation: false,
                            decided_on: None,
                            valid_until: None,
                            per_org: Vec::new(),
                        };
                        if let Some(s) = m.status {
                            view.status = s.status.as_str();
                            view.status_label = status_label(views, lang, s.status);
                            // The conditions are listed once below, not also run into the answer.
                            view.answer = Some(if s.status == Status::AllowedWithConditions {
                                pick(
                                    &format!("Ja, {} får användas i {} med de här villkoren:", view.name, s.org_name),
                                    &format!("Yes, {} may be used in {} on these conditions:", view.name, s.org_name),
                                )
                            } else {
                                pick(&s.answer_sv, &s.answer_en)
                            });
                            view.conditions = s.conditions.iter().map(|c| pick(&c.text_sv, &c.text_en)).collect();
                            view.decided_by = s.decided_by_function;
                            view.via_delegation = s.via_delegation;
                            view.decided_on = s.decided_on;
                            view.valid_until = s.valid_until;
                        }
                        for s in m.statuses.unwrap_or_default() {
                            view.per_org.push(PerOrg {
                                org_name: s.org_name,
                                status: s.status.as_str(),
                                answer: pick(&s.answer_sv, &s.answer_en),
                                valid_until: s.valid_until,
                            });
                        }
                        view
                    })
                    .collect();
            }
            Err(e) => {
                let (en, sv) = e.messages();
                page.error = Some(if lang == Lang::Sv { sv } else { en });
            }
        }
    }
    let title = views.text(lang, "lookup_title");
    let mut response = match views.render(&req, lang, "lookup", &title, &page) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => return views.error_page(&req, &e),
    };
    if let Some(org) = org_param.filter(|o| o.is_empty() || snapshot.org_index(o).is_some()) {
        remember(&mut response, ORG_COOKIE, &org);
    }
    if let Some(l) = query_param(&req, "lang").filter(|l| l == "sv" || l == "en") {
        remember(&mut response, LANG_COOKIE, &l);
    }
    response
}

/// `GET /register` — the list of organisations' registers.
pub async fn registers_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let lang = lang_of(&req);
    let snapshot = state.lookup.snapshot();
    let orgs: Vec<OrgOption> = snapshot
        .orgs
        .iter()
        .map(|o| OrgOption { slug: o.slug.clone(), name: o.name.clone(), selected: false })
        .collect();
    let title = state.views.text(lang, "register_title");
    match state.views.render(&req, lang, "registers", &title, &serde_json::json!({ "orgs": orgs })) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => state.views.error_page(&req, &e),
    }
}

#[derive(Serialize)]
struct EntryView {
    name: String,
    vendor: String,
    short_description: String,
    intended_use: String,
    status: &'static str,
    status_label: String,
    conditions: Vec<String>,
    deciding_function: String,
    via_delegation: bool,
    decided_on: String,
    valid_until: Option<String>,
    decision_reference: Option<String>,
}

/// `GET /register/{org}` (page), `/register/{org}.json` and `/register/{org}.csv` (open data).
pub async fn register_page(state: web::Data<AppState>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    if let Err(e) = state.rate_limit(&req) {
        return state.views.error_page(&req, &e);
    }
    let lang = lang_of(&req);
    let name = path.into_inner();
    let (slug, format) = match name.rsplit_once('.') {
        Some((slug, "json")) => (slug.to_string(), "json"),
        Some((slug, "csv")) => (slug.to_string(), "csv"),
        _ => (name.clone(), "html"),
    };
    let snapshot = state.lookup.snapshot();
    let Some(org_index) = snapshot.org_index(&slug) else {
        let error = crate::lookup::service::unknown_org(&slug);
        return if format == "html" {
            state.views.error_page(&req, &error)
        } else {
            actix_web::ResponseError::error_response(&error)
        };
    };
    let org = snapshot.orgs[org_index as usize].clone();
    let db = state.db.clone();
    let snap = snapshot.clone();
    let entries = match db.run(move |conn| register::entries(conn, &snap, org_index)).await {
        Ok(entries) => entries,
        Err(e) if format == "html" => return state.views.error_page(&req, &e),
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    match format {
        "json" => HttpResponse::Ok()
            .insert_header(("Cache-Control", "public, max-age=60"))
            .json(register::Register::new(&org, entries)),
        "csv" => match register::csv(&entries) {
            Ok(body) => HttpResponse::Ok()
                .insert_header(("Content-Type", "text/csv; charset=utf-8"))
                .insert_header((
                    "Content-Disposition",
                    format!("attachment; filename=\"ai-register-{}.csv\"", org.slug),
                ))
                .insert_header(("Cache-Control", "public, max-age=60"))
                .body(body),
            Err(e) => actix_web::ResponseError::error_response(&e),
        },
        _ => {
            let pick = |sv: &str, en: &str| if lang == Lang::Sv { sv.to_string() } else { en.to_string() };
            let views: Vec<EntryView> = entries
                .into_iter()
                .map(|e| EntryView {
                    status_label: state.views.text(lang, &format!("status_{}", e.status.as_str())),
                    status: e.status.as_str(),
                    conditions: e.conditions_sv.iter().zip(&e.conditions_en).map(|(sv, en)| pick(sv, en)).collect(),
                    name: e.name,
                    vendor: e.vendor,
                    short_description: e.short_description,
                    intended_use: e.intended_use,
                    deciding_function: e.deciding_function,
                    via_delegation: e.via_delegation,
                    decided_on: e.decided_on,
                    valid_until: e.valid_until,
                    decision_reference: e.decision_reference,
                })
                .collect();
            let intro = state.views.text(lang, "register_intro").replace("{org}", &org.name);
            let title = format!("{} {}", state.views.text(lang, "register_title"), org.name);
            let page = serde_json::json!({ "org": org.slug, "org_name": org.name, "intro": intro, "entries": views });
            match state.views.render(&req, lang, "register", &title, &page) {
                Ok(body) => html(StatusCode::OK, body),
                Err(e) => state.views.error_page(&req, &e),
            }
        }
    }
}

/// `GET /static/style.css`.
pub async fn style() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Content-Type", "text/css; charset=utf-8"))
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(STYLE)
}

/// `GET /static/report.css` — the print styles of the HTML report.
pub async fn report_style() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Content-Type", "text/css; charset=utf-8"))
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(REPORT_STYLE)
}
