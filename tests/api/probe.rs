//! Regression tests for the outside security probe's smaller findings
//! (docs/security.md, "Findings of the outside probe").

use actix_web::http::header;
use tillit::auth::Role;

use crate::common::*;
use crate::helpers::*;
use crate::web::{PASSWORD, cookie_value, enc, form, hidden, page, set_password, sign_in};

/// Open-redirect corpus: each must end at /start, never elsewhere, never 500.
const HOSTILE_NEXT: &[&str] = &[
    "//evil.example",
    "/\\evil.example",
    "/\t/evil.example",
    "/\r\n/evil.example",
    "/\nabc",
    "\t//evil.example",
    "https://evil.example",
    "https:evil.example",
    "http:/evil.example",
    "/%2F/evil.example\t",
    "javascript:alert(1)",
    "/\u{0}x",
    " /start",
    "/å",
];

#[actix_web::test]
async fn sign_in_redirects_only_to_safe_local_paths() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    app.token("kinda", "Kalle", &[Role::Approver]);
    set_password(&app, "kinda", "Kalle", "kalle");
    let session = sign_in(&app, "kinda", "kalle").await;
    for next in HOSTILE_NEXT {
        // Signed in, GET /login follows next.
        let r = call(&app, page(&format!("/login?next={}", enc(next)), Some(&session))).await;
        assert_eq!(r.status, 303, "{next:?}: {}", r.text);
        assert_eq!(r.headers.get(header::LOCATION).unwrap(), "/start", "{next:?}");
        // Signing in with the form follows it too.
        let r = call(&app, page("/login", None)).await;
        let login = cookie_value(&r, "__Host-tillit_login").unwrap();
        let csrf = hidden(&r.text, "csrf");
        let body = format!("csrf={csrf}&next={}&org=kinda&username=kalle&password={}", enc(next), enc(PASSWORD));
        let r = call(&app, form("/login", &[("__Host-tillit_login", &login)], &body)).await;
        if r.status == 303 {
            assert_eq!(r.headers.get(header::LOCATION).unwrap(), "/start", "{next:?}");
        } else {
            // A form the server refuses (a NUL byte) is a clear 400 and starts no session.
            assert_eq!(r.status, 400, "{next:?}: {}", r.text);
            assert!(cookie_value(&r, "__Host-tillit_session").is_none(), "{next:?}");
        }
    }
    // A same-site path with a query is kept.
    let r = call(&app, page(&format!("/login?next={}", enc("/services/x?lang=en&from=1")), Some(&session))).await;
    assert_eq!(r.headers.get(header::LOCATION).unwrap(), "/services/x?lang=en&from=1");
}

#[actix_web::test]
async fn whole_numbers_with_decimals_are_refused_plainly_never_500() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
        let admin = app.token("kinda", "Ada", &[Role::Admin]);
        let mut d = example("internal-assistant-pass");
        set_pointer(&mut d, "/governance/review/interval_months", serde_json::json!(12.0));
        let r = call(&app, post_json("/api/v1/services", Some(&coordinator), serde_json::to_vec(&d).unwrap())).await;
        assert_eq!(r.status, 422, "{backend:?}: {}", r.text);
        assert!(r.text.contains("/governance/review/interval_months"), "{}", r.text);
        assert!(r.text.contains("Skriv ett heltal utan decimaler"), "{}", r.text);

        let people = call(&app, get("/api/v1/people?org=kinda", Some(&admin))).await;
        let ada =
            people.body["people"].as_array().unwrap().iter().find(|p| p["name"] == "Ada").unwrap()["person_id"].clone();
        let ada = ada.as_str().unwrap();
        let r =
            call(&app, post_json(&format!("/api/v1/people/{ada}/tokens"), Some(&admin), r#"{"days": 113.0}"#)).await;
        assert_envelope(&r, 422, "invalid_request");
        for rust in ["u32", "u64", "expected u", "line 1"] {
            assert!(!r.text.contains(rust), "{}", r.text);
        }
        assert!(r.text.contains("whole number") && r.text.contains("heltal"), "{}", r.text);
    }
}

#[actix_web::test]
async fn another_organisations_draft_looks_like_nothing_and_long_labels_are_refused() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let karin = app.token("kinda", "Karin", &[Role::Coordinator]);
        let bo = app.token("boxholm", "Bo", &[Role::Coordinator, Role::Approver]);
        let r = call(&app, post_json("/api/v1/services", Some(&karin), example_bytes("internal-assistant-pass"))).await;
        let service = r.body["service_id"].as_str().unwrap().to_string();
        crate::authz::submit(&app, &karin, &service, 1).await;
        let r = call(
            &app,
            post_json(
                &format!("/api/v1/services/{service}/revisions"),
                Some(&karin),
                example_bytes("internal-assistant-pass"),
            ),
        )
        .await;
        assert_eq!(r.status, 201);
        // Revision 2 is Kinda's draft; revision 9 does not exist. Boxholm cannot tell them apart.
        let submit = |n: i32| post_json(&format!("/api/v1/services/{service}/revisions/{n}/submit"), Some(&bo), "");
        let (draft, none) = (call(&app, submit(2)).await, call(&app, submit(9)).await);
        assert_eq!(
            (draft.status, draft.body["error"]["code"].clone()),
            (none.status, none.body["error"]["code"].clone())
        );
        assert_eq!(draft.status, 404, "{backend:?}: {}", draft.text);
        let decide = |n: i32| {
            let body = serde_json::json!({"org": "boxholm", "revision": n, "decision": "rejected", "reason": "x"});
            post_json(&format!("/api/v1/services/{service}/decisions"), Some(&bo), body.to_string())
        };
        let (draft, none) = (call(&app, decide(2)).await, call(&app, decide(9)).await);
        assert_envelope(&draft, 404, "unknown_revision");
        assert_envelope(&none, 404, "unknown_revision");

        let admin = app.token("kinda", "Ada", &[Role::Admin]);
        let people = call(&app, get("/api/v1/people?org=kinda", Some(&admin))).await;
        let ada = people.body["people"].as_array().unwrap().iter().find(|p| p["name"] == "Ada").unwrap()["person_id"]
            .as_str()
            .unwrap()
            .to_string();
        let label = "x".repeat(121);
        let body = serde_json::json!({"label": label}).to_string();
        let r = call(&app, post_json(&format!("/api/v1/people/{ada}/tokens"), Some(&admin), body)).await;
        assert_envelope(&r, 422, "invalid_label");
        let body = serde_json::json!({"label": "x".repeat(120)}).to_string();
        let r = call(&app, post_json(&format!("/api/v1/people/{ada}/tokens"), Some(&admin), body)).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
}
