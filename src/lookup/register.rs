//! The public AI register of an organisation: the services approved and in
//! use there, published entries only, as a page and as open data.
//!
//! The fields below are the whole public vocabulary: no person, no reason or
//! comment, no assessment detail, nothing pending, withheld or internal.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::index::{OrgInfo, Snapshot, Status};
use super::service::org_status;
use crate::db::schema::{decisions, revisions};
use crate::db::{self, DbConnection};
use crate::error::AppError;
use crate::i18n::catalogue;
use crate::lang::Lang;

/// One service in the register. These are the only fields published.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegisterEntry {
    pub service_id: String,
    pub name: String,
    pub vendor: String,
    pub short_description: String,
    pub intended_use: String,
    /// `allowed` or `allowed_with_conditions`.
    pub status: Status,
    pub conditions_sv: Vec<String>,
    pub conditions_en: Vec<String>,
    /// The AI function that decided.
    pub deciding_function: String,
    pub via_delegation: bool,
    pub decided_on: String,
    pub valid_until: Option<String>,
    /// The decision's reference (diarienummer), a public record.
    pub decision_reference: Option<String>,
    /// The AI Act risk class the description gives (`minimal`, `high_risk`, ...).
    pub risk_class: String,
    /// `planned`, `pilot`, `in_use` or `retired`.
    pub phase: String,
    /// What the service can do (`summarisation`, ...), to suggest
    /// alternatives; not part of the published fields.
    #[serde(skip)]
    pub capabilities: Vec<String>,
}

/// The JSON download.
#[derive(Debug, Serialize, ToSchema)]
pub struct Register {
    pub org: String,
    pub org_name: String,
    pub generated_at: String,
    pub entries: Vec<RegisterEntry>,
}

impl Register {
    pub fn new(org: &OrgInfo, entries: Vec<RegisterEntry>) -> Register {
        Register { org: org.slug.clone(), org_name: org.name.clone(), generated_at: db::rfc3339(&db::now()), entries }
    }
}

/// The published services approved in the organisation, by name.
pub fn entries(conn: &mut DbConnection, snapshot: &Snapshot, org: u16) -> Result<Vec<RegisterEntry>, AppError> {
    let today: NaiveDate = crate::swedish::today();
    let slug = snapshot.orgs[org as usize].slug.clone();
    let mut found: Vec<(RegisterEntry, String)> = Vec::new();
    for entry in snapshot.entries() {
        if !entry.public() {
            continue;
        }
        let status = org_status(snapshot, entry, org, today);
        if !matches!(status.status, Status::Allowed | Status::AllowedWithConditions) {
            continue;
        }
        found.push((
            RegisterEntry {
                service_id: entry.service_id().to_string(),
                name: entry.name().to_string(),
                vendor: entry.vendor().to_string(),
                short_description: String::new(),
                intended_use: String::new(),
                status: status.status,
                conditions_sv: status.conditions.iter().map(|c| c.text_sv.clone()).collect(),
                conditions_en: status.conditions.iter().map(|c| c.text_en.clone()).collect(),
                deciding_function: status.decided_by_function.unwrap_or_default(),
                via_delegation: status.via_delegation,
                decided_on: status.decided_on.unwrap_or_default(),
                valid_until: status.valid_until,
                decision_reference: None,
                risk_class: String::new(),
                phase: String::new(),
                capabilities: Vec::new(),
            },
            entry.service_id().to_string(),
        ));
    }
    // Descriptions and references come from the stored records: the
    // revision this organisation's latest decision was made on, which is
    // the revision the entry shows (an approval covers only what it approved).
    for chunk in found.chunks_mut(500) {
        let ids: Vec<String> = chunk.iter().map(|(_, id)| id.clone()).collect();
        let refs: Vec<(String, String, Option<String>, chrono::NaiveDateTime)> = decisions::table
            .filter(decisions::service_id.eq_any(&ids))
            .filter(decisions::org_slug.eq(&slug))
            .order(decisions::decided_at.asc())
            .select((
                decisions::service_id,
                decisions::revision_id,
                decisions::decision_reference,
                decisions::decided_at,
            ))
            .load(conn)?;
        let latest: Vec<(&String, &String, &Option<String>)> = ids
            .iter()
            .filter_map(|id| {
                refs.iter().rev().find(|r| &r.0 == id).map(|(sid, rev, reference, _)| (sid, rev, reference))
            })
            .collect();
        let revision_ids: Vec<&String> = latest.iter().map(|(_, rev, _)| *rev).collect();
        let docs: Vec<(String, String)> = revisions::table
            .filter(revisions::id.eq_any(&revision_ids))
            .select((revisions::id, revisions::document))
            .load(conn)?;
        for (entry, id) in chunk.iter_mut() {
            let Some((_, revision_id, reference)) = latest.iter().find(|(sid, _, _)| *sid == id) else { continue };
            entry.decision_reference = (*reference).clone();
            if let Some((_, doc)) = docs.iter().find(|(rid, _)| rid == *revision_id) {
                let doc: Value = serde_json::from_str(doc)?;
                let text = |p: &str| doc.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
                entry.short_description = text("/service/short_description");
                entry.intended_use = text("/purpose/intended_use");
                entry.risk_class = text("/assessments/ai_act/risk_class");
                entry.phase = text("/service/phase");
                entry.capabilities = strings(&doc, "/service/capabilities");
            }
        }
    }
    let mut entries: Vec<RegisterEntry> = found.into_iter().map(|(e, _)| e).collect();
    let order = crate::swedish::SwedishOrder::new();
    entries.sort_by(|a, b| order.compare(&a.name, &b.name).then(a.service_id.cmp(&b.service_id)));
    Ok(entries)
}

