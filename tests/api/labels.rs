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
        let key = format!("value-{value}");
        for lang in [Lang::Sv, Lang::En] {
            let label = views.text(lang, &key);
            if label == key || label.trim().is_empty() {
                missing.push(format!("{at}: {value} ({lang:?})"));
            }
        }
    }
    assert!(missing.is_empty(), "{} without a label: {missing:?}", missing.len());
    assert_eq!(views.text(Lang::Sv, "value-SE"), "Sverige");
    assert_eq!(views.text(Lang::Sv, "value-sv"), "svenska");
    assert!(!views.text(Lang::En, "value-limited_transparency").is_empty());
}

#[actix_web::test]
async fn the_glossary_explains_the_words_that_must_stay() {
    use crate::common::*;
    use crate::helpers::*;
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let r = call(&app, get("/ordlista", None)).await;
    assert_eq!(r.status, 200);
    for anchor in ["dpia", "fria", "scc", "third_country", "wcag"] {
        assert!(r.text.contains(&format!("<dt id=\"{anchor}\">")), "{anchor}");
    }
    // In Swedish alphabetical order: "Underbiträde" before "WCAG", "AI-förordningen" first.
    let at = |term: &str| r.text.find(term).unwrap_or_else(|| panic!("{term}"));
    assert!(at(">AI-förordningen<") < at(">DPIA") && at(">Underbiträde<") < at(">WCAG 2.1 AA<"));
    let r = call(&app, get("/ordlista?lang=en", None)).await;
    assert!(r.text.contains("standard contractual clauses") && r.text.contains("lang=\"en\""));
    // Each glossary entry a form field links to exists, in both languages.
    let views = Views::load().unwrap();
    for pointer in ["/assessments/dpia/status", "/assessments/fria/status", "/data/data_location/transfer_mechanism"] {
        let id = tillit::submissions::pages::glossary::entry_for(pointer).unwrap();
        assert!(tillit::submissions::pages::glossary::TERMS.contains(&id));
        for lang in [Lang::Sv, Lang::En] {
            assert_ne!(views.text(lang, &format!("glossary-{id}-term")), format!("glossary-{id}-term"));
        }
    }
    // Countries are chosen by name.
    let countries = views.countries(Lang::Sv);
    assert!(countries.iter().any(|(code, name)| code == "SE" && name == "Sverige"));
    let names: Vec<&str> = countries.iter().map(|(_, n)| n.as_str()).collect();
    let (a, o) = (
        names.iter().position(|n| *n == "Afghanistan").unwrap(),
        names.iter().position(|n| *n == "Österrike").unwrap(),
    );
    assert!(a < o && o > names.iter().position(|n| *n == "Zimbabwe").unwrap(), "Ö after Z");
}
