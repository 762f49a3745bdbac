//! HTTP only: the compliance report.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::query::{self, Filter};
use super::render::{Format, Meta, Readable, Writer};
use crate::auth::Credentials;
use crate::auth::authz::{self, Action};
use crate::error::{AppError, ErrorEnvelope};
use crate::i18n::Message;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReportQuery {
    /// Only rows of this organisation (its slug).
    #[param(pattern = r"^[a-z0-9-]{2,40}$")]
    pub org: Option<String>,
    /// allowed, allowed_with_conditions, not_allowed, expired or not_assessed.
    #[param(pattern = r"^(allowed|allowed_with_conditions|not_allowed|expired|not_assessed)$")]
    pub status: Option<String>,
    /// prohibited, high_risk, limited_transparency, minimal or not_ai_system.
    #[param(pattern = r"^(prohibited|high_risk|limited_transparency|minimal|not_ai_system)$")]
    pub risk_class: Option<String>,
    /// Only approvals whose valid_until is within this many days.
    #[param(minimum = 0, maximum = 3650)]
    pub expiring_within_days: Option<i64>,
    /// What the registry said at the end of this day (YYYY-MM-DD).
    #[param(format = Date)]
    pub as_of: Option<String>,
    /// csv, csv-excel (semicolons and a byte-order mark, for Swedish Excel), json,
    /// html (a print-ready page) or xlsx (an Excel workbook). html and xlsx speak
    /// in words: labels, organisation names, local dates.
    #[param(pattern = r"^(csv|csv-excel|csv_excel|excel|json|html|xlsx)$")]
    pub format: Option<String>,
}

/// Checks and turns the query into a filter and a format (422 on nonsense).
pub fn parse(query: ReportQuery, known_orgs: &[String]) -> Result<(Filter, Format), AppError> {
    let format = match query.format.as_deref() {
        None => Format::Json,
        Some(f) => Format::parse(f)
            .ok_or_else(|| AppError::field("invalid_format", "/format", Message::new("error-invalid_format")))?,
    };
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => Some(
            [
                crate::lookup::index::Status::Allowed,
                crate::lookup::index::Status::AllowedWithConditions,
                crate::lookup::index::Status::NotAllowed,
                crate::lookup::index::Status::Expired,
                crate::lookup::index::Status::NotAssessed,
            ]
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| AppError::field("invalid_status", "/status", Message::new("error-invalid_status")))?,
        ),
    };
    if let Some(org) = &query.org {
        if !known_orgs.contains(org) {
            return Err(crate::organisations::service::unknown_org(org));
        }
    }
    if let Some(r) = &query.risk_class {
        if !["prohibited", "high_risk", "limited_transparency", "minimal", "not_ai_system"].contains(&r.as_str()) {
            return Err(AppError::field("invalid_risk_class", "/risk_class", Message::new("error-invalid_risk_class")));
        }
    }
    if query.expiring_within_days.is_some_and(|d| !(0..=3650).contains(&d)) {
        return Err(AppError::field("invalid_days", "/expiring_within_days", Message::new("error-invalid_days")));
    }
    let as_of = query.as_of.as_deref().map(|d| crate::approvals::model::parse_date(d, "/as_of")).transpose()?;
    Ok((
        Filter {
            org: query.org,
            status,
            risk_class: query.risk_class,
            expiring_within_days: query.expiring_within_days,
            as_of,
        },
        format,
    ))
}

/// Builds the report's self-description: time of export, filter, chain head.
pub fn meta(conn: &mut crate::db::DbConnection, filter: &Filter, rule_set_version: &str) -> Result<Meta, AppError> {
    let (seq, hash) = crate::audit::store::head(conn)?;
    Ok(Meta {
        generated_at: crate::db::rfc3339(&crate::db::now()),
        as_of: filter.as_of.map(|d| d.format("%Y-%m-%d").to_string()),
        filter: filter.into(),
        audit_head_seq: seq,
        audit_head_hash: hash,
        rule_set_version: rule_set_version.to_string(),
    })
}

/// `GET /api/v1/reports/compliance` — one row per service × organisation:
/// status, decision and reference, the deciding function and person, the
/// delegation, the rule set and each rule's outcome then and now,
/// valid-until and its flags, and the conditions. Auditors and admins.
/// Streamed row by row; `as_of` rebuilds a past day from the history.
#[utoipa::path(
    tag = "reports",
    params(ReportQuery),
    responses(
        (status = 200, description = "The report in the chosen format", content(
            (crate::openapi::ComplianceReportDocument = "application/json"),
            (String = "text/csv"),
            (String = "text/html"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, description = "Unknown organisation", body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/reports/compliance")]
pub async fn compliance(
    state: web::Data<AppState>,
    creds: Credentials,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, AppError> {
    respond(&state, query.into_inner(), crate::lang::Lang::Sv, move |conn| {
        crate::auth::service::authenticate(conn, &creds.token_hash)
    })
    .await
}

/// The words the people's formats use, in `lang`, with the organisations'
/// names as the lookup index holds them.
pub fn readable(state: &AppState, lang: crate::lang::Lang) -> Readable {
    Readable::new(lang, state.lookup.snapshot().orgs.iter().map(|o| (o.slug.clone(), o.name.clone())).collect())
}

/// The report's file name: the organisation (or "alla", every one) and the
/// day it describes, for example `tillit-efterlevnad-kinda-2026-12-07.xlsx`.
pub fn file_name(filter: &Filter, format: Format) -> String {
    let day = filter.as_of.unwrap_or_else(crate::swedish::today);
    format!("tillit-efterlevnad-{}-{day}.{}", filter.org.as_deref().unwrap_or("alla"), format.extension())
}

/// The compliance report for whoever `authenticate` finds (a bearer token,
/// or a signed-in session on the reports page), streamed row by row.
pub async fn respond(
    state: &AppState,
    query: ReportQuery,
    lang: crate::lang::Lang,
    authenticate: impl FnOnce(&mut crate::db::DbConnection) -> Result<crate::auth::Actor, AppError> + Send + 'static,
) -> Result<HttpResponse, AppError> {
    let orgs: Vec<String> = state.lookup.snapshot().orgs.iter().map(|o| o.slug.clone()).collect();
    let version = state.policies().version().to_string();
    let (filter, format, meta) = state
        .db
        .run(move |conn| {
            let actor = authenticate(conn)?;
            authz::can(&actor, Action::ExportReports)?;
            let (filter, format) = parse(query, &orgs)?;
            log::info!("compliance report by user {} of {}", actor.user_id, actor.org_slug);
            let meta = meta(conn, &filter, &version)?;
            Ok((filter, format, meta))
        })
        .await?;
    let headers = [
        ("Cache-Control", "no-store".to_string()),
        (
            "Content-Disposition",
            format!(
                "{}; filename=\"{}\"",
                if format == Format::Html { "inline" } else { "attachment" },
                file_name(&filter, format)
            ),
        ),
    ];
    let readable = readable(state, lang);
    Ok(crate::stream::respond(&state.db, format.content_type(), &headers, move |conn, sink| {
        let mut writer = Writer::new(format, sink, readable);
        writer.start(&meta)?;
        crate::db::read(conn, |conn| query::rows(conn, &filter, |row| writer.row(row)))?;
        writer.finish()?.flush()?;
        Ok(())
    }))
}