fn strings(doc: &Value, pointer: &str) -> Vec<String> {
    doc.pointer(pointer)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// Why a service is not allowed in an organisation, for the employee: the
/// decision's public reason, and the services allowed there that can do
/// something it does (by capability), by name.
pub fn why_not(
    conn: &mut DbConnection,
    snapshot: &Snapshot,
    org: u16,
    service_id: &str,
) -> Result<(Option<String>, Vec<RegisterEntry>), AppError> {
    let slug = snapshot.orgs[org as usize].slug.clone();
    let reason: Option<Option<String>> = decisions::table
        .filter(decisions::service_id.eq(service_id))
        .filter(decisions::org_slug.eq(&slug))
        .order(decisions::decided_at.desc())
        .select(decisions::public_reason)
        .first(conn)
        .optional()?;
    let documents: Vec<String> = revisions::table
        .filter(revisions::service_id.eq(service_id))
        .filter(revisions::state.eq("submitted"))
        .order(revisions::revision.desc())
        .limit(1)
        .select(revisions::document)
        .load(conn)?;
    let wanted: Vec<String> = match documents.first() {
        Some(doc) => strings(&serde_json::from_str(doc)?, "/service/capabilities"),
        None => Vec::new(),
    };
    let alternatives = if wanted.is_empty() {
        Vec::new()
    } else {
        entries(conn, snapshot, org)?
            .into_iter()
            .filter(|e| e.service_id != service_id && e.capabilities.iter().any(|c| c != "other" && wanted.contains(c)))
            .take(5)
            .collect()
    };
    Ok((reason.flatten(), alternatives))
}

/// The columns of the downloads by machine name; the Excel header is the
/// catalogue's `register-column-{name}` in Swedish.
const COLUMNS: &[&str] = &[
    "service_id",
    "name",
    "vendor",
    "short_description",
    "intended_use",
    "status",
    "status_sv",
    "risk_class",
    "risk_class_sv",
    "phase",
    "phase_sv",
    "conditions_sv",
    "conditions_en",
    "deciding_function",
    "via_delegation",
    "decided_on",
    "valid_until",
    "decision_reference",
];

/// One entry's cells in the order of `COLUMNS`; `label` gives a code's
/// Swedish words.
fn cells(e: &RegisterEntry, label: &dyn Fn(&str) -> String) -> Vec<String> {
    vec![
        e.service_id.clone(),
        e.name.clone(),
        e.vendor.clone(),
        e.short_description.clone(),
        e.intended_use.clone(),
        e.status.as_str().to_string(),
        label(&format!("status_{}", e.status.as_str())),
        e.risk_class.clone(),
        label(&format!("value-{}", e.risk_class)),
        e.phase.clone(),
        label(&format!("value-{}", e.phase)),
        e.conditions_sv.join("; "),
        e.conditions_en.join("; "),
        e.deciding_function.clone(),
        if e.via_delegation { "ja" } else { "nej" }.to_string(),
        e.decided_on.clone(),
        e.valid_until.clone().unwrap_or_default(),
        e.decision_reference.clone().unwrap_or_default(),
    ]
}

/// The CSV download: UTF-8, comma-separated, one row per service; machine
/// names in the header, Swedish labels beside the codes.
pub fn csv(entries: &[RegisterEntry], label: &dyn Fn(&str) -> String) -> Result<Vec<u8>, AppError> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    let fail = |e: ::csv::Error| AppError::internal(format!("csv: {e}"));
    writer.write_record(COLUMNS).map_err(fail)?;
    for e in entries {
        writer.write_record(cells(e, label).iter().map(|c| crate::spreadsheet::cell(c).into_owned())).map_err(fail)?;
    }
    writer.into_inner().map_err(|e| AppError::internal(format!("csv: {e}")))
}

