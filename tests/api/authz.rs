//! Checks every cell of tests/authz_matrix.md against the running application.

use serde_json::{Value, json};
use tillit::auth::Role;

use crate::common::*;
use crate::helpers::*;

struct Fixture {
    app: TestApp,
    draft: String,
    submitted: String,
    undecided: String,
    decision: String,
    future_delegation: String,
    auditor_id: String,
}

fn role_of(name: &str) -> Role {
    Role::parse(name).unwrap()
}

async fn fixture(backend: tillit::db::Backend, delegation: &str) -> Fixture {
    let app = TestApp::new(backend);
    let coordinator = app.token("kinda", "Kinda coordinator (fixture)", &[Role::Coordinator]);
    let approver = app.token("kinda", "Kinda approver (fixture)", &[Role::Approver]);
    let admin = app.token("kinda", "Kinda admin (fixture)", &[Role::Admin]);
    let auditor_id = {
        let mut conn = app.state.db.get().unwrap();
        tillit::auth::service::create_token(&mut conn, "kinda", "Kinda auditor (fixture)", &[Role::Auditor], "t", 30)
            .unwrap()
            .user_id
    };
    let draft = create_service(&app, &coordinator, "internal-assistant-pass").await;
    let submitted = create_service(&app, &coordinator, "internal-assistant-pass").await;
    submit(&app, &coordinator, &submitted, 1).await;
    let undecided = create_service(&app, &coordinator, "resident-chatbot-pass").await;
    submit(&app, &coordinator, &undecided, 1).await;
    let response = call(
        &app,
        post_json(
            &format!("/api/v1/services/{submitted}/decisions"),
            Some(&approver),
            json!({"org": "kinda", "revision": 1, "decision": "approved"}).to_string(),
        ),
    )
    .await;
    assert_eq!(response.status, 201, "{}", response.text);
    let decision = response.body["decision_id"].as_str().unwrap().to_string();
    let next_year = (tillit::swedish::today() + chrono::Duration::days(400)).format("%Y-%m-%d").to_string();
    let future_delegation = create_delegation(&app, &admin, &next_year, None).await;
    match delegation {
        "valid" => {
            create_delegation(&app, &admin, "2020-01-01", None).await;
        }
        "expired" => {
            let yesterday = (tillit::swedish::today() - chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
            create_delegation(&app, &admin, "2020-01-01", Some(&yesterday)).await;
        }
        "revoked" => {
            let id = create_delegation(&app, &admin, "2020-01-01", None).await;
            let r = call(
                &app,
                post_json(&format!("/api/v1/delegations/{id}/revoke"), Some(&admin), "{\"reason\": \"Avslutad\"}"),
            )
            .await;
            assert_eq!(r.status, 200, "{}", r.text);
        }
        _ => {}
    }
    Fixture { app, draft, submitted, undecided, decision, future_delegation, auditor_id }
}

async fn act(f: &Fixture, token: Option<&str>, action: &str) -> u16 {
    let app = &f.app;
    let response = match action {
        "create_service" => {
            call(app, post_json("/api/v1/services", token, example_bytes("internal-assistant-pass"))).await
        }
        "view_draft" => call(app, get(&format!("/api/v1/services/{}", f.draft), token)).await,
        "view_submitted" => call(app, get(&format!("/api/v1/services/{}", f.submitted), token)).await,
        "add_revision" => {
            call(
                app,
                post_json(
                    &format!("/api/v1/services/{}/revisions", f.submitted),
                    token,
                    example_bytes("internal-assistant-pass"),
                ),
            )
            .await
        }
        "submit" => call(app, post_json(&format!("/api/v1/services/{}/revisions/1/submit", f.draft), token, "")).await,
        "decide" => {
            call(
                app,
                post_json(
                    &format!("/api/v1/services/{}/decisions", f.undecided),
                    token,
                    json!({"org": "kinda", "revision": 1, "decision": "approved"}).to_string(),
                ),
            )
            .await
        }
        "revoke_decision" => {
            call(app, post_json(&format!("/api/v1/decisions/{}/revoke", f.decision), token, "{\"reason\": \"Test\"}"))
                .await
        }
        "create_delegation" => {
            call(
                app,
                post_json(
                    "/api/v1/delegations",
                    token,
                    json!({
            "org": "kinda", "delegate": "itsam", "decision_reference": "KS 2027/1",
            "valid_from": "2030-01-01", "valid_until": null, "scope": "all"})
                    .to_string(),
                ),
            )
            .await
        }
        "revoke_delegation" => {
            call(app, post_json(&format!("/api/v1/delegations/{}/revoke", f.future_delegation), token, "{}")).await
        }
        "list_people" => call(app, get("/api/v1/people?org=kinda", token)).await,
        "grant_role" => {
            call(
                app,
                post_json(&format!("/api/v1/people/{}/roles", f.auditor_id), token, "{\"role\": \"coordinator\"}"),
            )
            .await
        }
        "export_audit" => call(app, get("/api/v1/audit", token)).await,
        other => panic!("unknown action {other}"),
    };
    if response.status.as_u16() >= 400 {
        assert_no_internals(&response.text);
        assert!(response.body["error"]["code"].is_string(), "{action}: {}", response.text);
    }
    response.status.as_u16()
}

fn outcome(status: u16) -> &'static str {
    match status {
        200..=299 => "allow",
        401 => "unauth",
        403 => "deny",
        404 => "hidden",
        _ => "other",
    }
}

