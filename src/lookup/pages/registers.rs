//! The public register pages: every organisation's register, one
//! organisation's, and one service as residents read it.

use super::*;

/// `GET /register` — the national register: every organisation's published,
/// approved services, with search, filters (organisation, status, risk
/// class, phase) and counts, and the links to each organisation's register.
pub async fn registers_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if let Err(e) = state.rate_limit(&req) {
        return state.views.error_page(&req, &e);
    }
    let lang = lang_of(&req);
    let snapshot = state.lookup.snapshot();
    let param = |name: &str| query_param(&req, name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let (q, want_org, want_status, want_risk, want_phase) =
        (param("q"), param("org"), param("status"), param("risk_class"), param("phase"));
    let snap = snapshot.clone();
    let all = match state
        .db
        .run(move |conn| {
            let mut all = Vec::new();
            for org in 0..snap.orgs.len() as u16 {
                for entry in register::entries(conn, &snap, org)? {
                    all.push((org, entry));
                }
            }
            Ok(all)
        })
        .await
    {
        Ok(all) => all,
        Err(e) => return state.views.error_page(&req, &e),
    };
    let t = |key: &str| state.views.text(lang, key);
    let folded = |text: &str| text.to_lowercase();
    let matches_query = |e: &register::RegisterEntry| {
        q.as_deref().is_none_or(|q| folded(&e.name).contains(&folded(q)) || folded(&e.vendor).contains(&folded(q)))
    };
    let org_slug = |org: u16| snapshot.orgs[org as usize].slug.as_str();
    let shown: Vec<&(u16, register::RegisterEntry)> = all
        .iter()
        .filter(|(org, e)| {
            matches_query(e)
                && want_org.as_deref().is_none_or(|w| w == org_slug(*org))
                && want_status.as_deref().is_none_or(|w| w == e.status.as_str())
                && want_risk.as_deref().is_none_or(|w| w == e.risk_class)
                && want_phase.as_deref().is_none_or(|w| w == e.phase)
        })
        .collect();
    // Each choice with how many of the searched services it has.
    let count = |pred: &dyn Fn(&(u16, register::RegisterEntry)) -> bool| {
        all.iter().filter(|x| matches_query(&x.1) && pred(x)).count()
    };
    let order = crate::swedish::SwedishOrder::new();
    let mut org_options: Vec<serde_json::Value> = snapshot
        .orgs
        .iter()
        .enumerate()
        .map(|(i, o)| {
            serde_json::json!({"value": o.slug, "label": format!("{} ({})", o.name, count(&|x| x.0 as usize == i)),
                "selected": want_org.as_deref() == Some(o.slug.as_str()), "name": o.name})
        })
        .collect();
    org_options.sort_by(|a, b| order.compare(a["name"].as_str().unwrap_or(""), b["name"].as_str().unwrap_or("")));
    let options = |codes: &[&str],
                   key: &dyn Fn(&str) -> String,
                   wanted: &Option<String>,
                   of: &dyn Fn(&register::RegisterEntry) -> String| {
        codes
            .iter()
            .map(|code| {
                serde_json::json!({"value": code, "label": format!("{} ({})", key(code), count(&|x| of(&x.1) == *code)),
                    "selected": wanted.as_deref() == Some(*code)})
            })
            .collect::<Vec<_>>()
    };
    let status_options =
        options(&["allowed", "allowed_with_conditions"], &|c| t(&format!("status_{c}")), &want_status, &|e| {
            e.status.as_str().to_string()
        });
    let risk_options = options(
        &["prohibited", "high_risk", "limited_transparency", "minimal", "not_ai_system"],
        &|c| t(&format!("value-{c}")),
        &want_risk,
        &|e| e.risk_class.clone(),
    );
    let phase_options =
        options(&["planned", "pilot", "in_use", "retired"], &|c| t(&format!("value-{c}")), &want_phase, &|e| {
            e.phase.clone()
        });
    let mut rows: Vec<serde_json::Value> = shown
        .iter()
        .map(|(org, e)| {
            let info = &snapshot.orgs[*org as usize];
            serde_json::json!({
                "href": format!("/register/{}/{}", info.slug, crate::web::encode(&e.service_id)),
                "name": e.name, "vendor": e.vendor, "org_name": info.name,
                "status": e.status.as_str(), "status_label": t(&format!("status_{}", e.status.as_str())),
                "risk_label": if e.risk_class.is_empty() { "–".to_string() } else { t(&format!("value-{}", e.risk_class)) },
                "phase_label": if e.phase.is_empty() { "–".to_string() } else { t(&format!("value-{}", e.phase)) },
                "summary": e.short_description,
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        order
            .compare(a["name"].as_str().unwrap_or(""), b["name"].as_str().unwrap_or(""))
            .then_with(|| order.compare(a["org_name"].as_str().unwrap_or(""), b["org_name"].as_str().unwrap_or("")))
    });
    let mut orgs: Vec<OrgOption> = snapshot
        .orgs
        .iter()
        .map(|o| OrgOption { slug: o.slug.clone(), name: o.name.clone(), selected: false })
        .collect();
    order.sort_by_key(&mut orgs, |o| &o.name);
    let page = serde_json::json!({
        "q": q.clone().unwrap_or_default(),
        "org_options": org_options,
        "status_options": status_options,
        "risk_options": risk_options,
        "phase_options": phase_options,
        "count": rows.len(),
        "rows": rows,
        "orgs": orgs,
    });
    let title = t("register_national_title");
    match state.views.render(&req, lang, "registers", &title, &page) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => state.views.error_page(&req, &e),
    }
}

#[derive(Serialize)]
pub(super) struct EntryView {
    pub(super) service_id: String,
    pub(super) name: String,
    pub(super) vendor: String,
    pub(super) short_description: String,
    pub(super) intended_use: String,
    pub(super) status: &'static str,
    pub(super) status_label: String,
    pub(super) conditions: Vec<String>,
    pub(super) deciding_function: String,
    pub(super) via_delegation: bool,
    pub(super) decided_on: String,
    pub(super) valid_until: Option<String>,
    pub(super) decision_reference: Option<String>,
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
        Some((slug, "xlsx")) => (slug.to_string(), "xlsx"),
        _ => (name.clone(), "html"),
    };
    let snapshot = state.lookup.snapshot();
    let Some(org_index) = snapshot.org_index(&slug) else {
        let error = crate::organisations::service::unknown_org(&slug);
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
        "csv" | "xlsx" => {
            // Swedish words beside the codes, whatever the page's language.
            let label = |key: &str| state.views.text(Lang::Sv, key);
            let title = format!("{} {}", state.views.text(Lang::Sv, "register_title"), org.name);
            let (body, content_type) = match format {
                "csv" => (register::csv(&entries, &label), "text/csv; charset=utf-8"),
                _ => (
                    register::xlsx(&entries, &label, &title),
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
            };
            match body {
                Ok(body) => HttpResponse::Ok()
                    .insert_header(("Content-Type", content_type))
                    .insert_header((
                        "Content-Disposition",
                        format!("attachment; filename=\"{}\"", download_name(&org.slug, format)),
                    ))
                    .insert_header(("Cache-Control", "public, max-age=60"))
                    .body(body),
                Err(e) => actix_web::ResponseError::error_response(&e),
            }
        }
        _ => {
            let pick = |sv: &str, en: &str| if lang == Lang::Sv { sv.to_string() } else { en.to_string() };
            let views: Vec<EntryView> = entries
                .into_iter()
                .map(|e| EntryView {
                    service_id: e.service_id.clone(),
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
            let intro = state.views.format(lang, "register_intro", &[("org", org.name.as_str().into())]);
            let title = format!("{} {}", state.views.text(lang, "register_title"), org.name);
            let page = serde_json::json!({ "org": org.slug, "org_name": org.name, "intro": intro, "entries": views });
            match state.views.render(&req, lang, "register", &title, &page) {
                Ok(body) => html(StatusCode::OK, body),
                Err(e) => state.views.error_page(&req, &e),
            }
        }
    }
}

/// A download's file name: the organisation and today's date, for example
/// `tillit-kinda-2026-12-07.xlsx`.
pub fn download_name(org: &str, extension: &str) -> String {
    format!("tillit-{org}-{}.{extension}", crate::swedish::today())
}

/// `GET /register/{org}/{service_id}` — a published service's permanent
/// public page: a plain summary, then the details and the decisions' history.
pub async fn public_service_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    if let Err(e) = state.rate_limit(&req) {
        return state.views.error_page(&req, &e);
    }
    let lang = lang_of(&req);
    let (slug, service_id) = path.into_inner();
    let snapshot = state.lookup.snapshot();
    let Some(org_index) = snapshot.org_index(&slug) else {
        return state.views.error_page(&req, &crate::organisations::service::unknown_org(&slug));
    };
    let org = snapshot.orgs[org_index as usize].clone();
    let snap = snapshot.clone();
    let id = service_id.clone();
    let found = match state.db.run(move |conn| register::public_service(conn, &snap, org_index, &id)).await {
        Ok(Some(found)) => found,
        Ok(None) => return state.views.error_page(&req, &crate::error::AppError::NotFound),
        Err(e) => return state.views.error_page(&req, &e),
    };
    let t = |key: &str| state.views.text(lang, key);
    let value = |code: &str| if code.is_empty() { "–".to_string() } else { t(&format!("value-{code}")) };
    let or_dash = |text: &str| if text.trim().is_empty() { "–".to_string() } else { text.to_string() };
    let pick = |sv: &str, en: &str| if lang == Lang::Sv { sv.to_string() } else { en.to_string() };
    let e = &found.entry;
    let page = serde_json::json!({
        "org": org.slug,
        "org_name": org.name,
        "name": e.name,
        "vendor": e.vendor,
        "summary": or_dash(&e.short_description),
        "status": e.status.as_str(),
        "status_label": t(&format!("status_{}", e.status.as_str())),
        "conditions": e.conditions_sv.iter().zip(&e.conditions_en).map(|(sv, en)| pick(sv, en)).collect::<Vec<_>>(),
        "details": [
            {"label": t("purpose"), "value": or_dash(&e.intended_use)},
            {"label": t("public_how_it_works"), "value": or_dash(&found.how_it_affects_decisions)},
            {"label": t("public_human_oversight"), "value": format!("{}{}", value(&found.human_oversight),
                if found.human_oversight_description.trim().is_empty() { String::new() } else { format!(". {}", found.human_oversight_description) })},
            {"label": t("public_data_storage"), "value": value(&found.data_storage)},
            {"label": t("public_data_processing"), "value": value(&found.data_processing)},
            {"label": t("public_risk_class"), "value": value(&e.risk_class)},
            {"label": t("public_dpia"), "value": or_dash(&found.dpia_summary)},
            {"label": t("public_fria"), "value": or_dash(&found.fria_summary)},
            {"label": t("public_phase"), "value": value(&e.phase)},
            {"label": t("decided_by"), "value": format!("{}{}", e.deciding_function, if e.via_delegation { format!(" ({})", t("via_delegation")) } else { String::new() })},
            {"label": t("decided_on"), "value": e.decided_on},
            {"label": t("valid_until"), "value": e.valid_until.clone().unwrap_or_else(|| "–".to_string())},
            {"label": t("decision_reference"), "value": e.decision_reference.clone().unwrap_or_else(|| "–".to_string())},
        ],
        "contact": found.contact,
        "product_url": found.product_url,
        "history": found.history.iter().map(|h| serde_json::json!({
            "decided_on": h.decided_on,
            "decision": t(&format!("decision_{}", h.decision)),
            "revision": h.revision,
            "revoked_on": h.revoked_on,
            "decision_reference": h.decision_reference.clone().unwrap_or_else(|| "–".to_string()),
        })).collect::<Vec<_>>(),
    });
    let title = e.name.clone();
    match state.views.render(&req, lang, "public_service", &title, &page) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => state.views.error_page(&req, &e),
    }
}
