//! Separation of duties beyond the author: no single person gets an
//! unapproved service approved through a person they made an approver, nobody
//! grants themself a role, and everyone who saved a draft is an author of the
//! revision made from it (docs/security.md, findings 3 and 4).

use diesel::RunQueryDsl;
use serde_json::{Value, json};
use tillit::auth::Role;

use crate::authz::submit;
use crate::common::*;
use crate::helpers::*;

async fn person_id(app: &TestApp, admin: &str, org: &str, name: &str) -> String {
    let r = call(app, get(&format!("/api/v1/people?org={org}"), Some(admin))).await;
    r.body["people"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap()["person_id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn actor(app: &TestApp, token: &str) -> tillit::auth::Actor {
    let mut conn = app.state.db.get().unwrap();
    tillit::auth::service::authenticate(&mut conn, &tillit::ids::hash_token(token)).unwrap()
}

fn verify(app: &TestApp) -> tillit::audit::verify::Report {
    let mut conn = app.state.db.get().unwrap();
    tillit::audit::verify::verify(&mut conn, &[]).unwrap()
}

#[actix_web::test]
async fn one_admin_alone_cannot_get_a_service_approved() {
    for backend in backends() {
        let app = TestApp::new(backend);
        // Ada is an admin; the operator made her a coordinator too.
        let ada = app.token("kinda", "Ada", &[Role::Admin]);
        let ada_id = person_id(&app, &ada, "kinda", "Ada").await;
        // 1. Nobody grants themself a role, any role.
        for role in ["coordinator", "approver", "auditor", "admin"] {
            let body = json!({"role": role}).to_string();
            let r = call(&app, post_json(&format!("/api/v1/people/{ada_id}/roles"), Some(&ada), body)).await;
            assert_envelope(&r, 403, "forbidden");
        }
        let ada = app.token("kinda", "Ada", &[Role::Admin, Role::Coordinator]);
        // 2. Ada writes and submits a service.
        let r = call(&app, post_json("/api/v1/services", Some(&ada), example_bytes("internal-assistant-pass"))).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let service = r.body["service_id"].as_str().unwrap().to_string();
        submit(&app, &ada, &service, 1).await;
        // 3. and 4. Ada makes a new approver and issues them a token.
        let body = json!({"org": "kinda", "name": "Ulf Ny", "roles": ["approver"]}).to_string();
        let r = call(&app, post_json("/api/v1/people", Some(&ada), body)).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let ulf_id = r.body["person_id"].as_str().unwrap().to_string();
        let r = call(&app, post_json(&format!("/api/v1/people/{ulf_id}/tokens"), Some(&ada), "{}")).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let ulf = r.body["token"].as_str().unwrap().to_string();
        // 5. The new approver cannot approve what their grantor wrote.
        let decision = json!({"org": "kinda", "revision": 1, "decision": "approved", "reason": "ok"}).to_string();
        let url = format!("/api/v1/services/{service}/decisions");
        let r = call(&app, post_json(&url, Some(&ulf), decision.clone())).await;
        assert_envelope(&r, 403, "separation_of_duties");
        assert!(r.text.contains("granted by someone who wrote"), "{}", r.text);
        // An approver whose role came from elsewhere may.
        let kalle = app.token("kinda", "Kalle", &[Role::Approver]);
        let r = call(&app, post_json(&url, Some(&kalle), decision)).await;
        assert_eq!(r.status, 201, "{}", r.text);

        // The database refuses it too: Ulf's decision for Ydre, written past the service.
        let mut conn = app.state.db.get().unwrap();
        let mut row = tillit::approvals::store::decisions_of(&mut conn, &service).unwrap().pop().unwrap();
        row.id = tillit::ids::new_id();
        row.org_slug = "ydre".into();
        row.deciding_org_slug = "ydre".into();
        row.decided_by = ulf_id.clone();
        assert!(tillit::approvals::store::insert_decision(&mut conn, &row).is_err(), "{backend:?}: the trigger");
        // And a grant to oneself, written past the service.
        let grant = tillit::auth::store::RoleGrantRow {
            id: tillit::ids::new_id(),
            user_id: ada_id.clone(),
            role: tillit::auth::Role::Approver,
            granted_at: tillit::db::now(),
            granted_by: Some(ada_id.clone()),
            revoked_at: None,
            revoked_by: None,
        };
        assert!(tillit::auth::store::insert_grant(&mut conn, &grant).is_err(), "{backend:?}: no grant to oneself");
        drop(conn);
        assert!(verify(&app).intact, "{backend:?}");
    }
}

#[actix_web::test]
async fn verify_flags_a_decision_under_a_role_granted_by_an_author() {
    // A database written before the rule: the guard is lifted to plant such a decision.
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let ada = app.token("kinda", "Ada", &[Role::Admin, Role::Coordinator]);
    let r = call(&app, post_json("/api/v1/services", Some(&ada), example_bytes("internal-assistant-pass"))).await;
    let service = r.body["service_id"].as_str().unwrap().to_string();
    submit(&app, &ada, &service, 1).await;
    let body = json!({"org": "kinda", "name": "Ulf Ny", "roles": ["approver"]}).to_string();
    let r = call(&app, post_json("/api/v1/people", Some(&ada), body)).await;
    let ulf_id = r.body["person_id"].as_str().unwrap().to_string();
    let r = call(&app, post_json(&format!("/api/v1/people/{ulf_id}/tokens"), Some(&ada), "{}")).await;
    let ulf = r.body["token"].as_str().unwrap().to_string();
    {
        let mut conn = app.state.db.get().unwrap();
        diesel::sql_query("DROP TRIGGER decisions_separation_of_duties").execute(&mut *conn).unwrap();
    }
    let ulf_actor = actor(&app, &ulf);
    let request: tillit::approvals::dto::DecisionRequest =
        serde_json::from_value(json!({"org": "kinda", "revision": 1, "decision": "approved", "reason": "ok"})).unwrap();
    // Without the trigger, the service still refuses.
    {
        let mut conn = app.state.db.get().unwrap();
        let e = tillit::approvals::service::decide(&mut conn, &ulf_actor, &service, &request).unwrap_err();
        assert_eq!(e.code(), "separation_of_duties");
    }
    let kalle = app.token("kinda", "Kalle", &[Role::Approver]);
    let url = format!("/api/v1/services/{service}/decisions");
    let decision = json!({"org": "kinda", "revision": 1, "decision": "approved", "reason": "ok"}).to_string();
    let r = call(&app, post_json(&url, Some(&kalle), decision)).await;
    assert_eq!(r.status, 201);
    assert!(verify(&app).intact);
    // A decision by Ulf with its audit record, as a version before the rule wrote it.
    {
        let mut conn = app.state.db.get().unwrap();
        let mut row = tillit::approvals::store::decisions_of(&mut conn, &service).unwrap().pop().unwrap();
        row.id = tillit::ids::new_id();
        row.org_slug = "ydre".into();
        row.deciding_org_slug = "ydre".into();
        row.decided_by = ulf_id.clone();
        tillit::db::write(&mut conn, |conn| {
            tillit::approvals::store::insert_decision(conn, &row)?;
            tillit::audit::append(
                conn,
                tillit::audit::NewEvent::new(tillit::audit::AuditAction::DecisionRecorded, Some(&ulf_id), Some("ydre"))
                    .subject(&row),
            )
        })
        .unwrap();
    }
    let report = verify(&app);
    assert!(!report.intact);
    assert!(
        report.problems.iter().any(|p| p.kind == "separation_of_duties" && p.detail.contains("granted by")),
        "{:?}",
        report.problems
    );
}

#[actix_web::test]
async fn everyone_who_saved_a_draft_is_an_author() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let anna = app.token("kinda", "Anna", &[Role::Coordinator, Role::Approver]);
        let bert = app.token("kinda", "Bert", &[Role::Coordinator]);
        let r = call(&app, post_json("/api/v1/services", Some(&bert), example_bytes("internal-assistant-pass"))).await;
        let service = r.body["service_id"].as_str().unwrap().to_string();
        submit(&app, &bert, &service, 1).await;

        // Anna writes a new-version draft; Bert completes and submits it.
        let (anna_actor, bert_actor) = (actor(&app, &anna), actor(&app, &bert));
        let policies = app.state.policies();
        let revision = {
            let mut conn = app.state.db.get().unwrap();
            let draft =
                tillit::submissions::service::start_draft(&mut conn, &anna_actor, Some(&service), None).unwrap();
            let mut doc: Value = serde_json::from_str(&draft.document).unwrap();
            set_pointer(&mut doc, "/service/short_description", json!("Annas nya text."));
            tillit::submissions::service::save_draft(&mut conn, &anna_actor, &draft.id, &doc).unwrap();
            let created = tillit::db::write(&mut conn, |conn| {
                tillit::submissions::service::complete_draft(conn, &bert_actor, &policies, &draft.id, &doc)
            })
            .unwrap()
            .expect("a complete draft");
            created.revision
        };
        assert_eq!(revision, 2);
        submit(&app, &bert, &service, 2).await;

        // Anna's approval is refused: she wrote it.
        let decision = json!({"org": "kinda", "revision": 2, "decision": "approved", "reason": "ok"}).to_string();
        let r = call(&app, post_json(&format!("/api/v1/services/{service}/decisions"), Some(&anna), decision)).await;
        assert_envelope(&r, 403, "forbidden");

        // The revision.created event names her as a contributor.
        let mut conn = app.state.db.get().unwrap();
        let events = tillit::audit::store::page(&mut conn, 0, 1000).unwrap();
        let created = events.iter().rev().find(|e| e.action == "revision.created").unwrap();
        let event = created.to_event().unwrap();
        assert!(event.subjects.iter().any(|s| s.t == "revision_contributors"), "{:?}", event.subjects);
        drop(conn);
        assert!(verify(&app).intact, "{backend:?}");
    }
}
