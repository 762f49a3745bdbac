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
    let today: NaiveDate = db::now().date();
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
            }
        }
    }
    let mut entries: Vec<RegisterEntry> = found.into_iter().map(|(e, _)| e).collect();
    entries.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.service_id.cmp(&b.service_id)));
    Ok(entries)
}

/// The CSV download: UTF-8, comma-separated, one row per service.
pub fn csv(entries: &[RegisterEntry]) -> Result<Vec<u8>, AppError> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    let header = [
        "service_id",
        "name",
        "vendor",
        "short_description",
        "intended_use",
        "status",
        "conditions_sv",
        "conditions_en",
        "deciding_function",
        "via_delegation",
        "decided_on",
        "valid_until",
        "decision_reference",
    ];
    let fail = |e: ::csv::Error| AppError::internal(format!("csv: {e}"));
    writer.write_record(header).map_err(fail)?;
    for e in entries {
        writer
            .write_record(
                [
                    e.service_id.as_str(),
                    &e.name,
                    &e.vendor,
                    &e.short_description,
                    &e.intended_use,
                    e.status.as_str(),
                    &e.conditions_sv.join("; "),
                    &e.conditions_en.join("; "),
                    &e.deciding_function,
                    if e.via_delegation { "true" } else { "false" },
                    &e.decided_on,
                    e.valid_until.as_deref().unwrap_or_default(),
                    e.decision_reference.as_deref().unwrap_or_default(),
                ]
                .map(crate::spreadsheet::cell)
                .map(|c| c.into_owned()),
            )
            .map_err(fail)?;
    }
    writer.into_inner().map_err(|e| AppError::internal(format!("csv: {e}")))
}
