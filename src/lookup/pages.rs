//! The public pages: the lookup (`/`), the registers (`/register`,
//! `/register/{org}`) and their open-data downloads. Nothing here needs
//! JavaScript, and nothing here shows a person, an internal comment, a
//! draft, a pending or withheld service, or an `internal_only` one.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use crate::i18n::Message;
use crate::lookup::index::Status;
use crate::lookup::register;
use crate::lookup::service::lookup;
use crate::state::AppState;
use crate::web::{LANG_COOKIE, Lang, html, lang_of, query_param};

mod registers;

pub use registers::*;

pub const ORG_COOKIE: &str = "tillit_org";

fn remember(response: &mut HttpResponse, name: &'static str, value: &str) {
    let cookie = Cookie::build(name, value.to_string())
        .path("/")
        .max_age(actix_web::cookie::time::Duration::days(365))
        .same_site(SameSite::Lax)
        .http_only(true)
        .finish();
    let _ = response.add_cookie(&cookie);
}

fn status_label(views: &crate::web::Views, lang: Lang, status: Status) -> String {
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
    #[serde(skip)]
    service_id: String,
    /// For "Nej": the decision's public reason, and services allowed here
    /// that can do the same (name, public page).
    why: Option<String>,
    alternatives: Vec<(String, String)>,
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
                if let (Some(unanswered), Some(org)) = (crate::lookup::service::unanswered(&response), org.as_deref()) {
                    state.demand.count(org, &q, &unanswered, crate::swedish::today());
                }
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
                            service_id: m.service.id.clone(),
                            why: None,
                            alternatives: Vec::new(),
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
                                Message::new("answer-allowed_on_conditions")
                                    .with("name", view.name.as_str())
                                    .with("org", s.org_name.as_str())
                                    .text(lang)
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
    // "Nej" says why, and what may be used instead.
    if let Some(org_index) = org.as_deref().and_then(|o| snapshot.org_index(o)) {
        let refused: Vec<(usize, String)> = page
            .matches
            .iter()
            .enumerate()
            .filter(|(_, m)| m.status == Status::NotAllowed.as_str())
            .map(|(i, m)| (i, m.service_id.clone()))
            .collect();
        if !refused.is_empty() {
            let snap = snapshot.clone();
            let slug = snapshot.orgs[org_index as usize].slug.clone();
            let found = state
                .db
                .run(move |conn| {
                    refused
                        .into_iter()
                        .map(|(i, id)| Ok((i, register::why_not(conn, &snap, org_index, &id)?)))
                        .collect::<Result<Vec<_>, crate::error::AppError>>()
                })
                .await;
            match found {
                Ok(found) => {
                    for (i, (why, alternatives)) in found {
                        if let Some(view) = page.matches.get_mut(i) {
                            view.why = why;
                            view.alternatives = alternatives
                                .into_iter()
                                .map(|e| (e.name, format!("/register/{slug}/{}", crate::web::encode(&e.service_id))))
                                .collect();
                        }
                    }
                }
                Err(e) => log::warn!("reasons and alternatives for a refused lookup: {e}"),
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
