//! The report's formats. Each writes a header, then one row at a time, then
//! a footer, so that the whole report is never held in memory (Excel keeps
//! its rows in temporary files until the workbook is written).
//!
//! The machine formats (CSV, JSON) carry the codes. The formats meant for
//! people (the print-ready page and Excel) carry words instead: labels in the
//! reader's language, organisations' names, local dates and "–" for none.

use std::borrow::Cow;
use std::io::Write;

use serde::Serialize;

use super::query::{ComplianceRow, Filter};
pub use super::words::Readable;
use super::words::{LABEL_COLUMNS, NONE, READABLE_COLUMNS};
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
    /// An Excel workbook (Office Open XML).
    Xlsx,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "csv" => Some(Format::Csv),
            "csv-excel" | "csv_excel" | "excel" => Some(Format::CsvExcel),
            "json" => Some(Format::Json),
            "html" => Some(Format::Html),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv | Format::CsvExcel => "text/csv; charset=utf-8",
            Format::Json => "application/json",
            Format::Html => "text/html; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv | Format::CsvExcel => "csv",
            Format::Json => "json",
            Format::Html => "html",
            Format::Xlsx => "xlsx",
        }
    }
}

/// Rows an Excel sheet holds below its header; further rows go on to a new sheet.
const XLSX_ROWS_PER_SHEET: u32 = 1_048_575;

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
    readable: Readable,
    xlsx: Option<Xlsx>,
}

/// The workbook being written, and where the next row goes.
struct Xlsx {
    workbook: rust_xlsxwriter::Workbook,
    sheets: u16,
    next_row: u32,
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::internal(format!("xlsx: {e}"))
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
    pub fn new(format: Format, out: W, readable: Readable) -> Writer<W> {
        Writer {
            format,
            out,
            rows: 0,
            csv: csv_writer(format, Vec::with_capacity(64 * 1024)),
            pending: 0,
            readable,
            xlsx: None,
        }
    }