/// The Excel download: one sheet, Swedish headers and labels, a frozen
/// header row. Excel reads text cells as text, so nothing runs as a formula.
pub fn xlsx(entries: &[RegisterEntry], label: &dyn Fn(&str) -> String, title: &str) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{Format, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::internal(format!("xlsx: {e}"));
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("AI-register").map_err(fail)?;
    let bold = Format::new().set_bold();
    for (col, name) in COLUMNS.iter().enumerate() {
        let col = col as u16;
        let header = catalogue().text(Lang::Sv, &format!("register-column-{name}"));
        sheet.write_string_with_format(0, col, header, &bold).map_err(fail)?;
        sheet.set_column_width(col, if col < 5 { 30 } else { 18 }).map_err(fail)?;
    }
    for (row, e) in entries.iter().enumerate() {
        for (col, value) in cells(e, label).iter().enumerate() {
            sheet.write_string((row + 1) as u32, col as u16, value).map_err(fail)?;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(fail)?;
    workbook.set_properties(&rust_xlsxwriter::DocProperties::new().set_title(title));
    workbook.save_to_buffer().map_err(fail)
}

/// A published service's public page in one organisation: what the UK
/// standard calls the two tiers, a plain summary and the details. Only
/// public fields: no person, no reason, no assessment beyond its summary.
#[derive(Debug, Serialize)]
pub struct PublicService {
    pub entry: RegisterEntry,
    pub how_it_affects_decisions: String,
    pub human_oversight: String,
    pub human_oversight_description: String,
    pub data_storage: String,
    pub data_processing: String,
    pub dpia_summary: String,
    pub fria_summary: String,
    pub contact: String,
    pub product_url: String,
    /// The organisation's decisions on the service, oldest first.
    pub history: Vec<PublicDecision>,
}

#[derive(Debug, Serialize)]
pub struct PublicDecision {
    pub decided_on: String,
    pub decision: String,
    pub revision: i32,
    pub revoked_on: Option<String>,
    pub decision_reference: Option<String>,
}

/// A decision as the public page reads it: revision id and number, kind,
/// when, when revoked, reference.
type DecidedRow = (String, i32, String, chrono::NaiveDateTime, Option<chrono::NaiveDateTime>, Option<String>);

/// The public page of one service in one organisation's register; None when
/// it is not in that register (not published, not approved there).
pub fn public_service(
    conn: &mut DbConnection,
    snapshot: &Snapshot,
    org: u16,
    service_id: &str,
) -> Result<Option<PublicService>, AppError> {
    let Some(entry) = entries(conn, snapshot, org)?.into_iter().find(|e| e.service_id == service_id) else {
        return Ok(None);
    };
    let slug = snapshot.orgs[org as usize].slug.clone();
    let decided: Vec<DecidedRow> = decisions::table
        .filter(decisions::service_id.eq(service_id))
        .filter(decisions::org_slug.eq(&slug))
        .order(decisions::decided_at.asc())
        .select((
            decisions::revision_id,
            decisions::revision,
            decisions::decision,
            decisions::decided_at,
            decisions::revoked_at,
            decisions::decision_reference,
        ))
        .load(conn)?;
    let Some(shown) = decided.last().map(|d| d.0.clone()) else { return Ok(None) };
    let document: String = revisions::table.filter(revisions::id.eq(&shown)).select(revisions::document).first(conn)?;
    let doc: Value = serde_json::from_str(&document)?;
    let text = |p: &str| doc.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
    Ok(Some(PublicService {
        how_it_affects_decisions: text("/transparency/how_ai_affects_decisions"),
        human_oversight: text("/human_oversight/model"),
        human_oversight_description: text("/human_oversight/description"),
        data_storage: text("/data/data_location/storage"),
        data_processing: text("/data/data_location/processing"),
        dpia_summary: text("/assessments/dpia/summary"),
        fria_summary: text("/assessments/fria/summary"),
        contact: text("/governance/public_contact_email"),
        product_url: text("/service/product_url"),
        history: decided
            .into_iter()
            .map(|(_, revision, decision, at, revoked, reference)| PublicDecision {
                decided_on: db::date_text(&crate::swedish::local_date(&at)),
                decision,
                revision,
                revoked_on: revoked.map(|r| db::date_text(&crate::swedish::local_date(&r))),
                decision_reference: reference,
            })
            .collect(),
        entry,
    }))
}
