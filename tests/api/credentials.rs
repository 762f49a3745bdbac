//! Credentials and deployment-wide acts: setting a password and linking a
//! sign-on identity are audit events that `audit verify` holds the rows to,
//! only an operator reloads the rule set, and a deactivated person gets no
//! role (docs/security.md, finding 7).

use diesel::RunQueryDsl;
use serde_json::json;
use tillit::auth::Role;

use crate::common::*;
use crate::helpers::*;

fn verify(app: &TestApp) -> tillit::audit::verify::Report {
    let mut conn = app.state.db.get().unwrap();
    tillit::audit::verify::verify(&mut conn, &[]).unwrap()
}

fn actions(app: &TestApp) -> Vec<String> {
    let mut conn = app.state.db.get().unwrap();
    tillit::audit::store::page(&mut conn, 0, 10_000).unwrap().into_iter().map(|e| e.action).collect()
}

#[actix_web::test]
async fn passwords_and_linked_identities_are_in_the_audit_chain() {
    for backend in backends() {
        let app = TestApp::new(backend);
        app.token("kinda", "Kalle", &[Role::Approver]);
        crate::web::set_password(&app, "kinda", "Kalle", "kalle");
        // Replacing it is an event too.
        crate::web::set_password(&app, "kinda", "Kalle", "kalle");
        assert_eq!(actions(&app).iter().filter(|a| *a == "password.set").count(), 2, "{backend:?}");
        {
            let mut conn = app.state.db.get().unwrap();
            let identity = tillit::auth::oidc::Identity {
                issuer: "https://idp.example.se".into(),
                subject: "sub 1".into(),
                name: "Sara SSO".into(),
            };
            tillit::auth::oidc::sign_in(&mut conn, "boxholm", &identity).unwrap();
            // A second sign-in changes only last_sign_in_at, which the chain leaves out.
            tillit::auth::oidc::sign_in(&mut conn, "boxholm", &identity).unwrap();
        }
        assert_eq!(actions(&app).iter().filter(|a| *a == "identity.linked").count(), 1);
        let report = verify(&app);
        assert!(report.intact, "{backend:?}: {:?}", report.problems);

        // A password hash swapped in the database is tampering.
        {
            let mut conn = app.state.db.get().unwrap();
            diesel::sql_query("UPDATE password_credentials SET password_hash = 'forged'").execute(&mut *conn).unwrap();
        }
        let report = verify(&app);
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.kind == "row_changed_without_event" && p.detail.contains("password_credentials")),
            "{backend:?}: {:?}",
            report.problems
        );
        // So is an identity moved to another person.
        let app = TestApp::new(backend);
        app.token("boxholm", "Bo", &[Role::Admin]);
        {
            let mut conn = app.state.db.get().unwrap();
            let identity = tillit::auth::oidc::Identity {
                issuer: "https://idp.example.se".into(),
                subject: "s".into(),
                name: "Sara".into(),
            };
            tillit::auth::oidc::sign_in(&mut conn, "boxholm", &identity).unwrap();
            diesel::sql_query("UPDATE sso_identities SET user_id = (SELECT id FROM users WHERE name = 'Bo')")
                .execute(&mut *conn)
                .unwrap();
        }
        let report = verify(&app);
        assert!(
            report.problems.iter().any(|p| p.detail.contains("sso_identities")),
            "{backend:?}: {:?}",
            report.problems
        );
    }
}

#[actix_web::test]
async fn credentials_from_before_the_upgrade_are_recorded_once() {
    for backend in backends() {
        let app = TestApp::new(backend);
        app.token("kinda", "Kalle", &[Role::Approver]);
        crate::web::set_password(&app, "kinda", "Kalle", "kalle");
        let mut conn = app.state.db.get().unwrap();
        // As an older version left it: the row with no event naming it, listed by the migration.
        diesel::sql_query("INSERT INTO unrecorded_credentials (table_name, row_id) SELECT 'password_credentials', user_id FROM password_credentials")
            .execute(&mut *conn)
            .unwrap();
        assert_eq!(tillit::auth::oidc::record_credentials_from_before(&mut conn).unwrap(), 1);
        assert_eq!(tillit::auth::oidc::record_credentials_from_before(&mut conn).unwrap(), 0, "once");
        drop(conn);
        assert!(actions(&app).contains(&"credentials.recorded".to_string()));
        assert!(verify(&app).intact, "{backend:?}");
    }
}

