//! An inventory file as Tillit reads it: an `.xlsx` workbook (its first
//! sheet) or a CSV file, one service a row, its first row the column names.
//! The columns are the submission form's fields that hold one value (not
//! its tables), named as the form names them in Swedish or English, or by
//! the field's pointer. A cell is read as the form reads its input, so a
//! choice may be written as its label ("Molntjänst") or its code (`saas`).

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Reader};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppError;
use crate::i18n::{self, Message};
use crate::lang::Lang;
use crate::submissions::form::{Field, Kind, SECTIONS, text_key};

/// At most this many rows of services in one file.
pub const MAX_ROWS: usize = 2_000;
/// The largest file read.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// The most an `.xlsx` file may hold once unpacked. A real inventory of
/// 2,000 rows is a few megabytes of XML; a small file that unpacks to
/// gigabytes (a "zip bomb") is refused before it is read.
pub const MAX_UNPACKED_BYTES: u64 = 50 * 1024 * 1024;
/// The column that names a service, and keys its draft.
pub const NAME: &str = "/service/name";

/// The template's columns, in the form's order: every field that holds one
/// value or a list written in one cell.
pub fn columns() -> impl Iterator<Item = &'static Field> {
    SECTIONS.iter().flat_map(|s| s.fields.iter()).filter(|f| !matches!(f.kind, Kind::Table(_)))
}

/// A column's name in the template, in `lang`.
pub fn column_name(field: &Field, lang: Lang) -> String {
    i18n::catalogue().text(lang, &format!("field-{}", text_key(field.pointer)))
}

/// Lower case, spaces collapsed, and a trailing `*` (a required mark) gone.
fn folded(text: &str) -> String {
    let text = text.trim().trim_end_matches('*').trim();
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// What a file's column names, choices and countries may be written as.
pub struct Words {
    columns: HashMap<String, &'static Field>,
    values: HashMap<String, Vec<String>>,
    countries: HashMap<String, String>,
}

impl Words {
    pub fn new() -> Words {
        let catalogue = i18n::catalogue();
        let mut by_name = HashMap::new();
        for field in columns() {
            by_name.insert(folded(field.pointer), field);
            for lang in [Lang::Sv, Lang::En] {
                by_name.entry(folded(&column_name(field, lang))).or_insert(field);
            }
        }
        let mut values = HashMap::new();
        let mut countries = HashMap::new();
        for id in catalogue.ids() {
            let Some(code) = id.strip_prefix("value-") else { continue };
            let is_country = code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase());
            for lang in [Lang::Sv, Lang::En] {
                let label = folded(&catalogue.text(lang, id));
                if is_country {
                    countries.insert(label, code.to_string());
                } else {
                    values.entry(label).or_insert_with(Vec::new).push(code.to_string());
                }
            }
        }
        Words { columns: by_name, values, countries }
    }

    /// The field a column name stands for.
    fn column(&self, name: &str) -> Option<&'static Field> {
        self.columns.get(&folded(name)).copied()
    }

    /// One of `options`, written as its code or its label.
    fn choice(&self, options: &[&str], cell: &str) -> Option<String> {
        let wanted = folded(cell);
        if let Some(code) = options.iter().find(|o| o.eq_ignore_ascii_case(&wanted)) {
            return Some(code.to_string());
        }
        // Two lists may give different codes the same label: the field's own wins.
        self.values.get(&wanted)?.iter().find(|code| options.contains(&code.as_str())).cloned()
    }

    fn country(&self, cell: &str) -> Option<String> {
        let text = cell.trim();
        if text.len() == 2 && text.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Some(text.to_ascii_uppercase());
        }
        self.countries.get(&folded(text)).cloned()
    }
}

impl Default for Words {
    fn default() -> Self {
        Words::new()
    }
}

/// A cell that could not be read as its field's kind. It is left out; the
/// rest of the row is imported.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CellProblem {
    /// The column as the file names it.
    pub column: String,
    /// The field it fills.
    pub pointer: String,
    pub value: String,
}

/// One row of services, read.
#[derive(Debug)]
pub struct Row {
    /// The row's number in the file, the column names being row 1.
    pub number: usize,
    /// The form's fields: pointer and value, as the form would post them.
    pub fields: Vec<(String, String)>,
    /// Pointers of the fields the row fills.
    pub filled: Vec<String>,
    pub problems: Vec<CellProblem>,
}

