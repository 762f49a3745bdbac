//! The approval workflow: submit, decide (directly and under delegation),
//! revoke, every refusal, idempotency, races, and people administration.

use std::rc::Rc;

use actix_web::test;
use serde_json::json;
use tillit::auth::Role;

use crate::authz::{create_service, submit};
use crate::common::*;
use crate::helpers::*;

fn decide_body(org: &str, revision: i32, decision: &str) -> String {
    json!({"org": org, "revision": revision, "decision": decision}).to_string()
}

#[actix_web::test]
async fn the_whole_flow_with_delegation_on_every_backend() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
        let approver = app.token("kinda", "Kalle", &[Role::Approver]);
        let admin = app.token("kinda", "Kerstin", &[Role::Admin]);
        let itsam = app.token("itsam", "Isak", &[Role::Approver]);

        let service = create_service(&app, &coordinator, "internal-assistant-pass").await;
        // A draft cannot be decided on.
        let r = call(
            &app,
            post_json(
                &format!("/api/v1/services/{service}/decisions"),
                Some(&approver),
                decide_body("kinda", 1, "approved"),
            ),
        )
        .await;
        assert_envelope(&r, 409, "not_under_review");
        let submitted = submit(&app, &coordinator, &service, 1).await;
        assert_eq!(submitted["state"], "submitted");
        // Submitted means frozen: no second submission.
        let r =
            call(&app, post_json(&format!("/api/v1/services/{service}/revisions/1/submit"), Some(&coordinator), ""))
                .await;
        assert_envelope(&r, 409, "already_submitted");

        // Kinda's own AI function approves with conditions.
        let r = call(
            &app,
            post_json(
                &format!("/api/v1/services/{service}/decisions"),
                Some(&approver),
                json!({
            "org": "kinda", "revision": 1, "decision": "approved_with_conditions",
            "conditions": [{"type": "information_class_max", "value": "internal"}, {"type": "no_personal_data"}],
            "reason": "Godkänd för interna texter.", "decision_reference": "KS 2026/120"})
                .to_string(),
            ),
        )
        .await;
        assert_eq!(r.status, 201, "{backend:?}: {}", r.text);
        assert_eq!(r.body["via_delegation"], false);
        assert_eq!(r.body["deciding_org"], "kinda");
        assert!(r.body["valid_until"].is_string(), "an approval defaults to the review interval");

        // Itsam may not decide for Boxholm without a delegation...
        let r = call(
            &app,
            post_json(
                &format!("/api/v1/services/{service}/decisions"),
                Some(&itsam),
                decide_body("boxholm", 1, "approved"),
            ),
        )
        .await;
        assert_envelope(&r, 403, "forbidden");
        // ...until Boxholm's admin delegates.
        let box_admin = app.token("boxholm", "Bodil", &[Role::Admin]);
        let r = call(
            &app,
            post_json(
                "/api/v1/delegations",
                Some(&box_admin),
                json!({
            "org": "boxholm", "delegate": "itsam", "decision_reference": "KS 2026/77",
            "valid_from": "2026-01-01", "valid_until": null, "scope": "all"})
                .to_string(),
            ),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let delegation = r.body["delegation_id"].as_str().unwrap().to_string();
        assert_eq!(r.body["in_force"], true);
        let r = call(
            &app,
            post_json(
                &format!("/api/v1/services/{service}/decisions"),
                Some(&itsam),
                decide_body("boxholm", 1, "approved"),
            ),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["via_delegation"], true);
        assert_eq!(r.body["delegation_id"], delegation.as_str());
        assert_eq!(r.body["deciding_org"], "itsam");

        // The service shows every organisation's current decision.
        let r = call(&app, get(&format!("/api/v1/services/{service}"), Some(&coordinator))).await;
        let decisions = r.body["decisions"].as_array().unwrap();
        assert_eq!(decisions.len(), 2);
        let boxholm = decisions.iter().find(|d| d["org"] == "boxholm").unwrap();
        assert_eq!(boxholm["via_delegation"], true);
        assert_eq!(boxholm["delegation_reference"], "KS 2026/77");
        assert_eq!(boxholm["deciding_function"], "Itsams AI-funktion");
        let kinda = decisions.iter().find(|d| d["org"] == "kinda").unwrap();
        assert_eq!(kinda["conditions"][0]["text_sv"], "bara för allmänna och interna uppgifter");
        assert_eq!(kinda["conditions"][1]["type"], "no_personal_data");
        assert!(!r.text.contains("Kalle") && !r.text.contains("Isak"), "no person's name");

        // A revoked delegation ends Itsam's authority at once.
        let r = call(
            &app,
            post_json(
                &format!("/api/v1/delegations/{delegation}/revoke"),
                Some(&box_admin),
                "{\"reason\": \"Eget beslut\"}",
            ),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r =
            call(&app, post_json(&format!("/api/v1/delegations/{delegation}/revoke"), Some(&box_admin), "{}")).await;
        assert_envelope(&r, 409, "already_revoked");
        let r = call(&app, get("/api/v1/delegations?org=boxholm", None)).await;
        assert_eq!(r.body["delegations"][0]["in_force"], false);

        // Revoke, then decide again: decisions are never edited.
        let kinda_decision = kinda["decision_id"].as_str().unwrap().to_string();
        let r = call(
            &app,
            post_json(&format!("/api/v1/decisions/{kinda_decision}/revoke"), Some(&approver), "{\"reason\": \"  \"}"),
        )
        .await;
        assert_envelope(&r, 422, "invalid_request");
        let r = call(
            &app,
            post_json(
                &format!("/api/v1/decisions/{kinda_decision}/revoke"),
                Some(&approver),
                "{\"reason\": \"Ny bedömning\"}",
            ),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = call(
            &app,
            post_json(&format!("/api/v1/decisions/{kinda_decision}/revoke"), Some(&approver), "{\"reason\": \"Igen\"}"),
        )
        .await;
        assert_envelope(&r, 409, "already_revoked");
        let r = call(
            &app,
            post_json(
                &format!("/api/v1/services/{service}/decisions"),
                Some(&approver),
                json!({"org": "kinda", "revision": 1, "decision": "rejected", "reason": "Behövs inte."}).to_string(),
            ),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let _ = admin;

        // Every change is in the chain, which verifies.
        let mut conn = app.state.db.get().unwrap();
        let report = tillit::audit::verify::verify(&mut conn, &[]).unwrap();
        assert!(report.intact, "{:?}", report.problems);
        assert!(report.events > 20);
    }
}

#[actix_web::test]
async fn refusals_have_the_right_status() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let coordinator = app.token("kinda", "Karin", &[Role::Coordinator, Role::Approver]);
        let approver = app.token("kinda", "Kalle", &[Role::Approver]);
        let other = app.token("boxholm", "Bo", &[Role::Approver]);
        let service = create_service(&app, &coordinator, "internal-assistant-pass").await;
        submit(&app, &coordinator, &service, 1).await;
        let url = format!("/api/v1/services/{service}/decisions");
        let before = app.digest();

        // 403: separation of duties, even for an approver.
        let r = call(&app, post_json(&url, Some(&coordinator), decide_body("kinda", 1, "approved"))).await;
        assert_envelope(&r, 403, "forbidden");
        // 403: an approver of another municipality.
        let r = call(&app, post_json(&url, Some(&other), decide_body("kinda", 1, "approved"))).await;
        assert_envelope(&r, 403, "forbidden");
        // 422: rejection without reason; conditions missing; dates.
        let r = call(&app, post_json(&url, Some(&approver), decide_body("kinda", 1, "rejected"))).await;
        assert_envelope(&r, 422, "reason_required");
        let r = call(&app, post_json(&url, Some(&approver), decide_body("kinda", 1, "approved_with_conditions"))).await;
        assert_envelope(&r, 422, "conditions_required");
        let r = call(
            &app,
            post_json(
                &url,
                Some(&approver),
                json!({"org": "kinda", "revision": 1, "decision": "approved", "valid_until": "2020-01-01"}).to_string(),
            ),
        )
        .await;
        assert_envelope(&r, 422, "invalid_valid_until");
        let far = (tillit::swedish::today() + chrono::Duration::days(365 * 2)).format("%Y-%m-%d").to_string();
        let r = call(
            &app,
            post_json(
                &url,
                Some(&approver),
                json!({"org": "kinda", "revision": 1, "decision": "approved", "valid_until": far}).to_string(),
            ),
        )
        .await;
        assert_envelope(&r, 422, "invalid_valid_until");
        let r = call(
            &app,
            post_json(
                &url,
                Some(&approver),
                json!({"org": "kinda", "revision": 1, "decision": "approved_with_conditions",
            "conditions": [{"type": "information_class_max", "value": "top_secret"}]})
                .to_string(),
            ),
        )
        .await;
        assert_envelope(&r, 422, "invalid_conditions");
        assert_eq!(r.body["error"]["details"][0]["pointer"], "/conditions/0");
        let r = call(
            &app,
            post_json(&url, Some(&approver), json!({"org": "kinda", "revision": 1, "decision": "maybe"}).to_string()),
        )
        .await;
        assert_envelope(&r, 422, "invalid_request");
        let r = call(
            &app,
            post_json(
                &url,
                Some(&approver),
                json!({"org": "nowhere", "revision": 1, "decision": "approved"}).to_string(),
            ),
        )
        .await;
        assert_envelope(&r, 404, "unknown_organisation");
        let r = call(
            &app,
            post_json(
                &url,
                Some(&approver),
                json!({"org": "kinda", "revision": 1, "decision": "approved", "decided_by": "x"}).to_string(),
            ),
        )
        .await;
        assert_envelope(&r, 422, "invalid_request");
        assert_eq!(app.digest(), before, "nothing refused was stored");

        // 201 within the interval, then 409 for a second live decision.
        let r = call(&app, post_json(&url, Some(&approver), decide_body("kinda", 1, "approved"))).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let r = call(
            &app,
            post_json(
                &url,
                Some(&approver),
                json!({"org": "kinda", "revision": 1, "decision": "rejected", "reason": "x"}).to_string(),
            ),
        )
        .await;
        assert_envelope(&r, 409, "decision_exists");

        // 409: a failing revision cannot be approved (but may be rejected).
        let failing = create_service(&app, &coordinator, "internal-assistant-no-dpa").await;
        submit(&app, &coordinator, &failing, 1).await;
        let furl = format!("/api/v1/services/{failing}/decisions");
        let r = call(&app, post_json(&furl, Some(&approver), decide_body("kinda", 1, "approved"))).await;
        assert_envelope(&r, 409, "verdict_fail");
        let r = call(
            &app,
            post_json(
                &furl,
                Some(&approver),
                json!({"org": "kinda", "revision": 1, "decision": "rejected", "reason": "Avtal saknas."}).to_string(),
            ),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);

        // 409: once revision 2 is submitted, revision 1 is no longer under review.
        let r = call(
            &app,
            post_json(
                &format!("/api/v1/services/{failing}/revisions"),
                Some(&coordinator),
                example_bytes("internal-assistant-pass"),
            ),
        )
        .await;
        assert_eq!(r.status, 201);
        let r =
            call(&app, post_json(&format!("/api/v1/services/{failing}/revisions/1/submit"), Some(&coordinator), ""))
                .await;
        assert_envelope(&r, 409, "already_submitted");
        submit(&app, &coordinator, &failing, 2).await;
        let r = call(
            &app,
            post_json(
                &furl,
                Some(&other),
                json!({"org": "boxholm", "revision": 1, "decision": "rejected", "reason": "x"}).to_string(),
            ),
        )
        .await;
        assert_envelope(&r, 409, "not_under_review");
        let r = call(&app, post_json(&furl, Some(&other), decide_body("boxholm", 2, "approved"))).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
}

#[actix_web::test]
async fn an_idempotency_key_replays_the_first_answer() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
        let approver = app.token("kinda", "Kalle", &[Role::Approver]);
        let service = create_service(&app, &coordinator, "internal-assistant-pass").await;
        submit(&app, &coordinator, &service, 1).await;
        let url = format!("/api/v1/services/{service}/decisions");
        let body = decide_body("kinda", 1, "approved");
        let first =
            call(&app, post_json(&url, Some(&approver), body.clone()).insert_header(("Idempotency-Key", "k-1"))).await;
        assert_eq!(first.status, 201);
        let digest = app.digest();
        let again =
            call(&app, post_json(&url, Some(&approver), body.clone()).insert_header(("Idempotency-Key", "k-1"))).await;
        assert_eq!(again.status, 201);
        assert_eq!(again.body, first.body);
        assert_eq!(app.digest(), digest, "no second effect");
        let different = call(
            &app,
            post_json(&url, Some(&approver), decide_body("kinda", 1, "rejected"))
                .insert_header(("Idempotency-Key", "k-1")),
        )
        .await;
        assert_envelope(&different, 422, "idempotency_key_reused");
        // Without the key the same request is a second attempt, refused by the rules.
        let r = call(&app, post_json(&url, Some(&approver), body)).await;
        assert_envelope(&r, 409, "decision_exists");
        // Creating a service twice with one key creates one service.
        let a = call(
            &app,
            post_json("/api/v1/services", Some(&coordinator), example_bytes("internal-assistant-pass"))
                .insert_header(("Idempotency-Key", "svc-7")),
        )
        .await;
        let b = call(
            &app,
            post_json("/api/v1/services", Some(&coordinator), example_bytes("internal-assistant-pass"))
                .insert_header(("Idempotency-Key", "svc-7")),
        )
        .await;
        assert_eq!(a.body["service_id"], b.body["service_id"]);
        assert_eq!(a.headers.get("location"), b.headers.get("location"));
    }
}

