//! Hostile input gets clear 4xx answers in the one envelope, and the
//! database is unchanged afterwards.

use actix_web::test::TestRequest;
use serde_json::json;
use tillit::auth::Role;

use crate::common::*;
use crate::helpers::*;

#[actix_web::test]
async fn hostile_bodies_get_clear_4xx_and_change_nothing() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let token = app.token("kinda", "Karin", &[Role::Coordinator]);
        let before = app.digest();

        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let deep_object = "{\"a\":".repeat(5_000) + "1" + &"}".repeat(5_000);
        let mut huge_string = example("internal-assistant-pass");
        set_pointer(&mut huge_string, "/purpose/intended_use", json!("x".repeat(200_000)));
        let mut wrong_types = example("internal-assistant-pass");
        set_pointer(&mut wrong_types, "/data/personal_data_processed", json!("true"));
        set_pointer(&mut wrong_types, "/service/aliases", json!("Copilot"));
        set_pointer(&mut wrong_types, "/governance/review", json!([]));
        let mut control = example("internal-assistant-pass");
        set_pointer(&mut control, "/service/name", json!("Copilot\u{0}\u{1b}[31m"));
        let mut server_fields = example("internal-assistant-pass");
        set_pointer(&mut server_fields, "/status", json!("approved"));
        set_pointer(&mut server_fields, "/org", json!("itsam"));
        set_pointer(&mut server_fields, "/decided_by", json!("someone"));
        let mut duplicate = String::from_utf8(example_bytes("internal-assistant-pass")).unwrap();
        duplicate = duplicate.replacen(
            "\"schema_version\": \"1.0\",",
            "\"schema_version\": \"1.0\", \"schema_version\": \"1.0\",",
            1,
        );
        let oversized = vec![b' '; 300 * 1024];

        let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
            ("malformed JSON", b"{\"schema_version\": ".to_vec(), 400, "bad_request"),
            ("not JSON at all", b"hello".to_vec(), 400, "bad_request"),
            ("invalid UTF-8", b"{\"a\": \"\xff\xfe\"}".to_vec(), 400, "bad_request"),
            ("10,000-deep array", deep.into_bytes(), 400, "bad_request"),
            ("5,000-deep object", deep_object.into_bytes(), 400, "bad_request"),
            ("duplicate keys", duplicate.into_bytes(), 400, "bad_request"),
            (
                "trailing garbage",
                [example_bytes("internal-assistant-pass"), b"}".to_vec()].concat(),
                400,
                "bad_request",
            ),
            ("empty body", Vec::new(), 400, "bad_request"),
            ("an array", b"[]".to_vec(), 422, "invalid_document"),
            ("huge string", serde_json::to_vec(&huge_string).unwrap(), 422, "invalid_document"),
            ("wrong types", serde_json::to_vec(&wrong_types).unwrap(), 422, "invalid_document"),
            ("control characters", serde_json::to_vec(&control).unwrap(), 422, "invalid_document"),
            ("server-owned fields", serde_json::to_vec(&server_fields).unwrap(), 422, "invalid_document"),
            ("over 256 KiB", oversized, 413, "payload_too_large"),
        ];
        for (name, body, status, code) in cases {
            for path in ["/api/v1/services", "/api/v1/evaluate"] {
                let response = call(&app, post_json(path, Some(&token), body.clone())).await;
                assert_eq!(
                    response.status.as_u16(),
                    status,
                    "{backend:?} {name} {path}: {}",
                    &response.text[..response.text.len().min(300)]
                );
                assert_eq!(response.body["error"]["code"], code, "{name} {path}");
                assert_no_internals(&response.text);
            }
        }

        // Wrong and missing content types.
        for content_type in [Some("text/plain"), Some("application/x-www-form-urlencoded"), None] {
            let mut req = TestRequest::post()
                .uri("/api/v1/services")
                .insert_header(("authorization", format!("Bearer {token}")))
                .set_payload(example_bytes("internal-assistant-pass"));
            if let Some(ct) = content_type {
                req = req.insert_header(("content-type", ct));
            }
            let response = call(&app, req).await;
            assert_envelope(&response, 415, "unsupported_media_type");
        }
        assert_eq!(app.digest(), before, "{backend:?}: nothing stored");
    }
}

#[actix_web::test]
async fn server_fields_are_pointed_out() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let mut doc = example("internal-assistant-pass");
    set_pointer(&mut doc, "/status", json!("approved"));
    let response = call(&app, post_json("/api/v1/evaluate", None, serde_json::to_vec(&doc).unwrap())).await;
    assert_eq!(response.status, 422);
    assert_eq!(response.body["errors"][0]["pointer"], "/status");
    assert!(response.body["errors"][0]["message"].as_str().unwrap().contains("Unknown field"));
}

#[actix_web::test]
async fn unknown_routes_and_ids_answer_404_in_the_envelope() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let response = call(&app, get("/api/v1/nothing-here", None)).await;
    assert_envelope(&response, 404, "route_not_found");
    let token = app.token("kinda", "Karin", &[Role::Coordinator]);
    let response = call(&app, get("/api/v1/services/x/revisions/not-a-number", Some(&token))).await;
    assert_envelope(&response, 404, "not_found");
    let response = call(&app, get("/api/v1/services/%27%3B%20DROP%20TABLE%20services%3B--", Some(&token))).await;
    assert_envelope(&response, 404, "not_found");
}

#[actix_web::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let page_404 = get("/api/v1/nothing", None).insert_header(("accept", "text/html"));
    let requests = [
        (get("/api/v1/nothing", None), false),
        (post_json("/api/v1/evaluate", None, "{"), false),
        (get("/api/v1/lookup?q=chat&org=kinda", None), false),
        (get("/openapi.json", None), false),
        (get("/healthz", None), false),
        (get("/", None), true),
        (page_404, true),
    ];
    for (req, page) in requests {
        let response = call(&app, req).await;
        assert_eq!(response.headers.get("x-content-type-options").unwrap(), "nosniff");
        assert_eq!(response.headers.get("referrer-policy").unwrap(), "no-referrer");
        assert_eq!(response.headers.get("x-frame-options").unwrap(), "DENY");
        assert!(response.headers.get("strict-transport-security").is_some());
        let csp = response.headers.get("content-security-policy").unwrap().to_str().unwrap();
        let html = response.headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/html");
        assert_eq!(html, page, "{csp}");
        if page {
            assert!(csp.contains("default-src 'self'") && csp.contains("script-src 'self'"), "{csp}");
            assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
            assert!(response.headers.get("permissions-policy").is_some());
            assert_eq!(response.headers.get("cross-origin-opener-policy").unwrap(), "same-origin");
        } else {
            // A JSON (or other non-HTML) document loads nothing.
            assert_eq!(csp, "default-src 'none'; frame-ancestors 'none'");
        }
    }
}
