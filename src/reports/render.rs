//! The report's formats. Each writes a header, then one row at a time, then
//! a footer, so that the whole report is never held in memory.

use std::borrow::Cow;
use std::io::Write;

use serde::Serialize;

use super::query::{ComplianceRow, Filter};
use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RFC 4180: comma-separated UTF-8.
    Csv,
    /// For Swedish Excel: semicolon-separated, UTF-8 with a byte-order mark, CRLF.
    CsvExcel,
    /// `schemas/compliance-report.schema.json`.
    Json,
    /// A print-ready page.
    Html,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "csv" => Some(Format::Csv),
            "csv-excel" | "csv_excel" | "excel" => Some(Format::CsvExcel),
            "json" => Some(Format::Json),
            "html" => Some(Format::Html),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv | Format::CsvExcel => "text/csv; charset=utf-8",
            Format::Json => "application/json",
            Format::Html => "text/html; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv | Format::CsvExcel => "csv",
            Format::Json => "json",
            Format::Html => "html",
        }
    }
}

pub const COLUMNS: &[&str] = &[
    "service_id",
    "service_name",
    "vendor",
    "owner_org",
    "revision",
    "latest_revision",
    "risk_class",
    "org",
    "status",
    "decision",
    "decision_id",
    "decision_reference",
    "decided_on",
    "deciding_org",
    "deciding_function",
    "decided_by",
    "decided_by_name",
    "via_delegation",
    "delegation_reference",
    "rule_set_version_at_decision",
    "rule_outcomes_at_decision",
    "rule_set_version_now",
    "rule_outcomes_now",
    "valid_until",
    "expiring_within_60_days",
    "expired",
    "needs_re_review",
    "conditions",
];

/// The row's cells in column order, borrowed where the row already holds the
/// text (only numbers and the joined conditions are built).
fn cells(row: &ComplianceRow) -> [Cow<'_, str>; 28] {
    fn o(v: &Option<String>) -> Cow<'_, str> {
        Cow::Borrowed(v.as_deref().unwrap_or_default())
    }
    fn s(v: &str) -> Cow<'_, str> {
        Cow::Borrowed(v)
    }
    fn b(v: bool) -> Cow<'static, str> {
        Cow::Borrowed(if v { "true" } else { "false" })
    }
    [
        s(&row.service_id),
        s(&row.service_name),
        s(&row.vendor),
        s(&row.owner_org),
        Cow::Owned(row.revision.to_string()),
        Cow::Owned(row.latest_revision.to_string()),
        s(&row.risk_class),
        s(&row.org),
        Cow::Borrowed(row.status.as_str()),
        o(&row.decision),
        o(&row.decision_id),
        o(&row.decision_reference),
        o(&row.decided_on),
        o(&row.deciding_org),
        o(&row.deciding_function),
        o(&row.decided_by),
        o(&row.decided_by_name),
        b(row.via_delegation),
        o(&row.delegation_reference),
        o(&row.rule_set_version_at_decision),
        o(&row.rule_outcomes_at_decision),
        o(&row.rule_set_version_now),
        o(&row.rule_outcomes_now),
        o(&row.valid_until),
        b(row.expiring_within_60_days),
        b(row.expired),
        b(row.needs_re_review),
        match row.conditions.as_slice() {
            [] => Cow::Borrowed(""),
            [one] => Cow::Borrowed(one.as_str()),
            many => Cow::Owned(many.join("; ")),
        },
    ]
}

/// What the report says about itself.
#[derive(Debug, Clone, Serialize)]
pub struct Meta {
    pub generated_at: String,
    pub as_of: Option<String>,
    pub filter: FilterView,
    pub audit_head_seq: i64,
    pub audit_head_hash: String,
    pub rule_set_version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FilterView {
    pub org: Option<String>,
    pub status: Option<String>,
    pub risk_class: Option<String>,
    pub expiring_within_days: Option<i64>,
}

impl From<&Filter> for FilterView {
    fn from(f: &Filter) -> Self {
        FilterView {
            org: f.org.clone(),
            status: f.status.map(|s| s.as_str().to_string()),
            risk_class: f.risk_class.clone(),
            expiring_within_days: f.expiring_within_days,
        }
    }
}

/// Writes rows in one format to any byte sink.
pub struct Writer<W: Write> {
    format: Format,
    out: W,
    rows: u64,
    csv: Option<csv::Writer<Vec<u8>>>,
    /// Rows buffered in `csv` since the last flush.
    pending: usize,
}

fn io(e: std::io::Error) -> AppError {
    AppError::internal(format!("report output: {e}"))
}

fn esc(text: &str) -> String {
    handlebars::html_escape(text)
}

fn csv_writer(format: Format, buffer: Vec<u8>) -> Option<csv::Writer<Vec<u8>>> {
    match format {
        Format::Csv => Some(csv::WriterBuilder::new().from_writer(buffer)),
        Format::CsvExcel => {
            Some(csv::WriterBuilder::new().delimiter(b';').terminator(csv::Terminator::CRLF).from_writer(buffer))
        }
        _ => None,
    }
}

impl<W: Write> Writer<W> {
    pub fn new(format: Format, out: W) -> Writer<W> {
        Writer { format, out, rows: 0, csv: csv_writer(format, Vec::with_capacity(64 * 1024)), pending: 0 }
    }

    /// Hands the buffered CSV to the output and starts a new buffer.
    fn flush_csv(&mut self) -> Result<(), AppError> {
        if let Some(csv) = self.csv.take() {
            let mut buffer = csv.into_inner().map_err(|e| AppError::internal(format!("csv: {e}")))?;
            self.out.write_all(&buffer).map_err(io)?;
            buffer.clear();
            self.csv = csv_writer(self.format, buffer);
        }
        self.pending = 0;
        Ok(())
    }

