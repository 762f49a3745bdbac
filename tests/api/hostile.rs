//! The hostile-input corpus (tests/corpus/) against every endpoint that takes
//! a body, plus oversized bodies, wrong content types and repeated query
//! parameters: never a 5xx, always the envelope, and nothing stored from a
//! rejected request.

use actix_web::test::TestRequest;
use serde_json::json;
use tillit::auth::Role;

use crate::authz::{create_service, submit};
use crate::common::*;
use crate::helpers::*;

/// Files that policy may accept for some endpoints (text with SQL or HTML
/// metacharacters is legitimate content, stored verbatim and shown escaped).
const MAY_BE_ACCEPTED: &[&str] = &["sql-metacharacters.json", "html-metacharacters.json"];

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name() != "README.md")
        .map(|e| (e.file_name().to_string_lossy().to_string(), std::fs::read(e.path()).unwrap()))
        .collect();
    files.sort();
    assert!(files.len() >= 15);
    files
}

#[actix_web::test]
async fn the_corpus_against_every_endpoint_on_every_backend() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let all = app.token("kinda", "Alla roller", &[Role::Admin, Role::Coordinator, Role::Approver, Role::Auditor]);
        let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
        let service = create_service(&app, &coordinator, "internal-assistant-pass").await;
        submit(&app, &coordinator, &service, 1).await;
        let r = call(
            &app,
            post_json(
                &format!("/api/v1/services/{service}/decisions"),
                Some(&all),
                json!({"org": "kinda", "revision": 1, "decision": "approved"}).to_string(),
            ),
        )
        .await;
        let decision = r.body["decision_id"].as_str().unwrap().to_string();
        let r = call(&app, post_json("/api/v1/delegations", Some(&all), json!({"org": "kinda", "delegate": "itsam", "decision_reference": "KS 1", "valid_from": "2026-01-01", "valid_until": null, "scope": "all"}).to_string())).await;
        let delegation = r.body["delegation_id"].as_str().unwrap().to_string();
        let people = call(&app, get("/api/v1/people?org=kinda", Some(&all))).await;
        let person =
            people.body["people"].as_array().unwrap().iter().find(|p| p["name"] == "Karin").unwrap()["person_id"]
                .as_str()
                .unwrap()
                .to_string();

        let with_body = [
            "/api/v1/evaluate".to_string(),
            "/api/v1/services".to_string(),
            format!("/api/v1/services/{service}/revisions"),
            format!("/api/v1/services/{service}/decisions"),
            format!("/api/v1/decisions/{decision}/revoke"),
            "/api/v1/delegations".to_string(),
            format!("/api/v1/delegations/{delegation}/revoke"),
            "/api/v1/people".to_string(),
            format!("/api/v1/people/{person}/roles"),
            format!("/api/v1/people/{person}/tokens"),
        ];
        let without_body = [
            format!("/api/v1/services/{service}/revisions/1/submit"),
            format!("/api/v1/people/{person}/roles/coordinator/revoke"),
            format!("/api/v1/people/{person}/deactivate"),
            "/api/v1/tokens/no-such-token/revoke".to_string(),
            "/api/v1/policies/reload".to_string(),
        ];
        let mut sent = 0;
        for (name, body) in corpus() {
            for path in with_body.iter().chain(without_body.iter()) {
                let before = app.digest();
                let r = call(&app, post_json(path, Some(&all), body.clone())).await;
                sent += 1;
                assert!(r.status.as_u16() < 500, "{backend:?} {name} → {path}: {} {}", r.status, r.text);
                assert_no_internals(&r.text);
                let may_accept = MAY_BE_ACCEPTED.contains(&name.as_str()) && with_body.contains(path);
                if !may_accept {
                    assert!(r.status.is_client_error(), "{backend:?} {name} → {path} was accepted: {}", r.text);
                    assert!(r.body["error"]["code"].is_string(), "{name} → {path}: {}", r.text);
                    assert_eq!(app.digest(), before, "{backend:?} {name} → {path} changed the database");
                }
            }
        }
        // Over the limit, everywhere.
        let oversized = vec![b'['; 300 * 1024];
        for path in with_body.iter().chain(without_body.iter()) {
            let before = app.digest();
            let r = call(&app, post_json(path, Some(&all), oversized.clone())).await;
            assert_envelope(&r, 413, "payload_too_large");
            assert_eq!(app.digest(), before);
        }
        // Wrong content types on the endpoints that read JSON.
        for path in &with_body {
            for content_type in ["text/plain", "application/xml", "multipart/form-data; boundary=x"] {
                let before = app.digest();
                let req = TestRequest::post()
                    .uri(path)
                    .insert_header(("authorization", format!("Bearer {all}")))
                    .insert_header(("content-type", content_type))
                    .set_payload(example_bytes("internal-assistant-pass"));
                let r = call(&app, req).await;
                assert_envelope(&r, 415, "unsupported_media_type");
                assert_eq!(app.digest(), before);
            }
        }
        // Repeated query parameters are refused, not silently resolved.
        for path in [
            "/api/v1/lookup?q=copilot&q=chatgpt",
            "/api/v1/lookup?q=copilot&org=kinda&org=itsam",
            "/api/v1/people?org=kinda&org=itsam",
            "/api/v1/reports/compliance?format=json&format=csv",
            "/api/v1/delegations?org=kinda&org=itsam",
        ] {
            let r = call(&app, get(path, Some(&all))).await;
            assert_envelope(&r, 400, "bad_request");
        }
        assert!(sent >= 15 * 15);
        let mut conn = app.state.db.get().unwrap();
        assert!(tillit::audit::verify::verify(&mut conn, &[]).unwrap().intact);
    }
}

