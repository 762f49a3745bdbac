//! A submitted description as a reader sees it, and the form's words for
//! fields and values on other pages.

use super::*;

/// A document field as the form names it, for a reader: "AI-modeller, rad 1:
/// Modellens leverantör" for `/service/models/0/provider`. `None` for a
/// pointer outside the form.
pub fn describe_field(pointer: &str, text: &dyn Fn(&str) -> String) -> Option<String> {
    let field = owner_field(pointer)?;
    let key = text_key(field.pointer);
    let label = text(&format!("field-{key}"));
    let rest: Vec<&str> =
        pointer.strip_prefix(field.pointer).unwrap_or("").split('/').filter(|t| !t.is_empty()).collect();
    let row = rest.first().and_then(|i| i.parse::<usize>().ok()).map(|i| i + 1);
    Some(match (field.kind, row, rest.get(1)) {
        (Kind::Table(_), Some(row), Some(column)) => {
            format!("{label}, {} {row}: {}", text("form_row").to_lowercase(), text(&format!("field-{key}-{column}")))
        }
        (_, Some(row), _) => format!("{label} ({row})"),
        _ => label,
    })
}

/// A value of a document field as a reader sees it: yes and no, and the
/// labels of choices, in the page's language.
pub fn describe_value(pointer: &str, value: &str, text: &dyn Fn(&str) -> String) -> String {
    let field = owner_field(pointer);
    let options: &[&str] = match field.map(|f| f.kind) {
        Some(Kind::Bool) => {
            return match value {
                "true" => text("form_yes"),
                "false" => text("form_no"),
                other => other.to_string(),
            };
        }
        Some(Kind::Choice(o) | Kind::Multi(o)) => o,
        Some(Kind::Table(columns)) => {
            let column = pointer.rsplit('/').next().unwrap_or("");
            match columns.iter().find(|c| c.key == column).map(|c| c.kind) {
                Some(Kind::Choice(o)) => o,
                _ => &[],
            }
        }
        _ => &[],
    };
    if options.contains(&value) { text(&format!("value-{value}")) } else { value.to_string() }
}

/// A value as a reader sees it on a read-only page: labels for choices, yes
/// and no, lists joined, and "–" for nothing.
pub(super) fn reading(value: Option<&Value>, kind: Kind, text: &dyn Fn(&str) -> String) -> String {
    let none = || "–".to_string();
    let label = |options: &[&str], v: &str| {
        if options.contains(&v) { text(&format!("value-{v}")) } else { v.to_string() }
    };
    let plain = |v: &Value| match v {
        Value::String(s) if s.trim().is_empty() => none(),
        Value::String(s) => s.clone(),
        Value::Null => none(),
        other => other.to_string(),
    };
    let Some(value) = value else { return none() };
    match kind {
        Kind::Bool => match value {
            Value::Bool(true) => text("form_yes"),
            Value::Bool(false) => text("form_no"),
            other => plain(other),
        },
        Kind::Choice(options) => value.as_str().map_or_else(|| plain(value), |v| label(options, v)),
        Kind::Multi(options) => {
            let items: Vec<String> = value
                .as_array()
                .map(|a| a.iter().map(|v| v.as_str().map_or_else(|| plain(v), |v| label(options, v))).collect())
                .unwrap_or_default();
            if items.is_empty() { none() } else { items.join(", ") }
        }
        Kind::Lines | Kind::Hosts => {
            let items: Vec<String> = value.as_array().map(|a| a.iter().map(plain).collect()).unwrap_or_default();
            if items.is_empty() { none() } else { items.join(", ") }
        }
        // ISO codes read as the names of the countries and languages.
        Kind::Country => value.as_str().map_or_else(|| plain(value), |code| coded(code, text)),
        Kind::Languages => {
            let items: Vec<String> = value
                .as_array()
                .map(|a| a.iter().map(|v| v.as_str().map_or_else(|| plain(v), |code| coded(code, text))).collect())
                .unwrap_or_default();
            if items.is_empty() { none() } else { items.join(", ") }
        }
        Kind::Table(_) => plain(value),
        _ => plain(value),
    }
}

