//! The submission form: every field of the submission document, grouped by
//! the rule it serves, turned into HTML inputs and back into a document.
//!
//! A field's name in the form is its JSON pointer in the document
//! (`/service/name`, `/service/models/0/provider`), so the evaluation's
//! pointers lead straight back to the field at fault. The form may be saved
//! half-filled: empty required fields are left out of the draft (and
//! reported as missing), empty optional ones become `null`, and a value that
//! is not what the field expects (a word in a number field) is kept as typed
//! so that the coordinator sees it next to the message.

//!
//! `catalogue` lists the fields, `document` reads the posted form into a
//! document (and back), `render` builds the draft page's fields and messages,
//! `describe` shows a submitted description to a reader.

mod catalogue;
mod describe;
mod document;
mod render;

use serde_json::{Map, Value, json};

use crate::web::Lang;
use catalogue::*;
use document::*;

use crate::error::FieldError;
use crate::policy::model::{RuleOutcome, RuleResult};

pub use catalogue::{Column, Field, Kind, SECTIONS, Section, text_key};
pub use describe::{describe, describe_field, describe_value, text_keys};
pub use document::{document_from_form, fields_for};
pub use render::{RequiredWhen, Texts, draft_outcome_words, is_table, outcome_words, render};

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Value {
        serde_json::from_str(include_str!("../../../tests/fixtures/examples/internal-assistant-no-dpa.json")).unwrap()
    }

    #[test]
    fn both_languages_have_every_string_of_the_form() {
        let views = crate::web::Views::load().unwrap();
        // Every label, help text and choice of the submission form exists.
        for key in text_keys() {
            for lang in [Lang::Sv, Lang::En] {
                assert!(views.strings(lang).get(&key).is_some(), "{key} is missing in {}", lang.as_str());
            }
        }
    }

    #[test]
    fn a_complete_document_survives_the_form_unchanged() {
        let doc = example();
        let back = document_from_form(&fields_for(&doc));
        let (a, b) = (serde_json::to_string_pretty(&back).unwrap(), serde_json::to_string_pretty(&doc).unwrap());
        let differ: Vec<(&str, &str)> = a.lines().zip(b.lines()).filter(|(x, y)| x != y).take(5).collect();
        assert!(back == doc, "the form changed the document: {differ:?}");
    }

    #[test]
    fn the_catalogue_covers_every_leaf_of_the_example() {
        fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => m.iter().for_each(|(k, v)| leaves(v, format!("{at}/{k}"), out)),
                _ => out.push(at),
            }
        }
        let mut all = Vec::new();
        leaves(&example(), String::new(), &mut all);
        for pointer in all.iter().filter(|p| *p != "/schema_version") {
            assert!(owner(pointer) == Some(pointer.as_str()), "{pointer} has no field in the form");
        }
    }

    #[test]
    fn empty_answers_are_missing_or_null_and_typed_text_is_kept() {
        let doc = document_from_form(&[
            ("/service/name".into(), "  ".into()),
            ("/service/product_url".into(), String::new()),
            ("/governance/review/interval_months".into(), "tolv".into()),
            ("/service/domains".into(), "https://Chat.Example.com:443/c/123\n\nplain.example.org".into()),
            ("/service/models/0/name".into(), "GPT".into()),
            ("/service/models/0/version".into(), String::new()),
            ("/service/models/0/provider".into(), String::new()),
            ("/service/models/1/name".into(), String::new()),
        ]);
        assert!(doc.pointer("/service/name").is_none());
        assert_eq!(doc.pointer("/service/product_url"), Some(&Value::Null));
        assert_eq!(doc.pointer("/governance/review/interval_months"), Some(&json!("tolv")));
        assert_eq!(doc.pointer("/service/domains"), Some(&json!(["chat.example.com", "plain.example.org"])));
        assert_eq!(doc.pointer("/service/models"), Some(&json!([{"name": "GPT", "version": null}])));
        assert!(doc.pointer("/attachments").is_none());
        // Every object that holds a field exists, so errors land on fields.
        assert!(doc.pointer("/governance/responsible_owner").is_some_and(Value::is_object));
    }

    #[test]
    fn fields_and_values_are_described_in_words() {
        let text = |key: &str| key.to_string();
        assert_eq!(describe_field("/vendor/dpa_signed", &text).unwrap(), "field-vendor-dpa_signed");
        assert_eq!(
            describe_field("/service/models/0/provider", &text).unwrap(),
            "field-service-models, form_row 1: field-service-models-provider"
        );
        assert_eq!(describe_field("/service/aliases/1", &text).unwrap(), "field-service-aliases (2)");
        assert!(describe_field("/schema_version", &text).is_none());
        assert_eq!(describe_value("/vendor/dpa_signed", "true", &text), "form_yes");
        assert_eq!(describe_value("/service/capabilities/0", "translation", &text), "value-translation");
        assert_eq!(describe_value("/attachments/0/kind", "dpia", &text), "value-dpia");
        assert_eq!(describe_value("/service/name", "saas", &text), "saas", "free text is shown as it is");
    }

    #[test]
    fn evaluation_pointers_find_their_field() {
        assert_eq!(owner("/service/models/0/provider"), Some("/service/models"));
        assert_eq!(owner("/vendor/dpa_signed"), Some("/vendor/dpa_signed"));
        assert_eq!(owner("/data/data_location"), Some("/data/data_location/storage"));
        assert_eq!(owner(""), None);
    }
}
