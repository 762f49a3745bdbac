//! The coordinators' import page: the template to download, a file to
//! upload (a plain `multipart/form-data` form, no script), and the report
//! of what each row became.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_core::Stream;
use serde::Serialize;
use serde_json::json;

use super::model::MAX_BYTES;
use super::service::{self, ImportReport, RowOutcome};
use crate::auth::Role;
use crate::error::AppError;
use crate::i18n::Message;
use crate::lang::Lang;
use crate::state::AppState;
use crate::submissions::form;
use crate::web::lang_of;
use crate::web::session::{
    SignedIn, check_csrf, error_page, no_store, page, refuse_cross_site, see_other, signed_in, user_view,
    write_as_session,
};

/// `GET /import` — the form.
pub async fn import_page(state: web::Data<AppState>, req: HttpRequest, SignedIn(web): SignedIn) -> HttpResponse {
    if !web.actor.has(Role::Coordinator) {
        return error_page(&state, &req, &AppError::Forbidden { why: "why-coordinators_create" });
    }
    let lang = lang_of(&req);
    let context = json!({"user": user_view(&state, lang, &web)});
    page(&state, &req, lang, "import", "import_title", context)
}

/// The next part of a multipart stream, as `futures`' `next` would give it.
async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *stream).poll_next(cx)).await
}

/// The form's two parts: the CSRF token and the file.
async fn read_form(mut multipart: Multipart) -> Result<(String, Vec<u8>), AppError> {
    let unreadable =
        |e: actix_multipart::MultipartError| AppError::bad_request(format!("the form could not be read ({e})"));
    let (mut csrf, mut file) = (String::new(), Vec::new());
    while let Some(field) = next(&mut multipart).await {
        let mut field = field.map_err(unreadable)?;
        let name = field.name().unwrap_or_default().to_string();
        let limit = if name == "file" { MAX_BYTES } else { 1024 };
        let mut bytes = Vec::new();
        while let Some(chunk) = next(&mut field).await {
            let chunk = chunk.map_err(unreadable)?;
            if bytes.len() + chunk.len() > limit {
                return Err(AppError::PayloadTooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "file" => file = bytes,
            _ => {}
        }
    }
    Ok((csrf, file))
}

/// `POST /import` — imports the uploaded file into the coordinator's
/// organisation and shows the report. A file that cannot be read changes
/// nothing and shows the form again with the reason.
pub async fn import(state: web::Data<AppState>, req: HttpRequest, multipart: Multipart) -> HttpResponse {
    if let Err(e) = refuse_cross_site(&req) {
        return error_page(&state, &req, &e);
    }
    // Who asks comes first: nobody without a session makes the server read a file.
    let web = match signed_in(&state, &req).await {
        Ok(Some(web)) => web,
        Ok(None) => return see_other("/login"),
        Err(e) => return error_page(&state, &req, &e),
    };
    let (csrf, file) = match read_form(multipart).await {
        Ok(form) => form,
        Err(e) => return error_page(&state, &req, &e),
    };
    if let Err(e) = check_csrf(&web, &[("csrf".to_string(), csrf)]) {
        return error_page(&state, &req, &e);
    }
    let lang = lang_of(&req);
    let policies = state.policies();
    let result = write_as_session(&state, &req, move |conn, current| {
        service::import_file(conn, &current.actor, &policies, &current.actor.org_slug.clone(), &file)
    })
    .await;
    let mut context = json!({"user": user_view(&state, lang, &web)});
    match result {
        Ok(report) => context["report"] = json!(in_words(&report, lang)),
        Err(AppError::Unauthorized) => return see_other("/login"),
        Err(e @ (AppError::Unprocessable { .. } | AppError::PayloadTooLarge)) => {
            let (en, sv) = e.messages();
            context["error"] = json!(if lang == Lang::Sv { sv } else { en });
        }
        Err(e) => return error_page(&state, &req, &e),
    }
    no_store(page(&state, &req, lang, "import", "import_title", context))
}

/// One row of the report in words.
#[derive(Debug, Serialize)]
pub struct RowWords {
    pub row: usize,
    pub name: String,
    pub draft_id: Option<String>,
    /// The service already registered under the row's name.
    pub service_id: Option<String>,
    pub outcome: String,
    pub filled: Vec<String>,
    pub missing: Vec<String>,
    /// "12 uppgifter återstår".
    pub missing_summary: String,
    /// Nothing is missing: the draft can be submitted.
    pub ready: bool,
    pub problems: Vec<String>,
}

/// The report in words.
#[derive(Debug, Serialize)]
pub struct ReportWords {
    pub summary: String,
    pub ignored_columns: String,
    pub rows: Vec<RowWords>,
}

/// The report in words, in `lang`: per row, what it became, what it filled
/// and what the draft still lacks. The page and `tillit import` show it.
pub fn in_words(report: &ImportReport, lang: Lang) -> ReportWords {
    let catalogue = crate::i18n::catalogue();
    let text = |key: &str| catalogue.text(lang, key);
    let label = |pointer: &str| form::describe_field(pointer, &text).unwrap_or_else(|| pointer.to_string());
    let rows = report
        .rows
        .iter()
        .map(|r| {
            let outcome = match (r.outcome, r.name.is_some(), r.same_as_row) {
                (RowOutcome::Created, ..) => text("import_row_created"),
                (RowOutcome::Updated, ..) => text("import_row_updated"),
                (RowOutcome::Skipped, false, _) => text("import_row_no_name"),
                (RowOutcome::Skipped, true, Some(row)) => {
                    Message::new("import_row_same_name").with("row", row as i64).text(lang)
                }
                (RowOutcome::Skipped, true, None) => text("import_row_skipped"),
                (RowOutcome::AlreadyRegistered, ..) => text("import_row_registered"),
            };
            RowWords {
                row: r.row,
                name: r.name.clone().unwrap_or_else(|| "–".to_string()),
                draft_id: r.draft_id.clone(),
                service_id: r.service_id.clone(),
                outcome,
                filled: r.filled.iter().map(|p| label(p)).collect(),
                missing: r.missing.iter().map(|p| label(p)).collect(),
                missing_summary: Message::new("import_missing_count").with("count", r.missing.len() as i64).text(lang),
                ready: r.draft_id.is_some() && r.missing.is_empty(),
                problems: r
                    .problems
                    .iter()
                    .map(|p| {
                        Message::new("import_cell_unknown")
                            .with("column", p.column.clone())
                            .with("value", p.value.clone())
                            .text(lang)
                    })
                    .collect(),
            }
        })
        .collect();
    ReportWords {
        summary: Message::new("import_summary")
            .with("created", report.created as i64)
            .with("updated", report.updated as i64)
            .with("skipped", report.skipped as i64)
            .text(lang),
        ignored_columns: report.ignored_columns.join(", "),
        rows,
    }
}