    /// Starts a new sheet with the header row (the first, or the next when
    /// one is full).
    fn xlsx_sheet(&mut self) -> Result<(), AppError> {
        let headers = self.readable.headers();
        let title = self.readable.text("report_doc_title");
        let xlsx = self.xlsx.get_or_insert_with(|| Xlsx {
            workbook: rust_xlsxwriter::Workbook::new(),
            sheets: 0,
            next_row: 0,
        });
        xlsx.sheets += 1;
        let name = if xlsx.sheets == 1 { title } else { format!("{title} {}", xlsx.sheets) };
        let sheet = xlsx.workbook.add_worksheet_with_constant_memory();
        // Sheet names hold at most 31 characters.
        sheet.set_name(name.chars().take(31).collect::<String>()).map_err(xlsx_error)?;
        let bold = rust_xlsxwriter::Format::new().set_bold();
        for (col, header) in headers.iter().enumerate() {
            let col = col as u16;
            sheet.set_column_width(col, if col < 3 { 30 } else { 18 }).map_err(xlsx_error)?;
            sheet.write_string_with_format(0, col, header, &bold).map_err(xlsx_error)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        xlsx.next_row = 1;
        Ok(())
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
                let lang = self.readable.lang;
                let labels = LABEL_COLUMNS.iter().map(|c| format!("{c}_{lang}"));
                if let Some(csv) = self.csv.as_mut() {
                    csv.write_record(COLUMNS.iter().map(|c| c.to_string()).chain(labels))
                        .map_err(|e| AppError::internal(e.to_string()))?;
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
                let r = &self.readable;
                let filter = [
                    meta.filter.org.as_ref().map(|o| r.org(o)),
                    meta.filter.status.as_ref().map(|s| r.text(&format!("status_{s}"))),
                    meta.filter.risk_class.as_ref().map(|c| r.text(&format!("value-{c}"))),
                    meta.filter.expiring_within_days.map(|d| r.format("report_expiring_days", &[("days", d.into())])),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>();
                let filter = if filter.is_empty() { r.text("report_filter_none") } else { filter.join(", ") };
                write!(
                    self.out,
                    "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
                     <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{} – Tillit</title>\
                     <link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/static/report.css\"></head><body><header>\
                     <h1>{}</h1><dl>\
                     <dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd>\
                     <dt>{}</dt><dd><code>{} {}</code></dd>\
                     </dl></header><main><table><thead><tr>",
                    r.lang,
                    esc(&r.text("report_doc_title")),
                    esc(&r.text("report_doc_title")),
                    esc(&r.text("report_exported")),
                    esc(&crate::swedish::local_minute_text(&meta.generated_at)),
                    esc(&r.text("report_as_of")),
                    esc(&meta.as_of.clone().unwrap_or_else(|| r.text("report_now"))),
                    esc(&r.text("report_filter")),
                    esc(&filter),
                    esc(&r.text("report_rule_set")),
                    esc(&meta.rule_set_version),
                    esc(&r.text("report_chain_head")),
                    meta.audit_head_seq,
                    esc(&meta.audit_head_hash),
                )
                .map_err(io)?;
                for key in [
                    "service",
                    "org",
                    "status",
                    "decision",
                    "decided_by",
                    "rules_then",
                    "rules_now",
                    "valid_until",
                    "flags",
                    "conditions",
                ] {
                    write!(self.out, "<th scope=\"col\">{}</th>", esc(&r.text(&format!("report_col_{key}"))))
                        .map_err(io)?;
                }
                self.out.write_all(b"</tr></thead><tbody>").map_err(io)
            }
            Format::Xlsx => self.xlsx_sheet(),
        }
    }

    pub fn row(&mut self, row: &ComplianceRow) -> Result<(), AppError> {
        self.rows += 1;
        match self.format {
            Format::Csv | Format::CsvExcel => {
                fn org<'a>(r: &'a Readable, slug: &'a str) -> Cow<'a, str> {
                    crate::spreadsheet::cell(r.org_names.get(slug).map_or(slug, String::as_str))
                }
                let r = &self.readable;
                let labels: [Cow<'_, str>; 5] = [
                    org(r, &row.owner_org),
                    Cow::Borrowed(r.risk_class(&row.risk_class)),
                    org(r, &row.org),
                    Cow::Borrowed(r.status(row.status.as_str())),
                    Cow::Borrowed(row.decision.as_deref().map_or("", |d| r.decision(d))),
                ];
                if let Some(csv) = self.csv.as_mut() {
                    let coded = cells(row).map(crate::spreadsheet::safe);
                    csv.write_record(coded.iter().chain(labels.iter()).map(|c| c.as_bytes()))
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
                let r = &self.readable;
                let flags = [
                    row.expired.then(|| r.text("report_flag_expired")),
                    row.expiring_within_60_days.then(|| r.text("report_flag_expiring")),
                    row.needs_re_review.then(|| r.text("report_flag_re_review")),
                    row.via_delegation.then(|| r.text("report_flag_delegation")),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>();
                let flags = if flags.is_empty() { NONE.to_string() } else { flags.join(", ") };
                let cells = r.cells(row);
                // Indexes into `READABLE_COLUMNS`.
                let cell = |key: &str| {
                    READABLE_COLUMNS.iter().position(|c| *c == key).map(|i| cells[i].as_str()).unwrap_or(NONE)
                };
                let decision = match row.decision_reference.as_deref() {
                    Some(reference) if row.decision.is_some() => format!(
                        "{} <small>{} · {}</small>",
                        esc(cell("decision")),
                        esc(reference),
                        esc(cell("decided_on"))
                    ),
                    _ if row.decision.is_some() => {
                        format!("{} <small>{}</small>", esc(cell("decision")), esc(cell("decided_on")))
                    }
                    _ => NONE.to_string(),
                };
                let version = r.format("report_version", &[("n", row.revision.into())]);
                write!(
                    self.out,
                    "<tr><td>{} <small>{} · {}</small></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} <small>{}</small></td><td>{} <small>{}</small></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(cell("service")),
                    esc(cell("vendor")),
                    esc(&version),
                    esc(cell("org")),
                    esc(cell("status")),
                    decision,
                    esc(cell("decided_by")),
                    esc(cell("rules_then")),
                    esc(row.rule_set_version_at_decision.as_deref().unwrap_or("")),
                    esc(cell("rules_now")),
                    esc(row.rule_set_version_now.as_deref().unwrap_or("")),
                    esc(cell("valid_until")),
                    esc(&flags),
                    esc(cell("conditions")),
                )
                .map_err(io)
            }
            Format::Xlsx => {
                if self.xlsx.as_ref().is_some_and(|x| x.next_row > XLSX_ROWS_PER_SHEET) {
                    self.xlsx_sheet()?;
                }
                let cells = self.readable.cells(row);
                let Some(xlsx) = self.xlsx.as_mut() else {
                    return Err(AppError::internal("xlsx: a row before the header"));
                };
                let sheet = xlsx.workbook.worksheet_from_index(usize::from(xlsx.sheets - 1)).map_err(xlsx_error)?;
                for (col, value) in cells.iter().enumerate() {
                    sheet.write_string(xlsx.next_row, col as u16, value).map_err(xlsx_error)?;
                }
                xlsx.next_row += 1;
                Ok(())
            }
        }
    }

    pub fn finish(mut self) -> Result<W, AppError> {
        match self.format {
            Format::Csv | Format::CsvExcel => self.flush_csv()?,
            Format::Json => write!(self.out, "],\"row_count\":{}}}", self.rows).map_err(io)?,
            Format::Html => write!(
                self.out,
                "</tbody></table><p class=\"count\">{}</p></main></body></html>",
                esc(&self.readable.format("report_rows", &[("rows", self.rows.into())]))
            )
            .map_err(io)?,
            Format::Xlsx => {
                if let Some(mut xlsx) = self.xlsx.take() {
                    xlsx.workbook.set_properties(
                        &rust_xlsxwriter::DocProperties::new().set_title(self.readable.text("report_doc_title")),
                    );
                    let bytes = xlsx.workbook.save_to_buffer().map_err(xlsx_error)?;
                    self.out.write_all(&bytes).map_err(io)?;
                }
            }
        }
        Ok(self.out)
    }
}