impl Row {
    pub fn name(&self) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == NAME).map(|(_, v)| v.as_str())
    }
}

/// A whole file, read: its rows and the columns that name no field.
#[derive(Debug)]
pub struct Inventory {
    pub rows: Vec<Row>,
    pub ignored_columns: Vec<String>,
}

fn refused(id: &'static str) -> AppError {
    AppError::unprocessable("invalid_import", Message::new(id))
}

/// Reads an `.xlsx` workbook or a CSV file (UTF-8, or Windows-1252 as
/// Swedish Excel saves it; separated by semicolons, commas or tabs).
pub fn read(bytes: &[u8], words: &Words) -> Result<Inventory, AppError> {
    if bytes.is_empty() {
        return Err(refused("error-import_empty"));
    }
    if bytes.len() > MAX_BYTES {
        return Err(AppError::PayloadTooLarge);
    }
    let grid = if bytes.starts_with(b"PK\x03\x04") { xlsx_grid(bytes)? } else { csv_grid(bytes)? };
    inventory(grid, words)
}

fn xlsx_grid(bytes: &[u8]) -> Result<Vec<Vec<String>>, AppError> {
    // The archive's declared sizes bound what its reader unpacks.
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| refused("error-import_unreadable"))?;
    let mut unpacked: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|_| refused("error-import_unreadable"))?;
        unpacked = unpacked.saturating_add(entry.size());
    }
    if unpacked > MAX_UNPACKED_BYTES {
        return Err(refused("error-import_unpacked_too_large"));
    }
    let mut workbook =
        calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|_| refused("error-import_unreadable"))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| refused("error-import_empty"))?
        .map_err(|_| refused("error-import_unreadable"))?;
    Ok(range.rows().map(|row| row.iter().map(cell_text).collect()).collect())
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(n) => n.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d.as_datetime().map(|d| d.date().to_string()).unwrap_or_default(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.get(..10).unwrap_or(s).to_string(),
    }
}

fn csv_grid(bytes: &[u8]) -> Result<Vec<Vec<String>>, AppError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0,
    };
    if text.contains('\0') {
        return Err(refused("error-import_unreadable"));
    }
    let first = text.lines().next().unwrap_or("");
    let delimiter = [b';', b',', b'\t'].into_iter().max_by_key(|d| first.matches(*d as char).count()).unwrap_or(b';');
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut grid = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|_| refused("error-import_unreadable"))?;
        grid.push(record.iter().map(str::to_string).collect());
        if grid.len() > MAX_ROWS + 1 {
            break;
        }
    }
    Ok(grid)
}

fn inventory(grid: Vec<Vec<String>>, words: &Words) -> Result<Inventory, AppError> {
    let mut lines = grid.into_iter().enumerate().filter(|(_, row)| row.iter().any(|c| !c.trim().is_empty()));
    let (_, header) = lines.next().ok_or_else(|| refused("error-import_empty"))?;
    let mut fields: Vec<Option<&'static Field>> = Vec::new();
    let mut ignored = Vec::new();
    for name in &header {
        let field = words.column(name);
        if let Some(f) = field {
            if fields.iter().flatten().any(|seen| seen.pointer == f.pointer) {
                return Err(AppError::unprocessable(
                    "invalid_import",
                    Message::new("error-import_column_twice").with("column", name.trim()),
                ));
            }
        } else if !name.trim().is_empty() {
            ignored.push(name.trim().to_string());
        }
        fields.push(field);
    }
    if !fields.iter().flatten().any(|f| f.pointer == NAME) {
        return Err(refused("error-import_no_name"));
    }
    let mut rows = Vec::new();
    for (index, cells) in lines {
        if rows.len() == MAX_ROWS {
            return Err(AppError::unprocessable(
                "invalid_import",
                Message::new("error-import_too_many_rows").with("max", MAX_ROWS as i64),
            ));
        }
        let mut row = Row { number: index + 1, fields: Vec::new(), filled: Vec::new(), problems: Vec::new() };
        for (column, cell) in header.iter().zip(cells.iter()) {
            let Some(field) = words.column(column) else { continue };
            if cell.trim().is_empty() {
                continue;
            }
            match form_values(field.kind, cell, words) {
                Some(values) => {
                    row.fields.extend(values.into_iter().map(|v| (field.pointer.to_string(), v)));
                    row.filled.push(field.pointer.to_string());
                }
                None => row.problems.push(CellProblem {
                    column: column.trim().to_string(),
                    pointer: field.pointer.to_string(),
                    value: cell.trim().chars().take(200).collect(),
                }),
            }
        }
        rows.push(row);
    }
    Ok(Inventory { rows, ignored_columns: ignored })
}