    pub fn start(&mut self, meta: &Meta) -> Result<(), AppError> {
        match self.format {
            Format::Csv | Format::CsvExcel => {
                if self.format == Format::CsvExcel {
                    self.out.write_all("\u{feff}".as_bytes()).map_err(io)?;
                }
                if let Some(csv) = self.csv.as_mut() {
                    csv.write_record(COLUMNS).map_err(|e| AppError::internal(e.to_string()))?;
                }
                self.flush_csv()
            }
            Format::Json => {
                let head = serde_json::to_string(meta)?;
                // {"report":…,meta fields…,"rows":[
                let body = head.trim_end_matches('}');
                write!(self.out, "{{\"report\":\"compliance\",{},\"rows\":[", &body[1..]).map_err(io)
            }
            Format::Html => {
                let filter = [
                    meta.filter.org.as_ref().map(|o| format!("organisation {o}")),
                    meta.filter.status.as_ref().map(|s| format!("status {s}")),
                    meta.filter.risk_class.as_ref().map(|r| format!("risk class {r}")),
                    meta.filter.expiring_within_days.map(|d| format!("expiring within {d} days")),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>();
                let filter = if filter.is_empty() { "none".to_string() } else { filter.join(", ") };
                write!(
                    self.out,
                    "<!DOCTYPE html><html lang=\"sv\"><head><meta charset=\"utf-8\"><title>Efterlevnadsrapport – Tillit</title>\
                     <link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/static/report.css\"></head><body><header>\
                     <h1>Efterlevnadsrapport / Compliance report</h1><dl>\
                     <dt>Exporterad / Exported</dt><dd>{}</dd>\
                     <dt>Per dag / As of</dt><dd>{}</dd>\
                     <dt>Urval / Filter</dt><dd>{}</dd>\
                     <dt>Regeluppsättning / Rule set</dt><dd>{}</dd>\
                     <dt>Granskningskedjans huvud / Audit chain head</dt><dd><code>{} {}</code></dd>\
                     </dl></header><main><table><thead><tr>",
                    esc(&meta.generated_at),
                    esc(meta.as_of.as_deref().unwrap_or("now")),
                    esc(&filter),
                    esc(&meta.rule_set_version),
                    meta.audit_head_seq,
                    esc(&meta.audit_head_hash),
                )
                .map_err(io)?;
                for column in [
                    "Tjänst / Service",
                    "Organisation",
                    "Status",
                    "Beslut / Decision",
                    "Beslutat av / Decided by",
                    "Regler då / Rules then",
                    "Regler nu / Rules now",
                    "Giltig till / Valid until",
                    "Flaggor / Flags",
                    "Villkor / Conditions",
                ] {
                    write!(self.out, "<th scope=\"col\">{}</th>", esc(column)).map_err(io)?;
                }
                self.out.write_all(b"</tr></thead><tbody>").map_err(io)
            }
        }
    }

    pub fn row(&mut self, row: &ComplianceRow) -> Result<(), AppError> {
        self.rows += 1;
        match self.format {
            Format::Csv | Format::CsvExcel => {
                if let Some(csv) = self.csv.as_mut() {
                    csv.write_record(cells(row).map(crate::spreadsheet::safe).iter().map(|c| c.as_bytes()))
                        .map_err(|e| AppError::internal(e.to_string()))?;
                }
                // Hand rows on in chunks, not one by one.
                self.pending += 1;
                if self.pending >= 200 {
                    self.flush_csv()?;
                }
                Ok(())
            }
            Format::Json => {
                if self.rows > 1 {
                    self.out.write_all(b",").map_err(io)?;
                }
                serde_json::to_writer(&mut self.out, row)?;
                Ok(())
            }
            Format::Html => {
                let flags = [
                    row.expired.then_some("utgången / expired"),
                    row.expiring_within_60_days.then_some("går ut inom 60 dagar / expiring within 60 days"),
                    row.needs_re_review.then_some("omprövning / needs re-review"),
                    row.via_delegation.then_some("delegering / delegation"),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ");
                let decided = match (&row.deciding_function, &row.decided_by_name) {
                    (Some(f), Some(n)) => format!("{f} ({n})"),
                    (Some(f), None) => f.clone(),
                    _ => String::new(),
                };
                write!(
                    self.out,
                    "<tr><td>{} <small>{} · v{}</small></td><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td><td>{} <small>{}</small></td><td>{} <small>{}</small></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&row.service_name),
                    esc(&row.vendor),
                    row.revision,
                    esc(&row.org),
                    esc(row.status.as_str()),
                    esc(row.decision.as_deref().unwrap_or("")),
                    esc(row.decision_reference.as_deref().unwrap_or("")),
                    esc(&decided),
                    esc(row.rule_outcomes_at_decision.as_deref().unwrap_or("")),
                    esc(row.rule_set_version_at_decision.as_deref().unwrap_or("")),
                    esc(row.rule_outcomes_now.as_deref().unwrap_or("")),
                    esc(row.rule_set_version_now.as_deref().unwrap_or("")),
                    esc(row.valid_until.as_deref().unwrap_or("")),
                    esc(&flags),
                    esc(&row.conditions.join("; ")),
                )
                .map_err(io)
            }
        }
    }

    pub fn finish(mut self) -> Result<W, AppError> {
        match self.format {
            Format::Csv | Format::CsvExcel => self.flush_csv()?,
            Format::Json => write!(self.out, "],\"row_count\":{}}}", self.rows).map_err(io)?,
            Format::Html => write!(
                self.out,
                "</tbody></table><p class=\"count\">{} rader / rows</p></main></body></html>",
                self.rows
            )
            .map_err(io)?,
        }
        Ok(self.out)
    }
}
