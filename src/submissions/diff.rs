//! A readable difference between two revisions' documents: every field
//! (by JSON pointer) that was added, removed or changed, with the value
//! before and after, in the order of the fields' pointers.

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// JSON pointer of the field.
    pub field: String,
    /// The value before, as text; `None` when the field was added.
    pub before: Option<String>,
    /// The value after, as text; `None` when the field was removed.
    pub after: Option<String>,
}

/// Scalars and empty containers as text; strings without quotes.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Every leaf of a document with its pointer, in pointer order. Empty
/// arrays and objects count as leaves, so that emptying a list shows.
fn leaves(value: &Value, pointer: String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                leaves(v, format!("{pointer}/{}", escape(k)), out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                leaves(v, format!("{pointer}/{i}"), out);
            }
        }
        other => out.push((pointer, text(other))),
    }
}

/// The changes from `before` to `after`, at most `limit` of them.
pub fn changes(before: &Value, after: &Value, limit: usize) -> Vec<Change> {
    let (mut old, mut new) = (Vec::new(), Vec::new());
    leaves(before, String::new(), &mut old);
    leaves(after, String::new(), &mut new);
    let old_map: std::collections::HashMap<&str, &str> = old.iter().map(|(p, v)| (p.as_str(), v.as_str())).collect();
    let new_map: std::collections::HashMap<&str, &str> = new.iter().map(|(p, v)| (p.as_str(), v.as_str())).collect();
    let mut out = Vec::new();
    for (pointer, value) in &new {
        match old_map.get(pointer.as_str()) {
            Some(previous) if previous == value => {}
            previous => out.push(Change {
                field: pointer.clone(),
                before: previous.map(|p| p.to_string()),
                after: Some(value.clone()),
            }),
        }
    }
    for (pointer, value) in &old {
        if !new_map.contains_key(pointer.as_str()) {
            out.push(Change { field: pointer.clone(), before: Some(value.clone()), after: None });
        }
    }
    out.truncate(limit);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_changed_added_and_removed_fields() {
        let before =
            json!({"vendor": {"dpa_signed": false, "name": "A"}, "service": {"aliases": ["x", "y"], "a/b": 1}});
        let after =
            json!({"vendor": {"dpa_signed": true, "name": "A"}, "service": {"aliases": ["x"], "a/b": 1, "new": []}});
        let c = changes(&before, &after, 100);
        assert_eq!(
            c,
            vec![
                Change { field: "/service/new".into(), before: None, after: Some("[]".into()) },
                Change { field: "/vendor/dpa_signed".into(), before: Some("false".into()), after: Some("true".into()) },
                Change { field: "/service/aliases/1".into(), before: Some("y".into()), after: None },
            ]
        );
        assert!(changes(&before, &before, 100).is_empty());
        assert_eq!(changes(&before, &after, 1).len(), 1);
        let escaped = changes(&json!({}), &json!({"a/b": 1}), 10);
        assert_eq!(escaped[0].field, "/a~1b");
    }
}
