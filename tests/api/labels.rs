//! No code is shown to a person without words: every coded value of the
//! submission schema has a Swedish and an English label.

use serde_json::Value;
use tillit::web::{Lang, Views};

fn coded_values(schema: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match schema {
        Value::Object(map) => {
            for (key, value) in map {
                if key == "enum" {
                    for v in value.as_array().into_iter().flatten().filter_map(Value::as_str) {
                        out.push((at.to_string(), v.to_string()));
                    }
                } else {
                    coded_values(value, &format!("{at}/{key}"), out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| coded_values(v, at, out)),
        _ => {}
    }
}

#[test]
fn every_coded_value_has_a_swedish_and_an_english_label() {
    let schema: Value = serde_json::from_str(include_str!("../../schemas/submission.schema.json")).unwrap();
    let mut values = Vec::new();
    coded_values(&schema, "", &mut values);
    // The schema's own version is not shown to people.
    values.retain(|(at, _)| !at.contains("schema_version"));
    assert!(values.len() > 400, "countries, languages and every choice: {}", values.len());
    let views = Views::load().unwrap();
    let mut missing = Vec::new();
    for (at, value) in &values {
        let key = format!("value.{value}");
        for lang in [Lang::Sv, Lang::En] {
            let label = views.text(lang, &key);
            if label == key || label.trim().is_empty() {
                missing.push(format!("{at}: {value} ({lang:?})"));
            }
        }
    }
    assert!(missing.is_empty(), "{} without a label: {missing:?}", missing.len());
    assert_eq!(views.text(Lang::Sv, "value.SE"), "Sverige");
    assert_eq!(views.text(Lang::Sv, "value.sv"), "svenska");
    assert!(!views.text(Lang::En, "value.limited_transparency").is_empty());
}