#[actix_web::test]
async fn the_public_lookup_is_rate_limited_per_client_and_spoofing_does_not_help() {
    let mut app = TestApp::new(tillit::db::Backend::Sqlite);
    app.state.limiter = std::sync::Arc::new(tillit::ratelimit::RateLimiter::new(
        tillit::ratelimit::Limit { per_second: 1.0, burst: 3.0 },
        vec!["10.0.0.1".parse().unwrap()],
    ));
    let from = |ip: &str, forwarded: Option<&str>| {
        let mut req = get("/api/v1/lookup?q=copilot", None).peer_addr(format!("{ip}:5000").parse().unwrap());
        if let Some(f) = forwarded {
            req = req.insert_header(("x-forwarded-for", f.to_string()));
        }
        req
    };
    for _ in 0..3 {
        assert_eq!(call(&app, from("192.0.2.7", None)).await.status, 200);
    }
    let r = call(&app, from("192.0.2.7", None)).await;
    assert_envelope(&r, 429, "too_many_requests");
    assert!(r.headers.get("retry-after").unwrap().to_str().unwrap().parse::<u64>().unwrap() >= 1);
    // A client cannot pick a fresh address with X-Forwarded-For...
    let r = call(&app, from("192.0.2.7", Some("203.0.113.99"))).await;
    assert_eq!(r.status, 429, "spoofed X-Forwarded-For is ignored from an untrusted peer");
    // ...and behind a trusted proxy the right-most untrusted address counts.
    for _ in 0..3 {
        assert_eq!(call(&app, from("10.0.0.1", Some("198.51.100.1, 203.0.113.5"))).await.status, 200);
    }
    let r = call(&app, from("10.0.0.1", Some("198.51.100.2, 203.0.113.5"))).await;
    assert_eq!(r.status, 429, "the client behind the proxy is 203.0.113.5, whatever it prepends");
    // Another client is not affected; the page answers 429 too.
    assert_eq!(call(&app, from("192.0.2.8", None)).await.status, 200);
    let page = call(&app, get("/?q=copilot", None).peer_addr("192.0.2.7:5000".parse().unwrap())).await;
    assert_eq!(page.status, 429);
    assert!(page.headers.contains_key("retry-after"));
}

#[actix_web::test]
async fn authenticated_answers_are_never_cached_and_errors_carry_an_id_in_the_log() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let token = app.token("kinda", "Karin", &[Role::Coordinator]);
    let r = call(&app, get("/api/v1/organisations", Some(&token))).await;
    assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
    let r = call(&app, get("/healthz", None)).await;
    assert!(r.headers.get("strict-transport-security").is_some());
    for req in [get("/api/v1/services/x", Some(&token)), post_json("/api/v1/evaluate", None, "{"), get("/nope", None)] {
        let r = call(&app, req).await;
        let id = r.body["error"]["error_id"].as_str().unwrap();
        assert_eq!(id.len(), 12);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
