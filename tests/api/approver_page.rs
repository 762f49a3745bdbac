//! The approver reads what they approve: the whole description on the
//! service page, grouped as the form groups it, with what changed since
//! their organisation's decision marked; a refused decision form keeps what
//! was typed; a decision can be revoked on the web.

use serde_json::json;
use tillit::auth::Role;

use crate::authz::submit;
use crate::common::*;
use crate::helpers::*;
use crate::web::{decide_form, form, hidden, location, page, set_password, sign_in};

#[actix_web::test]
async fn the_approver_reads_decides_and_revokes_on_the_web() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
        app.token("kinda", "Kalle", &[Role::Approver]);
        set_password(&app, "kinda", "Kalle", "kalle");
        let session = sign_in(&app, "kinda", "kalle").await;
        let r = call(&app, post_json("/api/v1/services", Some(&coordinator), example_bytes("internal-assistant-pass")))
            .await;
        let service = r.body["service_id"].as_str().unwrap().to_string();
        submit(&app, &coordinator, &service, 1).await;

        // The whole description, in the form's words, with coded values as labels.
        let r = call(&app, page(&format!("/services/{service}"), Some(&session))).await;
        assert_eq!(r.status, 200);
        for words in ["Beskrivningen (version 1)", "Tjänstens namn", "R1 Säkerhet och dataskydd", "uppfylls"] {
            assert!(r.text.contains(words), "{backend:?}: {words}");
        }
        assert!(!r.text.contains(">limited_transparency<") && !r.text.contains(">eu_eea<"), "no raw codes");

        // A refused form keeps what was typed, with the message at the field.
        let r = decide_form(
            &app,
            &service,
            &session,
            "org=kinda&revision=1&decision=rejected&reason=&decision_reference=KS+2026%2F9&permitted_tasks=Sammanfatta",
        )
        .await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert!(r.text.contains(r#"value="rejected" checked"#), "the decision stays chosen");
        assert!(r.text.contains(r#"value="KS 2026/9""#), "the reference stays typed");
        assert!(r.text.contains(">Sammanfatta</textarea>"));
        assert!(r.text.contains(r#"id="reason-error""#), "the message stands beside the reason");

        // Decide; the form gives way to the decision and its revoke form.
        let r = decide_form(
            &app,
            &service,
            &session,
            "org=kinda&revision=1&decision=approved&decision_reference=KS+2026%2F9",
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let r = call(&app, page(&format!("/services/{service}"), Some(&session))).await;
        assert!(r.text.contains("KS 2026/9"), "the decisions table shows the diarienummer");
        assert!(!r.text.contains("/decide?lang"), "no decision form once Kinda has decided");
        assert!(r.text.contains("Återkalla beslutet"));

        // A new revision: the page marks what changed since Kinda's decision.
        let mut d = example("internal-assistant-pass");
        set_pointer(&mut d, "/service/short_description", json!("En helt ny beskrivning."));
        let r = call(
            &app,
            post_json(
                &format!("/api/v1/services/{service}/revisions"),
                Some(&coordinator),
                serde_json::to_vec(&d).unwrap(),
            ),
        )
        .await;
        assert_eq!(r.status, 201);
        submit(&app, &coordinator, &service, 2).await;
        let r = call(&app, page(&format!("/services/{service}"), Some(&session))).await;
        assert!(r.text.contains("Beskrivningen (version 2)"));
        assert!(r.text.contains("Jämfört med version 1: 1 uppgifter"), "{backend:?}");
        assert!(r.text.contains("<dt>Kort beskrivning <mark>Ändrad</mark></dt>"));
        assert!(r.text.contains("<dt>Tjänstens namn</dt>"), "unchanged fields are not marked");

        // Revoke on the web, with a reason.
        let decision_id = {
            let marker = "action=\"/decisions/";
            let at = r.text.find(marker).unwrap() + marker.len();
            r.text[at..].split('/').next().unwrap().to_string()
        };
        let csrf = hidden(&r.text, "csrf");
        let path = format!("/decisions/{decision_id}/revoke");
        let r = call(
            &app,
            form(
                &path,
                &[("__Host-tillit_session", &session)],
                &format!("csrf={csrf}&reason=Leverant%C3%B6ren+bytte+villkor"),
            ),
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.text);
        assert!(location(&r).contains("revoked=1"));
        let api = call(&app, get(&format!("/api/v1/services/{service}"), Some(&coordinator))).await;
        assert!(api.body["decisions"][0]["revoked_at"].is_string(), "{}", api.text);
    }
}

#[actix_web::test]
async fn a_federations_queue_filters_by_municipality_and_service() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
    app.token("itsam", "Isak", &[Role::Approver]);
    set_password(&app, "itsam", "Isak", "isak");
    for org in ["kinda", "boxholm"] {
        let admin = app.token(org, &format!("Admin {org}"), &[Role::Admin]);
        let body = json!({"org": org, "delegate": "itsam", "decision_reference": "KS 1", "valid_from": "2026-01-01",
            "valid_until": null, "scope": "all"});
        let r = call(&app, post_json("/api/v1/delegations", Some(&admin), body.to_string())).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    for name in ["Alfa Assistent", "Beta Översättare"] {
        let mut d = example("internal-assistant-pass");
        set_pointer(&mut d, "/service/name", json!(name));
        let r = call(&app, post_json("/api/v1/services", Some(&coordinator), serde_json::to_vec(&d).unwrap())).await;
        submit(&app, &coordinator, r.body["service_id"].as_str().unwrap(), 1).await;
    }
    let session = sign_in(&app, "itsam", "isak").await;
    let queue = |text: &str| {
        let at = text.find("queue-heading").unwrap();
        text[at..text[at..].find("</section>").map_or(text.len(), |e| at + e)].to_string()
    };
    let all = queue(&call(&app, page("/start", Some(&session))).await.text);
    assert!(all.contains("Alfa Assistent") && all.contains("Beta Översättare") && all.contains("Boxholms kommun"));
    assert!(
        all.contains("Begränsad risk, krav på transparens") && !all.contains("limited_transparency"),
        "risk class as a label"
    );
    let only_boxholm = queue(&call(&app, page("/start?queue_org=boxholm", Some(&session))).await.text);
    assert!(only_boxholm.contains("Boxholms kommun") && !only_boxholm.contains("<td>Kinda kommun"), "{only_boxholm}");
    let only_beta = queue(
        &call(&app, page(&format!("/start?queue_service={}", crate::web::enc("översätt")), Some(&session))).await.text,
    );
    assert!(only_beta.contains("Beta Översättare") && !only_beta.contains("Alfa Assistent"), "{only_beta}");
}

#[actix_web::test]
async fn a_rejection_ignores_the_prefilled_valid_until() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
    app.token("kinda", "Kalle", &[Role::Approver]);
    set_password(&app, "kinda", "Kalle", "kalle");
    let session = sign_in(&app, "kinda", "kalle").await;
    let r =
        call(&app, post_json("/api/v1/services", Some(&coordinator), example_bytes("internal-assistant-pass"))).await;
    let service = r.body["service_id"].as_str().unwrap().to_string();
    submit(&app, &coordinator, &service, 1).await;
    let r = call(&app, page(&format!("/services/{service}"), Some(&session))).await;
    let prefilled = {
        let marker = r#"id="valid_until" name="valid_until" type="date" value=""#;
        let at = r.text.find(marker).unwrap() + marker.len();
        r.text[at..at + 10].to_string()
    };
    assert!(chrono::NaiveDate::parse_from_str(&prefilled, "%Y-%m-%d").is_ok(), "{prefilled}");
    let fields = format!("org=kinda&revision=1&decision=rejected&reason=Beh%C3%B6vs+inte&valid_until={prefilled}");
    let r = decide_form(&app, &service, &session, &fields).await;
    assert_eq!(r.status, 303, "{}", r.text);
}

#[actix_web::test]
async fn the_start_page_shows_each_services_state_per_organisation() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
    let approver = app.token("kinda", "Kalle", &[Role::Approver]);
    set_password(&app, "kinda", "Karin", "karin");
    let r =
        call(&app, post_json("/api/v1/services", Some(&coordinator), example_bytes("internal-assistant-pass"))).await;
    let service = r.body["service_id"].as_str().unwrap().to_string();
    submit(&app, &coordinator, &service, 1).await;
    let karin = sign_in(&app, "kinda", "karin").await;
    let start = call(&app, page("/start", Some(&karin))).await;
    assert!(start.text.contains("inlämnad för granskning"), "no decision yet");
    let body = json!({"org": "kinda", "revision": 1, "decision": "rejected", "reason": "Behövs inte"});
    let r = call(&app, post_json(&format!("/api/v1/services/{service}/decisions"), Some(&approver), body.to_string()))
        .await;
    assert_eq!(r.status, 201);
    let start = call(&app, page("/start", Some(&karin))).await;
    assert!(start.text.contains("Avslagen i Kinda kommun"), "{}", start.text);
    assert!(start.text.contains("som skrivit och beslutat"), "the footer tells the truth to a signed-in person");
}
