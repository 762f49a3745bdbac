//! The submission form's pages: a coordinator starts a draft (of a new
//! service, or a new version of one), saves it as often as they like and
//! sees each rule's outcome next to the fields at fault, and turns it into
//! a revision when it is complete. The glossary explains the form's words.

pub mod glossary;

pub use glossary::glossary_page;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::db;
use crate::error::AppError;
use crate::policy::model::RuleOutcome;
use crate::state::AppState;
use crate::submissions::form::{self, Texts};
use crate::submissions::service as submissions;
use crate::web::session::{self, checked_form_limited, no_store, post_form, see_other, write_as_session};
use crate::web::{encode, lang_of, pick, query_param};

/// `POST /drafts` — starts a draft of a new service.
pub async fn start(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    start_draft(&state, &req, &body, None).await
}

/// `POST /services/{id}/drafts` — starts a draft of a new version, holding
/// the latest revision's content.
pub async fn start_version(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    start_draft(&state, &req, &body, Some(path.into_inner())).await
}

async fn start_draft(state: &AppState, req: &HttpRequest, body: &[u8], service_id: Option<String>) -> HttpResponse {
    let lang = lang_of(req).as_str();
    post_form(state, req, body, move |conn, web, fields| {
        let name = if service_id.is_none() { session::form_field(fields, "name") } else { None };
        let draft = submissions::start_draft(conn, &web.actor, service_id.as_deref(), name)?;
        Ok(format!("/drafts/{}?lang={lang}", encode(&draft.id)))
    })
    .await
}

/// `GET /drafts/{id}` — the form, with the outcome of the last save.
pub async fn page(state: web::Data<AppState>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let web = match session::signed_in(&state, &req).await {
        Ok(Some(web)) => web,
        Ok(None) => return session::to_login(&req),
        Err(e) => return session::error_page(&state, &req, &e),
    };
    form_page(&state, &req, web, path.into_inner(), None).await
}

/// A table's rows as the form posted them, and one more for the table whose
/// "Lägg till rad" was pressed: shown again without saving.
struct Unsaved {
    fields: Vec<(String, String)>,
    add_row_to: String,
}

impl Unsaved {
    /// How many rows the form showed for a table (blank ones too).
    fn posted_rows(&self, table: &str) -> usize {
        let prefix = format!("{table}/");
        self.fields
            .iter()
            .filter_map(|(k, _)| k.strip_prefix(&prefix)?.split('/').next()?.parse::<usize>().ok())
            .map(|i| i + 1)
            .max()
            .unwrap_or(0)
    }
}