#[actix_web::test]
async fn every_cell_of_the_authorization_matrix_holds() {
    let table = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/authz_matrix.md")).unwrap();
    let rows: Vec<Vec<String>> = table
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .map(|l| l.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect())
        .collect();
    let actions = rows[0][1..].to_vec();
    assert_eq!(actions.len(), 12);
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for backend in backends() {
        for row in &rows[1..] {
            let actor = &row[0];
            let (who, delegation) = match actor.split_once(", ") {
                Some((who, d)) => (who, d.trim_end_matches(" delegation")),
                None => (actor.as_str(), "none"),
            };
            let f = fixture(backend, delegation).await;
            let token = if who == "anonymous" {
                None
            } else {
                let (org, role) = who.split_once(' ').unwrap();
                Some(f.app.token(org, &format!("{who} (matrix)"), &[role_of(role)]))
            };
            for (action, expected) in actions.iter().zip(&row[1..]) {
                let status = act(&f, token.as_deref(), action).await;
                checked += 1;
                if outcome(status) != expected {
                    mismatches.push(format!("{backend:?} | {actor} | {action}: expected {expected}, got {status}"));
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
    assert!(checked >= 22 * 12);
}

pub async fn create_service(app: &TestApp, token: &str, example_name: &str) -> String {
    let response = call(app, post_json("/api/v1/services", Some(token), example_bytes(example_name))).await;
    assert_eq!(response.status, 201, "{}", response.text);
    response.body["service_id"].as_str().unwrap().to_string()
}

pub async fn submit(app: &TestApp, token: &str, service: &str, revision: i32) -> Value {
    let response =
        call(app, post_json(&format!("/api/v1/services/{service}/revisions/{revision}/submit"), Some(token), "")).await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body
}

pub async fn create_delegation(app: &TestApp, admin: &str, from: &str, until: Option<&str>) -> String {
    let response = call(
        app,
        post_json(
            "/api/v1/delegations",
            Some(admin),
            json!({
        "org": "kinda", "delegate": "itsam", "decision_reference": "KS 2026/114",
        "valid_from": from, "valid_until": until, "scope": "all"})
            .to_string(),
        ),
    )
    .await;
    assert_eq!(response.status, 201, "{}", response.text);
    response.body["delegation_id"].as_str().unwrap().to_string()
}
