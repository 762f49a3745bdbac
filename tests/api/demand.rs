//! What employees ask for: lookups that found nothing, or found a service not
//! assessed in the organisation, are counted per organisation, question and
//! day (no address, no person), and coordinators see the most asked and start
//! a description from a row.

use serde_json::json;
use tillit::auth::Role;

use crate::authz::submit;
use crate::common::*;
use crate::helpers::*;
use crate::web::{form as post, hidden, location, page, set_password, sign_in};

const SESSION: &str = "__Host-tillit_session";

async fn lookup(app: &TestApp, q: &str, org: &str) {
    let url = format!("/api/v1/lookup?q={}&org={org}", tillit::web::encode(q));
    let r = call(app, get(&url, None)).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[actix_web::test]
async fn unanswered_questions_are_counted_and_coordinators_see_the_most_asked() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
        let auditor = app.token("kinda", "Agnes", &[Role::Auditor]);
        let ydre = app.token("ydre", "Yvonne", &[Role::Coordinator]);
        // A service Kinda has described and submitted, but nobody has decided on.
        let mut doc = example("internal-assistant-pass");
        set_pointer(&mut doc, "/service/name", json!("Protokollskrivaren"));
        let r = call(&app, post_json("/api/v1/services", Some(&coordinator), doc.to_string())).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let service = r.body["service_id"].as_str().unwrap().to_string();
        submit(&app, &coordinator, &service, 1).await;

        // Three questions for a tool not in the register (written two ways),
        // one for the service not assessed, one about another municipality,
        // and one without an organisation (not counted: no one to tell).
        lookup(&app, "Bildgeneratorn Xyz", "kinda").await;
        lookup(&app, "  bildgeneratorn   XYZ ", "kinda").await;
        lookup(&app, "Bildgeneratorn Xyz", "kinda").await; // asked again: answered from the cache
        lookup(&app, "Protokollskrivaren", "kinda").await;
        lookup(&app, "Bildgeneratorn Xyz", "ydre").await;
        let r = call(&app, get("/api/v1/lookup?q=Ok%C3%A4nt%20verktyg", None)).await;
        assert_eq!(r.status, 200);

        let r = call(&app, get("/api/v1/demand?org=kinda", Some(&coordinator))).await;
        assert_eq!(r.status, 200, "{backend:?}: {}", r.text);
        assert_eq!(r.body["days"], 30);
        let questions = r.body["questions"].as_array().unwrap();
        assert_eq!(questions.len(), 2, "{backend:?}: {}", r.text);
        assert_eq!(questions[0]["query"], "bildgeneratorn xyz");
        assert_eq!(questions[0]["answer"], "not_found");
        assert_eq!(questions[0]["count"], 3);
        assert_eq!(questions[0]["last_asked"], tillit::swedish::today().to_string());
        assert_eq!(questions[1]["query"], "protokollskrivaren");
        assert_eq!(questions[1]["answer"], "not_assessed");
        assert_eq!(questions[1]["service_id"], service.as_str());
        assert_eq!(questions[1]["service_name"], "Protokollskrivaren");
        assert_eq!(questions[1]["count"], 1);
        // No address and no person is stored: only these columns exist.
        let stored = r.text.to_lowercase();
        assert!(!stored.contains("127.0.0.1") && !stored.contains("karin"), "{}", r.text);

        // Each organisation sees its own; others are refused.
        let r = call(&app, get("/api/v1/demand?org=ydre", Some(&ydre))).await;
        assert_eq!(r.body["questions"].as_array().unwrap().len(), 1, "{}", r.text);
        let r = call(&app, get("/api/v1/demand?org=ydre", Some(&coordinator))).await;
        assert_envelope(&r, 403, "forbidden");
        let r = call(&app, get("/api/v1/demand?org=kinda", Some(&auditor))).await;
        assert_envelope(&r, 403, "forbidden");
        let r = call(&app, get("/api/v1/demand?org=kinda", None)).await;
        assert_eq!(r.status, 401);
        let r = call(&app, get("/api/v1/demand?org=nowhere", Some(&coordinator))).await;
        assert_envelope(&r, 404, "unknown_organisation");
        let r = call(&app, get("/api/v1/demand?days=30", Some(&coordinator))).await;
        assert_eq!(r.status, 400, "the organisation is required: {}", r.text);

        // Counts from several writes add up in the same row.
        lookup(&app, "Bildgeneratorn Xyz", "kinda").await;
        let r = call(&app, get("/api/v1/demand?org=kinda&days=1", Some(&coordinator))).await;
        assert_eq!(r.body["questions"][0]["count"], 4, "{}", r.text);
    }
}

#[actix_web::test]
async fn a_coordinator_starts_a_description_from_the_most_asked_list() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    app.token("kinda", "Karin", &[Role::Coordinator]);
    set_password(&app, "kinda", "Karin", "karin");
    let karin = sign_in(&app, "kinda", "karin").await;
    lookup(&app, "Mötesanteckaren Pro", "kinda").await;

    let r = call(&app, page("/start", Some(&karin))).await;
    assert!(r.text.contains("href=\"/demand?lang=sv\""), "the start page links the list");
    let r = call(&app, page("/demand", Some(&karin))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Mest efterfrågade verktyg som inte är bedömda"));
    assert!(r.text.contains("mötesanteckaren pro"));
    assert!(r.text.contains("Finns inte i registret"));
    assert!(r.text.contains("Börja beskriva tjänsten"));
    assert!(!r.text.contains("not_found"), "no codes shown to a person");

    // The row's button starts a draft with the name filled in.
    let csrf = hidden(&r.text, "csrf");
    let body = format!("csrf={csrf}&name={}", tillit::web::encode("mötesanteckaren pro"));
    let r = call(&app, post("/drafts", &[(SESSION, &karin)], &body)).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let draft = location(&r).split('?').next().unwrap().to_string();
    let r = call(&app, page(&draft, Some(&karin))).await;
    assert!(r.text.contains("value=\"mötesanteckaren pro\""), "{}", r.text);

    // In English, and with nothing asked: a plain sentence.
    let other = TestApp::new(tillit::db::Backend::Sqlite);
    other.token("ydre", "Yngve", &[Role::Approver]);
    set_password(&other, "ydre", "Yngve", "yngve");
    let yngve = sign_in(&other, "ydre", "yngve").await;
    let r = call(&other, page("/demand?lang=en", Some(&yngve))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("No questions without a yes in the last 30 days."), "{}", r.text);
}
