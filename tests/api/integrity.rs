//! An approval covers exactly the revision approved: a newer revision's
//! name, aliases and domains inherit nothing until the organisation decides
//! on it (docs/security.md, finding 1).

use serde_json::{Value, json};
use tillit::auth::Role;

use crate::authz::submit;
use crate::common::*;
use crate::helpers::*;

fn doc(name: &str, aliases: &[&str], domains: &[&str], short: &str) -> Vec<u8> {
    let mut d = example("internal-assistant-pass");
    set_pointer(&mut d, "/service/name", json!(name));
    set_pointer(&mut d, "/service/aliases", json!(aliases));
    set_pointer(&mut d, "/service/domains", json!(domains));
    set_pointer(&mut d, "/service/short_description", json!(short));
    set_pointer(&mut d, "/transparency/public_register_publication", json!("published"));
    serde_json::to_vec(&d).unwrap()
}

const COPILOT: &str = "Microsoft 365 Copilot Chat";

struct World {
    app: TestApp,
    coordinator: String,
    approver: String,
    service: String,
}

impl World {
    /// A service approved in Kinda at revision 1, and revision 2 submitted.
    async fn new(backend: tillit::db::Backend, second: Vec<u8>) -> World {
        let app = TestApp::new(backend);
        let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
        let approver = app.token("kinda", "Kalle", &[Role::Approver]);
        let first = doc(COPILOT, &["Copilot"], &["copilot.microsoft.com"], "Chatt med stöd av AI i Microsoft 365.");
        let r = call(&app, post_json("/api/v1/services", Some(&coordinator), first)).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let service = r.body["service_id"].as_str().unwrap().to_string();
        submit(&app, &coordinator, &service, 1).await;
        let w = World { app, coordinator, approver, service };
        w.decide(1).await;
        let r =
            call(&w.app, post_json(&format!("/api/v1/services/{}/revisions", w.service), Some(&w.coordinator), second))
                .await;
        assert_eq!(r.status, 201, "{}", r.text);
        submit(&w.app, &w.coordinator, &w.service, 2).await;
        w
    }

