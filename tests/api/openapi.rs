//! The OpenAPI description is complete: every operation it documents is a
//! real route, and every JSON route is documented.

use actix_web::test::TestRequest;
use serde_json::Value;

use crate::common::*;
use crate::helpers::*;

#[actix_web::test]
async fn openapi_is_3_1_and_every_documented_operation_is_routed() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let response = call(&app, get("/openapi.json", None)).await;
    assert_eq!(response.status, 200);
    let doc = response.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let concrete = path
                .replace("{service_id}", "x")
                .replace("{revision}", "1")
                .replace("{id}", "x")
                .replace("{decision_id}", "x");
            let req = match method.as_str() {
                "get" => TestRequest::get(),
                "post" => TestRequest::post(),
                "put" => TestRequest::put(),
                "delete" => TestRequest::delete(),
                other => panic!("unexpected method {other}"),
            }
            .uri(&concrete);
            let response = call(&app, req).await;
            assert_ne!(
                response.body["error"]["code"], "route_not_found",
                "{method} {path} is documented but not routed"
            );
            assert_ne!(response.status, 405, "{method} {path}");
            operations += 1;
        }
    }
    assert!(operations >= 8);
    for required in [
        "/healthz",
        "/api/v1/evaluate",
        "/api/v1/services",
        "/api/v1/services/{service_id}",
        "/api/v1/services/{service_id}/revisions",
    ] {
        assert!(paths.contains_key(required), "{required} is not documented");
    }
}

#[actix_web::test]
async fn every_ref_in_openapi_resolves() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let doc = call(&app, get("/openapi.json", None)).await.body;
    fn walk(v: &Value, doc: &Value, seen: &mut usize) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    let pointer = r.strip_prefix('#').expect("local refs only");
                    assert!(doc.pointer(pointer).is_some(), "unresolved {r}");
                    *seen += 1;
                }
                map.values().for_each(|x| walk(x, doc, seen));
            }
            Value::Array(items) => items.iter().for_each(|x| walk(x, doc, seen)),
            _ => {}
        }
    }
    let mut seen = 0;
    walk(&doc, &doc, &mut seen);
    assert!(seen > 10);
    assert_eq!(doc["components"]["schemas"]["SubmissionDocument"]["additionalProperties"], false);
}

#[actix_web::test]
async fn healthz_answers_when_the_database_does() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let response = call(&app, get("/healthz", None)).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body["status"], "ok");
}

/// The lookup's answers, with and without `org`, follow the response schema
/// the OpenAPI document gives for them (a schema that drifts from the
/// answers fails here, before any outside contract run).
#[actix_web::test]
async fn lookup_answers_follow_their_documented_schema() {
    use tillit::auth::Role;
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let doc = call(&app, get("/openapi.json", None)).await.body;
    let mut root = serde_json::json!({"$ref": "#/components/schemas/LookupResponse"});
    root["components"] = doc["components"].clone();
    let validator = jsonschema::validator_for(&root).unwrap();
    let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
    let r =
        call(&app, post_json("/api/v1/services", Some(&coordinator), example_bytes("internal-assistant-pass"))).await;
    let service = r.body["service_id"].as_str().unwrap().to_string();
    crate::authz::submit(&app, &coordinator, &service, 1).await;
    let name = example("internal-assistant-pass")["service"]["name"].as_str().unwrap().to_string();
    for url in [
        format!("/api/v1/lookup?q={}", tillit::web::encode(&name)),
        format!("/api/v1/lookup?q={}&org=kinda", tillit::web::encode(&name)),
        "/api/v1/lookup?q=%C4%AE".to_string(),
        "/api/v1/lookup?q=%C4%AE&org=kinda".to_string(),
    ] {
        let r = call(&app, get(&url, None)).await;
        assert_eq!(r.status, 200, "{url}: {}", r.text);
        let errors: Vec<String> =
            validator.iter_errors(&r.body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{url}: {errors:?}\n{}", r.text);
    }
}
