use std::collections::BTreeMap;

use serde_json::json;
use tillit::db::Backend;

use crate::common::*;
use crate::helpers::*;

#[actix_web::test]
async fn evaluate_gives_every_shared_example_its_expected_outcome() {
    let app = TestApp::new(Backend::Sqlite);
    for name in example_names() {
        let response = call(&app, post_json("/api/v1/evaluate", None, example_bytes(&name))).await;
        assert_eq!(response.status, 200, "{name}: {}", response.text);
        let expected = expected(&name);
        assert_eq!(response.body["verdict"], expected["verdict"], "{name}");
        let got: BTreeMap<String, String> = response.body["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["rule"].as_str().unwrap().to_string(), r["outcome"].as_str().unwrap().to_string()))
            .collect();
        let want: BTreeMap<String, String> = serde_json::from_value(expected["rules"].clone()).unwrap();
        assert_eq!(got, want, "{name}");
        assert_eq!(response.body["errors"], json!([]));
        assert!(response.body["rule_set_version"].as_str().unwrap().starts_with("2026.1+"));
    }
}

#[actix_web::test]
async fn evaluate_matches_tillit_check_exactly() {
    let app = TestApp::new(Backend::Sqlite);
    let bin = env!("CARGO_BIN_EXE_tillit");
    for name in example_names() {
        let path = fixtures().join("examples").join(format!("{name}.json"));
        let out = std::process::Command::new(bin).args(["check", "--format", "json"]).arg(&path).output().unwrap();
        let cli: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let response = call(&app, post_json("/api/v1/evaluate", None, example_bytes(&name))).await;
        assert_eq!(response.body, cli, "{name}");
    }
}

#[actix_web::test]
async fn an_invalid_document_gets_422_with_the_check_object_and_the_envelope() {
    let app = TestApp::new(Backend::Sqlite);
    let before = app.digest();
    let mut doc = example("internal-assistant-pass");
    set_pointer(&mut doc, "/vendor/dpa_signed", json!("yes"));
    set_pointer(&mut doc, "/unknown_field", json!(1));
    let response = call(&app, post_json("/api/v1/evaluate", None, serde_json::to_vec(&doc).unwrap())).await;
    assert_envelope(&response, 422, "invalid_document");
    assert_eq!(response.body["verdict"], "invalid");
    assert_eq!(response.body["rules"], json!([]));
    let pointers: Vec<&str> =
        response.body["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert!(pointers.contains(&"/vendor/dpa_signed") && pointers.contains(&"/unknown_field"), "{pointers:?}");
    assert_eq!(response.body["error"]["details"].as_array().unwrap().len(), pointers.len());
    assert_eq!(app.digest(), before, "evaluation is stateless");
}

#[actix_web::test]
async fn the_rule_set_in_force_is_published() {
    let app = TestApp::new(Backend::Sqlite);
    let response = call(&app, get("/api/v1/policies", None)).await;
    assert_eq!(response.status, 200);
    let rules = response.body["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 6);
    assert_eq!(rules[0]["id"], "R1");
    assert_eq!(rules[0]["checks"].as_array().unwrap().len(), 8);
    assert_eq!(rules[4]["severity"], "advisory");
    assert_eq!(rules[2]["conditional"], true);
}
