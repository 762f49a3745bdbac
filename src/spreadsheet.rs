//! Cells of the CSV files Tillit writes, made safe for spreadsheets.
//!
//! A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is
//! read as a formula by Excel and LibreOffice, so anyone who can write a name
//! or a free-text field could plant `=HYPERLINK(…)` for an auditor. Such a
//! cell gets a leading `'` (OWASP's rule for CSV injection). JSON stays exact.

use std::borrow::Cow;

/// Whether a spreadsheet would read the text as a formula.
fn formula_like(text: &str) -> bool {
    matches!(text.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'))
}

/// The cell as written to a CSV file.
pub fn cell(text: &str) -> Cow<'_, str> {
    safe(Cow::Borrowed(text))
}

/// The same, for a cell that may already be owned (no copy when it is safe).
pub fn safe(text: Cow<'_, str>) -> Cow<'_, str> {
    if formula_like(&text) { Cow::Owned(format!("'{text}")) } else { text }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formulas_are_neutralised_and_other_text_kept() {
        for danger in ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\r=1"] {
            assert_eq!(cell(danger), format!("'{danger}"));
        }
        for plain in ["", "Kinda", "KS 2026/1", "2026-12-07", "a=b", " =1", "'quoted"] {
            assert_eq!(cell(plain), plain);
        }
    }
}