#[actix_web::test]
async fn eight_concurrent_decisions_make_exactly_one() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
        let approvers: Vec<String> =
            (0..8).map(|i| app.token("kinda", &format!("Approver {i}"), &[Role::Approver])).collect();
        let service = create_service(&app, &coordinator, "internal-assistant-pass").await;
        submit(&app, &coordinator, &service, 1).await;
        let svc = Rc::new(test::init_service(tillit::build_app(app.state.clone())).await);
        let mut handles = Vec::new();
        for token in approvers {
            let svc = svc.clone();
            let url = format!("/api/v1/services/{service}/decisions");
            handles.push(actix_web::rt::spawn(async move {
                let req = post_json(&url, Some(&token), decide_body("kinda", 1, "approved")).to_request();
                test::call_service(&*svc, req).await.status().as_u16()
            }));
        }
        let mut statuses = Vec::new();
        for h in handles {
            statuses.push(h.await.unwrap());
        }
        statuses.sort();
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{backend:?}: {statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 7, "{backend:?}: {statuses:?}");
        let mut conn = app.state.db.get().unwrap();
        assert!(tillit::audit::verify::verify(&mut conn, &[]).unwrap().intact);
    }
}

#[actix_web::test]
async fn admins_manage_people_roles_and_tokens() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let admin = app.token("kinda", "Kerstin", &[Role::Admin]);
        let r = call(
            &app,
            post_json(
                "/api/v1/people",
                Some(&admin),
                json!({"org": "kinda", "name": "Nils Ny", "roles": ["coordinator", "auditor"]}).to_string(),
            ),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["created"], true);
        assert_eq!(r.body["roles"], json!(["coordinator", "auditor"]));
        let nils = r.body["person_id"].as_str().unwrap().to_string();
        // The same name reuses the person.
        let r = call(
            &app,
            post_json(
                "/api/v1/people",
                Some(&admin),
                json!({"org": "kinda", "name": "Nils Ny", "roles": ["approver"]}).to_string(),
            ),
        )
        .await;
        assert_eq!(r.body["created"], false);
        assert_eq!(r.body["person_id"], nils.as_str());
        let r = call(&app, post_json(&format!("/api/v1/people/{nils}/roles/auditor/revoke"), Some(&admin), "")).await;
        assert_eq!(r.body["roles"], json!(["coordinator", "approver"]));
        let r = call(&app, post_json(&format!("/api/v1/people/{nils}/roles/auditor/revoke"), Some(&admin), "")).await;
        assert_envelope(&r, 409, "role_not_held");
        // An admin cannot make themself an approver.
        let me = call(&app, get("/api/v1/people?org=kinda", Some(&admin))).await;
        let my_id = me.body["people"].as_array().unwrap().iter().find(|p| p["name"] == "Kerstin").unwrap()["person_id"]
            .as_str()
            .unwrap()
            .to_string();
        let r =
            call(&app, post_json(&format!("/api/v1/people/{my_id}/roles"), Some(&admin), "{\"role\": \"approver\"}"))
                .await;
        assert_envelope(&r, 403, "forbidden");
        // Tokens: issued once, work at once, stop working when revoked.
        let r = call(
            &app,
            post_json(
                &format!("/api/v1/people/{nils}/tokens"),
                Some(&admin),
                "{\"label\": \"integration\", \"days\": 30}",
            )
            .insert_header(("Idempotency-Key", "tok-1")),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let token = r.body["token"].as_str().unwrap().to_string();
        let token_id = r.body["token_id"].as_str().unwrap().to_string();
        let replay = call(
            &app,
            post_json(
                &format!("/api/v1/people/{nils}/tokens"),
                Some(&admin),
                "{\"label\": \"integration\", \"days\": 30}",
            )
            .insert_header(("Idempotency-Key", "tok-1")),
        )
        .await;
        assert_eq!(replay.body["token_id"], token_id.as_str());
        assert!(replay.body.get("token").is_none(), "a secret is shown once, never replayed");
        let r = call(&app, post_json("/api/v1/services", Some(&token), example_bytes("internal-assistant-pass"))).await;
        assert_eq!(r.status, 201);
        let r = call(&app, post_json(&format!("/api/v1/tokens/{token_id}/revoke"), Some(&admin), "")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = call(&app, post_json("/api/v1/services", Some(&token), example_bytes("internal-assistant-pass"))).await;
        assert_envelope(&r, 401, "unauthorized");
        // A deactivated person's tokens stop working.
        let other = app.token("kinda", "Olle", &[Role::Coordinator]);
        let people = call(&app, get("/api/v1/people?org=kinda", Some(&admin))).await;
        let olle = people.body["people"].as_array().unwrap().iter().find(|p| p["name"] == "Olle").unwrap()["person_id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = call(&app, post_json(&format!("/api/v1/people/{olle}/deactivate"), Some(&admin), "")).await;
        assert_eq!(r.body["active"], false);
        let r = call(&app, get("/api/v1/organisations", Some(&other))).await;
        assert_eq!(r.status, 200, "public endpoints ignore the token");
        let r = call(&app, post_json("/api/v1/services", Some(&other), example_bytes("internal-assistant-pass"))).await;
        assert_envelope(&r, 401, "unauthorized");
        // Other organisations' people are invisible.
        let box_admin = app.token("boxholm", "Bodil", &[Role::Admin]);
        let r =
            call(&app, post_json(&format!("/api/v1/people/{nils}/roles"), Some(&box_admin), "{\"role\": \"admin\"}"))
                .await;
        assert_envelope(&r, 404, "not_found");
        let mut conn = app.state.db.get().unwrap();
        assert!(tillit::audit::verify::verify(&mut conn, &[]).unwrap().intact);
    }
}

#[actix_web::test]
async fn auditors_export_the_log_as_json_lines_without_personal_data() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let coordinator = app.token("kinda", "Karin Karlsson", &[Role::Coordinator]);
        let auditor = app.token("itsam", "Irene Revisor", &[Role::Auditor]);
        create_service(&app, &coordinator, "internal-assistant-pass").await;
        let r = call(&app, get("/api/v1/audit", Some(&coordinator))).await;
        assert_envelope(&r, 403, "forbidden");
        let r = call(&app, get("/api/v1/audit", Some(&auditor))).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.headers.get("content-type").unwrap(), "application/x-ndjson");
        let lines: Vec<serde_json::Value> = r.text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines[0]["seq"], 1);
        for (i, line) in lines.iter().enumerate() {
            assert_eq!(line["seq"], (i + 1) as i64);
            if i > 0 {
                assert_eq!(line["prev_hash"], lines[i - 1]["entry_hash"]);
            }
        }
        assert!(lines.iter().any(|l| l["action"] == "service.created"));
        assert!(!r.text.contains("Karin") && !r.text.contains("Irene"), "events hold ids and digests, not names");
        let head = call(&app, get("/api/v1/audit/head", None)).await;
        assert_eq!(head.body["seq"], lines.len() as i64);
        assert_eq!(head.body["entry_hash"], lines.last().unwrap()["entry_hash"]);
        let r = call(&app, get(&format!("/api/v1/audit?after_seq={}", lines.len() - 2), Some(&auditor))).await;
        assert_eq!(r.text.lines().count(), 2);
    }
}
