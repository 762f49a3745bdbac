//! The import template: an `.xlsx` workbook whose first sheet has one
//! column per field (a drop-down list where the field is a choice), and a
//! second sheet that says what each column holds and which values it takes.

use rust_xlsxwriter::{DataValidation, Format, Workbook, XlsxError};

use super::model::{column_name, columns};
use crate::error::AppError;
use crate::i18n;
use crate::lang::Lang;
use crate::submissions::form::{Kind, text_key};

fn xlsx_error(e: XlsxError) -> AppError {
    AppError::internal(format!("import template: {e}"))
}

/// Excel keeps a drop-down list's values in a formula of at most 255 characters.
const LIST_LIMIT: usize = 255;

/// The template in `lang` (column names, instructions and choices).
pub fn workbook(lang: Lang) -> Result<Vec<u8>, AppError> {
    let catalogue = i18n::catalogue();
    let text = |id: &str| catalogue.text(lang, id);
    let known = |id: &str| catalogue.strings(lang).get(id).is_some();
    let bold = Format::new().set_bold().set_background_color("#DDEBF7").set_text_wrap();
    let wrap = Format::new().set_text_wrap().set_align(rust_xlsxwriter::FormatAlign::Top);
    let mut workbook = Workbook::new();
    workbook.set_properties(&rust_xlsxwriter::DocProperties::new().set_title(text("import_template_title")));

    let sheet = workbook.add_worksheet();
    sheet.set_name(text("import_template_sheet")).map_err(xlsx_error)?;
    sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    sheet.set_row_height(0, 45).map_err(xlsx_error)?;
    for (i, field) in columns().enumerate() {
        let col = u16::try_from(i).map_err(|_| AppError::internal("too many template columns"))?;
        sheet.write_string_with_format(0, col, column_name(field, lang), &bold).map_err(xlsx_error)?;
        sheet.set_column_width(col, 24).map_err(xlsx_error)?;
        if let Kind::Choice(options) = field.kind {
            let labels: Vec<String> = options.iter().map(|o| text(&format!("value-{o}"))).collect();
            if labels.iter().map(|l| l.chars().count() + 1).sum::<usize>() <= LIST_LIMIT {
                let list = DataValidation::new().allow_list_strings(&labels).map_err(xlsx_error)?;
                sheet.add_data_validation(1, col, 2_000, col, &list).map_err(xlsx_error)?;
            }
        }
    }

    let guide = workbook.add_worksheet();
    guide.set_name(text("import_template_guide")).map_err(xlsx_error)?;
    for (col, (key, width)) in
        [("import_guide_column", 30), ("import_guide_what", 60), ("import_guide_values", 60)].iter().enumerate()
    {
        let col = col as u16;
        guide.write_string_with_format(0, col, text(key), &bold).map_err(xlsx_error)?;
        guide.set_column_width(col, *width).map_err(xlsx_error)?;
    }
    for (i, field) in columns().enumerate() {
        let row = u32::try_from(i + 1).map_err(|_| AppError::internal("too many template columns"))?;
        let help = format!("help-{}", text_key(field.pointer));
        let what = if known(&help) { text(&help) } else { String::new() };
        let values = match field.kind {
            Kind::Choice(options) | Kind::Multi(options) => {
                let labels: Vec<String> = options.iter().map(|o| text(&format!("value-{o}"))).collect();
                let joined = labels.join("; ");
                if matches!(field.kind, Kind::Multi(_)) {
                    format!("{joined}. {}", text("import_guide_several"))
                } else {
                    joined
                }
            }
            Kind::Bool => format!("{} / {}", text("form_yes"), text("form_no")),
            Kind::Date => text("import_guide_date"),
            Kind::Integer => text("import_guide_integer"),
            Kind::Country => text("import_guide_country"),
            Kind::Lines | Kind::Hosts => text("import_guide_lines"),
            Kind::Languages => text("import_guide_languages"),
            _ => String::new(),
        };
        guide.write_string_with_format(row, 0, column_name(field, lang), &wrap).map_err(xlsx_error)?;
        guide.write_string_with_format(row, 1, what, &wrap).map_err(xlsx_error)?;
        guide.write_string_with_format(row, 2, values, &wrap).map_err(xlsx_error)?;
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imports::model::{Words, read};

    #[test]
    fn the_template_reads_back_as_an_inventory_with_no_rows() {
        for lang in [Lang::Sv, Lang::En] {
            let bytes = workbook(lang).unwrap();
            let inventory = read(&bytes, &Words::new()).unwrap();
            assert!(inventory.rows.is_empty());
            assert!(inventory.ignored_columns.is_empty(), "{:?}", inventory.ignored_columns);
        }
    }
}