/// A cell as the form's input(s) for a field of `kind`, or `None` when it
/// cannot be one.
fn form_values(kind: Kind, cell: &str, words: &Words) -> Option<Vec<String>> {
    let text = cell.trim();
    let list = || text.split([';', '\n']).map(str::trim).filter(|t| !t.is_empty()).collect::<Vec<_>>().join("\n");
    Some(match kind {
        Kind::Choice(options) => vec![words.choice(options, text)?],
        Kind::Multi(options) => text
            .split([',', ';', '\n'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| words.choice(options, t))
            .collect::<Option<Vec<_>>>()?,
        Kind::Bool => vec![match folded(text).as_str() {
            "ja" | "yes" | "true" | "sant" | "x" | "1" => "true".to_string(),
            "nej" | "no" | "false" | "falskt" | "0" => "false".to_string(),
            _ => return None,
        }],
        Kind::Country => vec![words.country(text)?],
        Kind::Date => {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
            vec![text.to_string()]
        }
        Kind::Integer => vec![text.parse::<i64>().ok()?.to_string()],
        Kind::Lines | Kind::Hosts => vec![list()],
        Kind::Text | Kind::LongText | Kind::Email | Kind::Url | Kind::Languages => vec![text.to_string()],
        Kind::Table(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_has_a_name_of_its_own_in_both_languages() {
        for lang in [Lang::Sv, Lang::En] {
            let mut seen = HashMap::new();
            for field in columns() {
                let name = folded(&column_name(field, lang));
                assert!(!name.starts_with("field-"), "{} has no label", field.pointer);
                if let Some(other) = seen.insert(name.clone(), field.pointer) {
                    panic!("{} and {} are both called {name:?}", other, field.pointer);
                }
            }
        }
    }

    #[test]
    fn a_semicolon_file_from_swedish_excel_reads_with_labels_and_codes() {
        let words = Words::new();
        let name = column_name(columns().next().unwrap(), Lang::Sv);
        let phase = columns().find(|f| f.pointer == "/service/phase").unwrap();
        let file = format!(
            "{name};{};Okänd kolumn\r\nTolken;{};x\r\n;;\r\nSkrivhjälpen;saas\r\n",
            column_name(phase, Lang::Sv),
            i18n::catalogue().text(Lang::Sv, "value-pilot"),
        );
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&file);
        let inventory = read(&bytes, &words).unwrap();
        assert_eq!(inventory.ignored_columns, vec!["Okänd kolumn"]);
        assert_eq!(inventory.rows.len(), 2, "the empty line is skipped");
        assert_eq!(inventory.rows[0].name(), Some("Tolken"));
        assert!(inventory.rows[0].fields.contains(&("/service/phase".into(), "pilot".into())));
        assert_eq!(inventory.rows[0].number, 2);
        // `saas` is no phase: reported, not imported.
        assert_eq!(inventory.rows[1].problems.len(), 1);
        assert_eq!(inventory.rows[1].number, 4);
    }

    #[test]
    fn files_that_cannot_be_an_inventory_are_refused() {
        let words = Words::new();
        for bytes in [&b""[..], b"Leverant\xc3\xb6r\nAcme\n", b"PK\x03\x04not a zip", b"a\0b"] {
            let e = read(bytes, &words).unwrap_err();
            assert_eq!(e.code(), "invalid_import", "{bytes:?}");
        }
        // A workbook that would unpack to more than the limit.
        let mut packed = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let deflate = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        packed.start_file("xl/worksheets/sheet1.xml", deflate).unwrap();
        std::io::Write::write_all(&mut packed, &vec![b' '; MAX_UNPACKED_BYTES as usize + 1]).unwrap();
        let bomb = packed.finish().unwrap().into_inner();
        assert!(bomb.len() < 1024 * 1024, "{} bytes packed", bomb.len());
        assert_eq!(read(&bomb, &words).unwrap_err().code(), "invalid_import");
        let twice = "Tjänstens namn;Name of the service\nA;B\n";
        assert!(read(twice.as_bytes(), &words).is_err(), "one field named by two columns");
    }
}