    async fn decide(&self, revision: i32) {
        let body = json!({"org": "kinda", "revision": revision, "decision": "approved", "reason": "Granskad",
            "decision_reference": format!("KS 2026/{revision}")});
        let r = call(
            &self.app,
            post_json(&format!("/api/v1/services/{}/decisions", self.service), Some(&self.approver), body.to_string()),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }

    async fn lookup(&self, q: &str, org: Option<&str>) -> Value {
        let mut url = format!("/api/v1/lookup?q={}", tillit::web::encode(q));
        if let Some(org) = org {
            url.push_str(&format!("&org={org}"));
        }
        let r = call(&self.app, get(&url, None)).await;
        assert_eq!(r.status, 200, "{q}: {}", r.text);
        r.body
    }

    /// The same question asked of an index built afresh from the database
    /// (as at a start), so that both the incremental and the full load are checked.
    fn fresh_lookup(&self, q: &str, org: &str) -> Value {
        let mut conn = self.app.state.db.get().unwrap();
        let index = tillit::lookup::SearchIndex::build(&mut conn, None).unwrap();
        let answer = tillit::lookup::service::lookup(&index, q, Some(org), false, 10).unwrap();
        serde_json::to_value(answer).unwrap()
    }

    async fn register(&self, org: &str) -> Value {
        let r = call(&self.app, get(&format!("/register/{org}.json"), None)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }
}

/// The matches of this service, as (name, status).
fn ours(body: &Value, service: &str) -> Vec<(String, String)> {
    body["matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["service"]["id"] == service)
        .map(|m| (m["service"]["name"].as_str().unwrap().to_string(), m["status"].as_str().unwrap_or("").to_string()))
        .collect()
}

#[actix_web::test]
async fn a_renamed_revision_inherits_no_approval() {
    for backend in backends() {
        let second = doc("DeepSeek Chat", &["DeepSeek"], &["chat.deepseek.com"], "Kinesisk chattjänst.");
        let w = World::new(backend, second).await;
        for q in ["deepseek", "DeepSeek Chat", "https://chat.deepseek.com/a/chat"] {
            for body in [w.lookup(q, Some("kinda")).await, w.fresh_lookup(q, "kinda")] {
                let found = ours(&body, &w.service);
                assert_eq!(found, [("DeepSeek Chat".to_string(), "under_review".to_string())], "{backend:?} {q}");
                let m = &body["matches"][0];
                assert_eq!(m["decided_status"], "allowed", "the decided revision's status beside it");
                assert!(m["answer_sv"].as_str().unwrap().contains("granskas"), "{}", m["answer_sv"]);
            }
        }
        // Without an organisation, no status of the new name says allowed.
        let all = w.lookup("deepseek", None).await;
        for m in all["matches"].as_array().unwrap() {
            for s in m["statuses"].as_array().unwrap() {
                assert_ne!(s["status"], "allowed", "{backend:?}: {s}");
            }
        }
        // The old name still finds what Kinda approved.
        for q in ["Copilot", COPILOT, "copilot.microsoft.com"] {
            for body in [w.lookup(q, Some("kinda")).await, w.fresh_lookup(q, "kinda")] {
                assert_eq!(ours(&body, &w.service), [(COPILOT.to_string(), "allowed".to_string())], "{backend:?} {q}");
            }
        }
        // Elsewhere the old name is nothing: only Kinda decided on it.
        let boxholm = w.lookup("Copilot", Some("boxholm")).await;
        assert!(ours(&boxholm, &w.service).iter().all(|(name, _)| name != COPILOT), "{boxholm}");
        assert_eq!(ours(&w.lookup("deepseek", Some("boxholm")).await, &w.service)[0].1, "not_assessed");

        // The register shows the revision decided on, with its reference.
        let register = w.register("kinda").await;
        let entries = register["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "{register}");
        assert_eq!(entries[0]["name"], COPILOT);
        assert_eq!(entries[0]["short_description"], "Chatt med stöd av AI i Microsoft 365.");
        assert_eq!(entries[0]["decision_reference"], "KS 2026/1");
        let page = call(&w.app, get("/register/kinda", None)).await.text;
        assert!(page.contains(COPILOT) && !page.contains("DeepSeek"), "{backend:?}");

        // Once Kinda decides on revision 2, the new name answers and the old one is gone.
        w.decide(2).await;
        assert_eq!(
            ours(&w.lookup("deepseek", Some("kinda")).await, &w.service),
            [("DeepSeek Chat".to_string(), "allowed".to_string())]
        );
        assert!(ours(&w.lookup("copilot.microsoft.com", Some("kinda")).await, &w.service).is_empty());
        let register = w.register("kinda").await;
        assert_eq!(register["entries"][0]["name"], "DeepSeek Chat");
        assert_eq!(register["entries"][0]["decision_reference"], "KS 2026/2");
    }
}

#[actix_web::test]
async fn a_revision_that_changes_nothing_keeps_the_approved_answer_once() {
    for backend in backends() {
        let same = doc(COPILOT, &["Copilot"], &["copilot.microsoft.com"], "Chatt med stöd av AI i Microsoft 365.");
        let w = World::new(backend, same).await;
        for body in [w.lookup("Copilot", Some("kinda")).await, w.fresh_lookup("Copilot", "kinda")] {
            assert_eq!(ours(&body, &w.service), [(COPILOT.to_string(), "allowed".to_string())], "{backend:?}");
        }
        let all = w.lookup(COPILOT, None).await;
        assert_eq!(all["matches"].as_array().unwrap().len(), 1, "one answer per service: {all}");
        let register = w.register("kinda").await;
        assert_eq!(register["entries"].as_array().unwrap().len(), 1);
        assert_eq!(register["entries"][0]["decision_reference"], "KS 2026/1");
    }
}

#[actix_web::test]
async fn a_new_description_is_not_published_until_decided() {
    for backend in backends() {
        let second = doc(COPILOT, &["Copilot"], &["copilot.microsoft.com"], "Ny text som ingen har granskat.");
        let w = World::new(backend, second).await;
        assert_eq!(ours(&w.lookup("Copilot", Some("kinda")).await, &w.service)[0].1, "allowed", "{backend:?}");
        let register = w.register("kinda").await;
        assert_eq!(register["entries"][0]["short_description"], "Chatt med stöd av AI i Microsoft 365.");
        let page = call(&w.app, get("/register/kinda", None)).await.text;
        assert!(!page.contains("Ny text som ingen har granskat"), "{backend:?}");
        w.decide(2).await;
        let register = w.register("kinda").await;
        assert_eq!(register["entries"][0]["short_description"], "Ny text som ingen har granskat.");
    }
}

#[actix_web::test]
async fn the_queue_shows_what_changed_since_the_decided_revision() {
    use crate::web::{page, set_password, sign_in};
    for backend in backends() {
        let second =
            doc("DeepSeek Chat", &["DeepSeek"], &["chat.deepseek.com"], "Chatt med stöd av AI i Microsoft 365.");
        let w = World::new(backend, second).await;
        set_password(&w.app, "kinda", "Kalle", "kalle");
        let session = sign_in(&w.app, "kinda", "kalle").await;
        let start = call(&w.app, page("/start", Some(&session))).await;
        assert_eq!(start.status, 200);
        let queue = &start.text[start.text.find("queue-heading").unwrap()..];
        assert!(queue.contains("DeepSeek Chat"), "{backend:?}");
        assert!(queue.contains("Ändrat sedan version 1 som ni beslutade om"), "{queue}");
        for label in ["<mark>Tjänstens namn</mark>", "<mark>Andra namn", "<mark>Webbadresser (domäner)"] {
            assert!(queue.contains(label), "{label} in {queue}");
        }
        assert!(!queue.contains("<mark>Kort beskrivning</mark>"), "unchanged fields are not marked");
    }
}
