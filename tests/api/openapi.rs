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