/// A code's name (`SE` → "Sverige"), or the code when it has none.
pub(super) fn coded(code: &str, text: &dyn Fn(&str) -> String) -> String {
    let key = format!("value-{code}");
    let name = text(&key);
    if name == key { code.to_string() } else { name }
}

/// A submitted description as a reader sees it: each section of the form
/// with its rule's outcome and failing checks, each field with the form's
/// label and its value in words, and the fields in `changed` (pointers of
/// changed values) marked.
pub fn describe(doc: &Value, rules: &[RuleResult], changed: &[String], texts: &Texts<'_>) -> Vec<Value> {
    let t = texts.text;
    let sv = texts.lang == Lang::Sv;
    let is_changed = |pointer: &str| {
        changed.iter().any(|c| c == pointer || c.strip_prefix(pointer).is_some_and(|rest| rest.starts_with('/')))
    };
    SECTIONS
        .iter()
        .map(|section| {
            let fields: Vec<Value> = section
                .fields
                .iter()
                .map(|field| {
                    let key = text_key(field.pointer);
                    let value = doc.pointer(field.pointer);
                    let rows: Vec<Value> = match (field.kind, value.and_then(Value::as_array)) {
                        (Kind::Table(columns), Some(rows)) => rows
                            .iter()
                            .map(|row| {
                                let cells: Vec<Value> = columns
                                    .iter()
                                    .map(|c| {
                                        json!({
                                            "label": t(&format!("field-{key}-{}", c.key)),
                                            "value": reading(row.get(c.key), c.kind, t),
                                        })
                                    })
                                    .collect();
                                json!({"cells": cells})
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                    let is_table = matches!(field.kind, Kind::Table(_));
                    json!({
                        "label": t(&format!("field-{key}")),
                        "value": if is_table && !rows.is_empty() { String::new() } else { reading(value, field.kind, t) },
                        "rows": rows,
                        "changed": is_changed(field.pointer),
                    })
                })
                .collect();
            let rule = section.rule.and_then(|id| rules.iter().find(|r| &*r.rule == id));
            let (outcome, outcome_class) = match rule.map(|r| outcome_words(r.outcome)) {
                Some((key, class)) => (t(key), class),
                None => (String::new(), ""),
            };
            let failing: Vec<Value> = rule
                .map(|r| {
                    r.violations
                        .iter()
                        .map(|v| {
                            json!({
                                "field": describe_field(&v.pointer, t).unwrap_or_default(),
                                "message": if sv { v.message_sv.to_string() } else { v.message_en.to_string() },
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "id": section.id,
                "title": t(&format!("section-{}", section.id)),
                "outcome": outcome,
                "outcome_class": outcome_class,
                "failing": failing,
                "fields": fields,
                "changed": fields.iter().any(|f| f["changed"] == true),
            })
        })
        .collect()
}

/// Every key of the strings the form needs, for the test that each exists.
pub fn text_keys() -> Vec<String> {
    let mut keys = Vec::new();
    for section in SECTIONS {
        keys.push(format!("section-{}", section.id));
        keys.push(format!("section-{}-intro", section.id));
        for field in section.fields {
            let key = text_key(field.pointer);
            keys.push(format!("field-{key}"));
            keys.push(format!("help-{key}"));
            let options: &[&str] = match field.kind {
                Kind::Choice(o) | Kind::Multi(o) => o,
                _ => &[],
            };
            keys.extend(options.iter().map(|o| format!("value-{o}")));
            if let Kind::Table(columns) = field.kind {
                for c in columns {
                    keys.push(format!("field-{key}-{}", c.key));
                    if let Kind::Choice(o) = c.kind {
                        keys.extend(o.iter().map(|o| format!("value-{o}")));
                    }
                }
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys
}
