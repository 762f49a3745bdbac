//! The employee's answer on the lookup page: a typo asks "Menade du …?",
//! other names are "Kallas också", conditions appear once as a list, and a
//! tool not in the registry says whom to ask.

use serde_json::json;
use tillit::auth::Role;

use crate::authz::submit;
use crate::common::*;
use crate::helpers::*;
use crate::web::{enc, page};

#[actix_web::test]
async fn the_employee_gets_an_answer_to_act_on() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
    let approver = app.token("kinda", "Kalle", &[Role::Approver]);
    let mut d = example("internal-assistant-pass");
    set_pointer(&mut d, "/service/name", json!("Microsoft 365 Copilot Chat"));
    set_pointer(&mut d, "/service/aliases", json!(["Copilot"]));
    let r = call(&app, post_json("/api/v1/services", Some(&coordinator), serde_json::to_vec(&d).unwrap())).await;
    let service = r.body["service_id"].as_str().unwrap().to_string();
    submit(&app, &coordinator, &service, 1).await;
    let body = json!({"org": "kinda", "revision": 1, "decision": "approved_with_conditions", "reason": "ok",
        "conditions": [{"type": "no_personal_data", "value": true}, {"type": "other", "value": "Bara efter utbildning"}]});
    let r = call(&app, post_json(&format!("/api/v1/services/{service}/decisions"), Some(&approver), body.to_string()))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    let r = call(&app, page(&format!("/?q={}&org=kinda", enc("Microsfot 365 Copilot Chat")), None)).await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("Menade du <strong>Microsoft 365 Copilot Chat</strong>?"), "{}", r.text);
    assert!(r.text.contains("Kallas också: Copilot"));
    assert!(r.text.contains("med de här villkoren:"));
    let said = r.text.matches("Bara efter utbildning").count();
    assert_eq!(said, 1, "each condition once");

    let r = call(&app, page(&format!("/?q={}&org=kinda", enc("Helt okänt verktyg")), None)).await;
    assert!(r.text.contains("Fråga innan du använder det:"), "{}", r.text);
    assert!(r.text.contains("mailto:ai-funktionen@kinda.example.se"));
}

#[actix_web::test]
async fn a_no_says_why_and_names_approved_alternatives() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
        let approver = app.token("kinda", "Kalle", &[Role::Approver]);
        let mut ids = Vec::new();
        for name in ["Godkänd Skrivhjälp", "Avslagen Skrivhjälp"] {
            let mut d = example("internal-assistant-pass");
            set_pointer(&mut d, "/service/name", json!(name));
            set_pointer(&mut d, "/transparency/public_register_publication", json!("published"));
            let r =
                call(&app, post_json("/api/v1/services", Some(&coordinator), serde_json::to_vec(&d).unwrap())).await;
            let id = r.body["service_id"].as_str().unwrap().to_string();
            submit(&app, &coordinator, &id, 1).await;
            ids.push(id);
        }
        let decide = |id: &str, body: serde_json::Value| {
            post_json(&format!("/api/v1/services/{id}/decisions"), Some(&approver), body.to_string())
        };
        let r = call(&app, decide(&ids[0], json!({"org": "kinda", "revision": 1, "decision": "approved"}))).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let body = json!({"org": "kinda", "revision": 1, "decision": "rejected", "reason": "INTERN KOMMENTAR",
            "public_reason": "Tjänsten sparar det du skriver hos leverantören i ett år."});
        let r = call(&app, decide(&ids[1], body)).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let r = call(&app, page(&format!("/?q={}&org=kinda", enc("Avslagen Skrivhjälp")), None)).await;
        assert!(r.text.contains("Varför:</strong> Tjänsten sparar det du skriver"), "{backend:?}: {}", r.text);
        assert!(
            r.text.contains(&format!("href=\"/register/kinda/{}\">Godkänd Skrivhjälp</a>", ids[0])),
            "the alternative"
        );
        assert!(!r.text.contains("INTERN KOMMENTAR"), "the internal reason stays internal");
    }
}
