//! Importing an inventory: each row becomes a draft of the organisation, in
//! one transaction, with a report of what each row filled and what is still
//! missing. A row's draft is keyed by its service name, so importing the
//! same file again updates the same drafts. An empty cell leaves the
//! draft's field as it is: what a coordinator added on the form stays.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::model::{self, CellProblem, Inventory};
use crate::audit::{self, AuditAction, NewEvent};
use crate::auth::Actor;
use crate::auth::authz::{self, Action};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::policy::PolicySet;
use crate::submissions::form;
use crate::submissions::service as submissions;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowOutcome {
    Created,
    Updated,
    /// No name, or the same name as an earlier row: nothing was made.
    Skipped,
    /// The organisation already has a service of this name: nothing was
    /// made (a new version is started from the service's page).
    AlreadyRegistered,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RowReport {
    /// The row's number in the file (the column names are row 1).
    pub row: usize,
    pub name: Option<String>,
    pub outcome: RowOutcome,
    pub draft_id: Option<String>,
    /// For a skipped row with a name: the row that had it first.
    pub same_as_row: Option<usize>,
    /// For a row of a service already registered: that service.
    pub service_id: Option<String>,
    /// Pointers of the fields this row filled.
    pub filled: Vec<String>,
    /// Pointers of the fields the draft still lacks or must correct before
    /// it can be submitted, in the form's order.
    pub missing: Vec<String>,
    /// Cells that could not be read; they were left out.
    pub problems: Vec<CellProblem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub org: String,
    pub created: usize,
    pub updated: usize,
    pub skipped: usize,
    /// Columns that name no field of the form; they were not read.
    pub ignored_columns: Vec<String>,
    pub rows: Vec<RowReport>,
}

/// The key of a row's draft: its name, lower case, spaces collapsed.
fn key_of(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Imports `inventory` into `org` as `actor`, in the caller's transaction.
pub fn import(
    conn: &mut DbConnection,
    actor: &Actor,
    policies: &PolicySet,
    org: &str,
    inventory: Inventory,
) -> Result<ImportReport, AppError> {
    crate::organisations::service::require(conn, org)?;
    authz::can(actor, Action::CreateService { org })?;
    let mut report = ImportReport {
        org: org.to_string(),
        created: 0,
        updated: 0,
        skipped: 0,
        ignored_columns: inventory.ignored_columns,
        rows: Vec::new(),
    };
    let registered: HashMap<String, String> =
        submissions::service_names_of(conn, org)?.into_iter().map(|(id, name)| (key_of(&name), id)).collect();
    let mut first_row: HashMap<String, usize> = HashMap::new();
    for row in inventory.rows {
        let name = row.name().map(str::to_string);
        let mut line = RowReport {
            row: row.number,
            name: name.clone(),
            outcome: RowOutcome::Skipped,
            draft_id: None,
            same_as_row: None,
            service_id: None,
            filled: row.filled.clone(),
            missing: Vec::new(),
            problems: row.problems.clone(),
        };
        let Some(name) = name else {
            report.skipped += 1;
            report.rows.push(line);
            continue;
        };
        let key = key_of(&name);
        if let Some(&earlier) = first_row.get(&key) {
            line.same_as_row = Some(earlier);
            report.skipped += 1;
            report.rows.push(line);
            continue;
        }
        first_row.insert(key.clone(), row.number);
        if let Some(id) = registered.get(&key) {
            line.outcome = RowOutcome::AlreadyRegistered;
            line.service_id = Some(id.clone());
            report.skipped += 1;
            report.rows.push(line);
            continue;
        }
        let imported: Vec<&str> = row.filled.iter().map(String::as_str).collect();
        let (draft, created) = submissions::import_draft(conn, actor, org, &key, |before| {
            // The draft's own answers, then this row's in place of those it fills.
            let mut fields: Vec<(String, String)> =
                form::fields_for(before).into_iter().filter(|(k, _)| !imported.contains(&k.as_str())).collect();
            fields.extend(row.fields.iter().cloned());
            form::document_from_form(&fields)
        })?;
        let document: serde_json::Value = serde_json::from_str(&draft.document)?;
        line.missing = still_missing(policies, &document);
        line.draft_id = Some(draft.id);
        line.outcome = if created { RowOutcome::Created } else { RowOutcome::Updated };
        if created {
            report.created += 1;
        } else {
            report.updated += 1;
        }
        report.rows.push(line);
    }
    // Drafts are working copies outside the chain (their revisions are in
    // it); the chain records who imported into which organisation, and when.
    audit::append(conn, NewEvent::new(AuditAction::InventoryImported, Some(&actor.user_id), Some(org)))?;
    Ok(report)
}

/// The form's fields the schema still finds missing or wrong, once each,
/// in the form's order.
fn still_missing(policies: &PolicySet, document: &serde_json::Value) -> Vec<String> {
    let errors = policies.schema_errors(document);
    let mut missing: Vec<String> = Vec::new();
    for section in form::SECTIONS {
        for field in section.fields {
            let at_fault = errors.iter().any(|e| {
                e.pointer.strip_prefix(field.pointer).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            });
            if at_fault && !missing.iter().any(|m| m == field.pointer) {
                missing.push(field.pointer.to_string());
            }
        }
    }
    missing
}

/// Reads the file and imports it: nothing is written unless the whole file
/// can be read.
pub fn import_file(
    conn: &mut DbConnection,
    actor: &Actor,
    policies: &PolicySet,
    org: &str,
    bytes: &[u8],
) -> Result<ImportReport, AppError> {
    let inventory = model::read(bytes, &model::Words::new())?;
    import(conn, actor, policies, org, inventory)
}
