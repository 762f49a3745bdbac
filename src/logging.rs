//! Log lines people can trust: every message is one line, with control,
//! escape and bidi characters shown as `\u{…}`, so a value that reaches a
//! message cannot forge a line or recolour a terminal.

use std::borrow::Cow;
use std::io::Write;

/// The text with line breaks, ANSI escapes and other controls escaped.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || crate::json::is_forbidden_char(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Sets up env_logger (level from `RUST_LOG`, default info) with escaped,
/// single-line messages: `2026-11-27T07:08:09Z INFO tillit::x message`.
pub fn init() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format(|buf, record| {
            let message = record.args().to_string();
            writeln!(buf, "{} {:<5} {} {}", buf.timestamp(), record.level(), record.target(), escape(&message))
        })
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forged_lines_and_escapes_are_neutralised() {
        assert_eq!(escape("plain åäö"), "plain åäö");
        assert_eq!(escape("a\nINFO forged"), "a\\u{a}INFO forged");
        assert_eq!(escape("\r\x1b[31mred"), "\\u{d}\\u{1b}[31mred");
        assert_eq!(escape("x\u{202e}y"), "x\\u{202e}y");
    }
}