#[actix_web::test]
async fn only_a_deployment_operator_reloads_the_rule_set() {
    let db = TestDb::new(tillit::db::Backend::Sqlite);
    let database = db.open();
    let operator = {
        let mut conn = database.get().unwrap();
        tillit::auth::service::create_token(&mut conn, "kinda", "Olga Operatör", &[], "ops", 30).unwrap()
    };
    let mut settings = tillit::Settings::for_database(db.url.clone());
    settings.operators = vec![operator.user_id.clone()];
    let state = tillit::state::AppState::new(database, tillit::policy::load(None).unwrap(), settings).unwrap();
    let app = TestApp { state, db };
    // A municipality's admin may not: it acts for the whole deployment.
    let admin = app.token("kinda", "Ada", &[Role::Admin]);
    let r = call(&app, post_json("/api/v1/policies/reload", Some(&admin), "")).await;
    assert_envelope(&r, 403, "forbidden");
    assert!(r.text.contains("operator"), "{}", r.text);
    // The operator may: the answer is about the policies (built in here), not about who asks.
    let r = call(&app, post_json("/api/v1/policies/reload", Some(&operator.secret), "")).await;
    assert_envelope(&r, 409, "policies_built_in");
}

#[actix_web::test]
async fn a_deactivated_person_gets_no_role() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let admin = app.token("kinda", "Ada", &[Role::Admin]);
        let body = json!({"org": "kinda", "name": "Olle", "roles": ["auditor"]}).to_string();
        let r = call(&app, post_json("/api/v1/people", Some(&admin), body)).await;
        let olle = r.body["person_id"].as_str().unwrap().to_string();
        let r = call(&app, post_json(&format!("/api/v1/people/{olle}/deactivate"), Some(&admin), "")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = call(&app, post_json(&format!("/api/v1/people/{olle}/roles"), Some(&admin), r#"{"role": "approver"}"#))
            .await;
        assert_envelope(&r, 409, "deactivated");
    }
}

/// `tillit audit verify` on the test's database: exit code and output.
fn verify_cli(app: &TestApp) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tillit"))
        .args(["audit", "verify", "--database", &app.db.url_string()])
        .output()
        .unwrap();
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[actix_web::test]
async fn unreadable_rows_are_reported_as_tampering() {
    for backend in backends() {
        let app = TestApp::new(backend);
        app.token("kinda", "Kalle", &[Role::Approver]);
        assert_eq!(verify_cli(&app).0, Some(0), "{backend:?}");
        let sqlite = backend == tillit::db::Backend::Sqlite;
        {
            let mut conn = app.state.db.get().unwrap();
            let lift = if sqlite {
                "DROP TRIGGER audit_events_no_update"
            } else {
                "DROP TRIGGER audit_events_append_only ON audit_events"
            };
            diesel::sql_query(lift).execute(&mut *conn).unwrap();
            // SQLite keeps any text in a timestamp column; PostgreSQL only a
            // timestamp, so there the event's subjects are made unreadable.
            let tamper = if sqlite {
                "UPDATE audit_events SET occurred_at = 'gestern' WHERE seq = 2"
            } else {
                "UPDATE audit_events SET subjects = '[{' WHERE seq = 2"
            };
            diesel::sql_query(tamper).execute(&mut *conn).unwrap();
        }
        let (code, text) = verify_cli(&app);
        assert_eq!(code, Some(1), "{backend:?}: {text}");
        let column = if sqlite { "the column occurred_at cannot be read" } else { "unreadable subjects" };
        assert!(text.contains("event 2") && text.contains(column), "{backend:?}: {text}");
        assert!(!text.contains("Something went wrong"), "{text}");
        if sqlite {
            // A business row whose timestamp no longer reads is named too.
            let mut conn = app.state.db.get().unwrap();
            diesel::sql_query("UPDATE role_grants SET granted_at = 'igår'").execute(&mut *conn).unwrap();
            drop(conn);
            let (code, text) = verify_cli(&app);
            assert_eq!(code, Some(1), "{text}");
            assert!(text.contains("role_grants row") && text.contains("cannot be read"), "{text}");
        }
    }
    // Exit 2 stays for a database that cannot be opened.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tillit"))
        .args(["audit", "verify", "--database", "sqlite:///nowhere/tillit.db"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