/// The form of a draft: as saved, or as posted when a row was added.
async fn form_page(
    state: &AppState,
    req: &HttpRequest,
    web: crate::auth::sessions::WebActor,
    id: String,
    unsaved: Option<Unsaved>,
) -> HttpResponse {
    let lang = lang_of(req);
    let actor = web.actor.clone();
    let loaded = state
        .db
        .run(move |conn| {
            db::read(conn, |conn| {
                let draft = submissions::draft_as(conn, &actor, &id)?;
                let service_name = match &draft.service_id {
                    Some(service_id) => {
                        crate::submissions::service::revisions_of(conn, service_id)?.pop().map(|r| r.name)
                    }
                    None => None,
                };
                Ok((draft, service_name))
            })
        })
        .await;
    let (draft, service_name) = match loaded {
        Ok(x) => x,
        Err(e) => return session::error_page(state, req, &e),
    };
    let doc: Value = match &unsaved {
        Some(unsaved) => form::document_from_form(&unsaved.fields),
        // A draft that is not JSON any more cannot come from this form;
        // start from nothing rather than fail.
        None => serde_json::from_str(&draft.document).unwrap_or_else(|e| {
            log::warn!("draft {} holds a document that is not JSON: {e}", draft.id);
            json!({"schema_version": "1.0"})
        }),
    };
    // A new, empty draft is not judged before its first save; one made by an
    // import is, since its answers came from the file.
    let judged = unsaved.is_some()
        || draft.updated_at > draft.created_at
        || draft.service_id.is_some()
        || draft.import_key.is_some();
    let rows_wanted = |table: &str| -> usize {
        match &unsaved {
            Some(u) => u.posted_rows(table) + usize::from(u.add_row_to == table),
            None => 0,
        }
    };
    let policies = state.policies();
    // Only answered facts are judged: a check whose condition is unanswered waits.
    let (errors, (rules, waiting)) = if judged {
        (policies.schema_errors(&doc), policies.evaluate_answered(&doc))
    } else {
        (Vec::new(), (Vec::new(), Vec::new()))
    };
    let text = |key: &str| state.views.text(lang, key);
    let required_when = |pointer: &str| policies.required_when(pointer);
    let (sections, summary) = form::render(
        &doc,
        &errors,
        &rules,
        &waiting,
        &required_when,
        &rows_wanted,
        &Texts { lang, text: &text, countries: state.views.countries(lang) },
    );
    let rule_list: Vec<Value> = rules
        .iter()
        .map(|r| {
            let (outcome, class) = form::draft_outcome_words(r, &waiting);
            json!({
                "rule": r.rule.to_string(),
                "title": pick(lang, &r.title, &r.title_en),
                "outcome": text(outcome),
                "class": class,
                "section": format!("#s-{}", r.rule.to_ascii_lowercase()),
            })
        })
        .collect();
    // The section menu, with how many sections are done: judged, and no
    // field in them missing or failing.
    let menu: Vec<Value> = sections
        .iter()
        .map(|section| {
            let fields = section["fields"].as_array().map(Vec::as_slice).unwrap_or_default();
            let done = judged && fields.iter().all(|f| f["invalid"] != true);
            json!({"href": format!("#s-{}", section["id"].as_str().unwrap_or_default()), "title": section["title"], "done": done})
        })
        .collect();
    let done = menu.iter().filter(|m| m["done"] == true).count();
    let progress =
        crate::i18n::catalogue().format(lang, "draft_progress", &[("done", done.into()), ("total", menu.len().into())]);
    let all_clear = judged
        && errors.is_empty()
        && rules.iter().all(|r| matches!(r.outcome, RuleOutcome::Pass | RuleOutcome::NotApplicable));
    let context = json!({
        "user": session::user_view(state, lang, &web),
        "draft": {
            "id": draft.id,
            "service_id": draft.service_id,
            "service_name": service_name,
            "saved_at": crate::swedish::local_minute(&draft.updated_at),
        },
        "saved": unsaved.is_none() && query_param(req, "saved").is_some(),
        "incomplete": unsaved.is_none() && query_param(req, "incomplete").is_some(),
        "unsaved": unsaved.is_some(),
        "judged": judged,
        "complete": judged && errors.is_empty(),
        "all_clear": all_clear,
        "rule_set_version": policies.version(),
        "rules": rule_list,
        "summary": summary,
        "sections": sections,
        "menu": menu,
        "progress": progress,
    });
    session::page(state, req, lang, "draft", "draft_title", context)
}

/// `POST /drafts/{id}` — saves the form (`action=save`), saves it and makes
/// it a revision when it is complete (`action=complete`), or deletes the
/// draft (`action=discard`).
pub async fn save(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (web, fields) = match checked_form_limited(&state, &req, &body, crate::http::MAX_BODY_BYTES).await {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    let lang = lang_of(&req).as_str();
    let id = path.into_inner();
    let action = session::form_field(&fields, "action").unwrap_or("save").to_string();
    // "Lägg till rad": the same form again with one more row, not saved.
    if let Some(table) = action.strip_prefix("add_row:") {
        if !form::is_table(table) {
            return session::error_page(&state, &req, &AppError::bad_request("unknown table"));
        }
        let unsaved = Unsaved { add_row_to: table.to_string(), fields };
        return no_store(form_page(&state, &req, web, id, Some(unsaved)).await);
    }
    let draft_url = |marker: &str| format!("/drafts/{}?{marker}=1&lang={lang}#form-summary", encode(&id));
    let outcome: Result<String, AppError> = match action.as_str() {
        "discard" => {
            let id = id.clone();
            write_as_session(&state, &req, move |conn, web| submissions::discard_draft(conn, &web.actor, &id))
                .await
                .map(|()| format!("/start?discarded=1&lang={lang}"))
        }
        "complete" => {
            let document = form::document_from_form(&fields);
            let policies = state.policies();
            let draft_id = id.clone();
            write_as_session(&state, &req, move |conn, web| {
                submissions::complete_draft(conn, &web.actor, &policies, &draft_id, &document)
            })
            .await
            .map(|created| match created {
                Some(created) => {
                    format!("/services/{}?created={}&lang={lang}", encode(&created.service_id), created.revision)
                }
                None => draft_url("incomplete"),
            })
        }
        "save" => {
            let document = form::document_from_form(&fields);
            let draft_id = id.clone();
            write_as_session(&state, &req, move |conn, web| {
                submissions::save_draft(conn, &web.actor, &draft_id, &document)
            })
            .await
            .map(|_| draft_url("saved"))
        }
        _ => Err(AppError::bad_request("unknown action: save, complete, discard or add_row:TABLE")),
    };
    match outcome {
        Ok(location) => no_store(see_other(&location)),
        Err(AppError::Unauthorized) => see_other("/login"),
        Err(e) => session::error_page(&state, &req, &e),
    }
}
