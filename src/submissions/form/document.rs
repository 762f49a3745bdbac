//! From the posted form to a submission document, and back.

use super::*;

/// The pointer's tokens (the catalogue's pointers need no escaping).
pub(super) fn tokens(pointer: &str) -> impl Iterator<Item = &str> {
    pointer.split('/').skip(1)
}

/// Sets `value` at `pointer`, creating the objects on the way.
pub(super) fn set(doc: &mut Value, pointer: &str, value: Value) {
    let parts: Vec<&str> = tokens(pointer).collect();
    let mut node = doc;
    for (i, part) in parts.iter().enumerate() {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Some(map) = node.as_object_mut() else { return };
        if i + 1 == parts.len() {
            map.insert((*part).to_string(), value);
            return;
        }
        node = map.entry((*part).to_string()).or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Makes sure the objects that hold `pointer` exist, so that a missing
/// answer is reported at the field and not at its parent.
pub(super) fn ensure_parents(doc: &mut Value, pointer: &str) {
    let parts: Vec<&str> = tokens(pointer).collect();
    let mut node = doc;
    for part in &parts[..parts.len().saturating_sub(1)] {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Some(map) = node.as_object_mut() else { return };
        node = map.entry((*part).to_string()).or_insert_with(|| Value::Object(Map::new()));
    }
}

pub(super) fn lines(text: &str) -> Vec<Value> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(|l| Value::String(l.to_string())).collect()
}

/// The host of a pasted web address, or the text as it is.
pub(super) fn host_of(text: &str) -> String {
    let rest = text.split_once("://").map_or(text, |(_, rest)| rest);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// The value of one scalar input, or `None` when it is empty.
pub(super) fn scalar(kind: Kind, raw: &str) -> Option<Value> {
    let text = raw.trim();
    if text.is_empty() {
        return None;
    }
    Some(match kind {
        Kind::Integer => match text.parse::<i64>() {
            Ok(n) => json!(n),
            Err(_) => json!(text),
        },
        Kind::Bool => match text {
            "true" => json!(true),
            "false" => json!(false),
            _ => json!(text),
        },
        Kind::Country => json!(text.to_ascii_uppercase()),
        // Long texts keep their line breaks; the rest is one line.
        Kind::LongText => json!(raw.trim().replace("\r\n", "\n")),
        _ => json!(text),
    })
}

pub(super) fn value_of<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Reads the form into a submission document (possibly incomplete).
pub fn document_from_form(fields: &[(String, String)]) -> Value {
    let mut doc = json!({"schema_version": "1.0"});
    for section in SECTIONS {
        for field in section.fields {
            let name = field.pointer;
            match field.kind {
                Kind::Multi(options) => {
                    // In the order posted; only the field's own values, once each.
                    let mut chosen: Vec<Value> = Vec::new();
                    for (_, v) in fields.iter().filter(|(k, v)| k == name && options.contains(&v.as_str())) {
                        if !chosen.iter().any(|c| c == v.as_str()) {
                            chosen.push(json!(v));
                        }
                    }
                    set(&mut doc, name, Value::Array(chosen));
                }
                Kind::Lines => set(&mut doc, name, Value::Array(lines(value_of(fields, name).unwrap_or("")))),
                Kind::Hosts => {
                    let hosts: Vec<Value> = lines(value_of(fields, name).unwrap_or(""))
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|l| json!(host_of(l)))
                        .collect();
                    set(&mut doc, name, Value::Array(hosts));
                }
                Kind::Languages => {
                    let codes: Vec<Value> = value_of(fields, name)
                        .unwrap_or("")
                        .split([',', ' ', ';', '\n', '\r', '\t'])
                        .filter(|c| !c.is_empty())
                        .map(|c| json!(c.to_ascii_lowercase()))
                        .collect();
                    set(&mut doc, name, Value::Array(codes));
                }
                Kind::Table(columns) => {
                    let rows = table_rows(fields, name, columns);
                    if rows.is_empty() && field.optional {
                        continue;
                    }
                    set(&mut doc, name, Value::Array(rows));
                }
                kind => match value_of(fields, name).and_then(|raw| scalar(kind, raw)) {
                    Some(value) => set(&mut doc, name, value),
                    None if field.nullable => set(&mut doc, name, Value::Null),
                    None => ensure_parents(&mut doc, name),
                },
            }
        }
    }
    doc
}

/// The non-empty rows of a table, in order.
pub(super) fn table_rows(fields: &[(String, String)], name: &str, columns: &[Column]) -> Vec<Value> {
    let mut rows = Vec::new();
    for i in 0..MAX_ROWS {
        let cell = |key: &str| value_of(fields, &format!("{name}/{i}/{key}"));
        if columns.iter().all(|c| cell(c.key).is_none()) {
            break;
        }
        let mut row = Map::new();
        let mut any = false;
        for column in columns {
            match cell(column.key).and_then(|raw| scalar(column.kind, raw)) {
                Some(value) => {
                    any = true;
                    row.insert(column.key.to_string(), value);
                }
                None if column.nullable => {
                    row.insert(column.key.to_string(), Value::Null);
                }
                None => {}
            }
        }
        if any {
            rows.push(Value::Object(row));
        }
    }
    rows
}

/// The fields a browser posts for a document filled in on the form: the
/// inverse of `document_from_form` (for tests and tools that fill the form).
pub fn fields_for(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for section in SECTIONS {
        for field in section.fields {
            let name = field.pointer.to_string();
            let value = doc.pointer(field.pointer);
            let items = || value.and_then(Value::as_array).cloned().unwrap_or_default();
            match field.kind {
                Kind::Multi(_) => {
                    out.extend(items().iter().map(|v| (name.clone(), shown(Some(v)))));
                }
                Kind::Languages => {
                    let codes: Vec<String> = items().iter().map(|v| shown(Some(v))).collect();
                    out.push((name, codes.join(", ")));
                }
                Kind::Table(columns) => {
                    for (i, row) in items().iter().enumerate() {
                        for c in columns {
                            out.push((format!("{name}/{i}/{}", c.key), shown(row.get(c.key))));
                        }
                    }
                }
                _ => out.push((name, shown(value))),
            }
        }
    }
    out
}

/// The text of a value as an input shows it.
pub(super) fn shown(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join("\n"),
        Some(other) => other.to_string(),
    }
}
