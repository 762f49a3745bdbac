//! The lookup: forgiving search, ranking, every status, freshness, the
//! public pages and what they may show.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use tillit::auth::Role;

use crate::authz::submit;
use crate::common::*;
use crate::helpers::*;

fn doc(name: &str, aliases: &[&str], domains: &[&str], publication: &str) -> Vec<u8> {
    let mut d = example("internal-assistant-pass");
    set_pointer(&mut d, "/service/name", json!(name));
    set_pointer(&mut d, "/service/aliases", json!(aliases));
    set_pointer(&mut d, "/service/domains", json!(domains));
    set_pointer(&mut d, "/transparency/public_register_publication", json!(publication));
    if publication == "withheld" {
        set_pointer(&mut d, "/transparency/withholding_reason", json!("Säkerhetsskäl"));
    }
    serde_json::to_vec(&d).unwrap()
}

struct World {
    app: TestApp,
    coordinator: String,
    approver: String,
}

impl World {
    fn new(backend: tillit::db::Backend) -> World {
        let app = TestApp::new(backend);
        let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
        let approver = app.token("kinda", "Kalle", &[Role::Approver]);
        World { app, coordinator, approver }
    }

    async fn service(&self, body: Vec<u8>, submitted: bool) -> String {
        let r = call(&self.app, post_json("/api/v1/services", Some(&self.coordinator), body)).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let id = r.body["service_id"].as_str().unwrap().to_string();
        if submitted {
            submit(&self.app, &self.coordinator, &id, 1).await;
        }
        id
    }

    async fn decide(&self, service: &str, body: Value) -> String {
        let r = call(
            &self.app,
            post_json(&format!("/api/v1/services/{service}/decisions"), Some(&self.approver), body.to_string()),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.body["decision_id"].as_str().unwrap().to_string()
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
}

fn names(body: &Value) -> Vec<String> {
    body["matches"].as_array().unwrap().iter().map(|m| m["service"]["name"].as_str().unwrap().to_string()).collect()
}

#[actix_web::test]
async fn search_forgives_case_diacritics_spacing_urls_and_typos() {
    let w = World::new(tillit::db::Backend::Sqlite);
    w.service(doc("ChatGPT", &["Chat GPT", "OpenAI ChatGPT"], &["chatgpt.com", "chat.openai.com"], "published"), true)
        .await;
    w.service(doc("Microsoft 365 Copilot Chat", &["Copilot"], &["copilot.microsoft.com"], "published"), true).await;
    w.service(doc("Översättaren Åsa", &[], &[], "published"), true).await;

    for q in ["chatgpt", "ChatGPT", "chat gpt", "chat-gpt", "CHAT.GPT"] {
        let body = w.lookup(q, Some("kinda")).await;
        assert_eq!(names(&body)[0], "ChatGPT", "{q}");
        assert_eq!(body["matches"][0]["match"], "exact", "{q}");
    }
    let body = w.lookup("OpenAI ChatGPT", Some("kinda")).await;
    assert_eq!(body["matches"][0]["matched_on"], "alias");
    let body = w.lookup("https://chat.openai.com/c/123?x=1", Some("kinda")).await;
    assert_eq!(names(&body), vec!["ChatGPT"]);
    assert_eq!(body["matches"][0]["matched_on"], "domain");
    let body = w.lookup("https://eu.copilot.microsoft.com/", Some("kinda")).await;
    assert_eq!(names(&body)[0], "Microsoft 365 Copilot Chat", "a parent domain owns the host");
    let body = w.lookup("oversattaren asa", Some("kinda")).await;
    assert_eq!(names(&body), vec!["Översättaren Åsa"]);
    let body = w.lookup("copilot", Some("kinda")).await;
    assert_eq!(names(&body)[0], "Microsoft 365 Copilot Chat");
    // Typos: one edit for short words, two for longer ones.
    for (q, want) in [
        ("copliot", "Microsoft 365 Copilot Chat"),
        ("chatgtp", "ChatGPT"),
        ("chtgpt", "ChatGPT"),
        ("oversatarenasa", "Översättaren Åsa"),
        // The search keeps the first two letters first; typos there are still found.
        ("cgatgpt", "ChatGPT"),
        ("hcatgpt", "ChatGPT"),
        ("xchatgpt", "ChatGPT"),
    ] {
        let body = w.lookup(q, Some("kinda")).await;
        assert_eq!(names(&body).first().map(String::as_str), Some(want), "{q}: {body}");
        assert_eq!(body["matches"][0]["match"], "fuzzy", "{q}");
    }
    let body = w.lookup("zzzzqqqq", Some("kinda")).await;
    assert_eq!(body["matches"], json!([]));
}

#[actix_web::test]
async fn ranking_puts_exact_then_prefix_then_fuzzy_then_status() {
    let w = World::new(tillit::db::Backend::Sqlite);
    w.service(doc("Kalkylar", &[], &[], "published"), true).await;
    w.service(doc("Kalkylatorn", &[], &[], "published"), true).await;
    w.service(doc("Kalkyl", &[], &[], "published"), true).await;
    let body = w.lookup("kalkyl", Some("kinda")).await;
    assert_eq!(names(&body), vec!["Kalkyl", "Kalkylar", "Kalkylatorn"]);
    // A trailing or doubled slash is the same address, with its query.
    for path in ["/api/v1/lookup/?q=kalkyl&org=kinda", "//api/v1//lookup?q=kalkyl&org=kinda"] {
        let r = call(&w.app, get(path, None)).await;
        assert_eq!((r.status.as_u16(), &r.body), (200, &body), "{path}");
    }
    let kinds: Vec<&str> = body["matches"].as_array().unwrap().iter().map(|m| m["match"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["exact", "prefix", "prefix"], "with an exact match, typo matches are not needed");
    // Without an exact match: prefix matches before matches within a few edits.
    let body = w.lookup("kalkylat", Some("kinda")).await;
    assert_eq!(names(&body), vec!["Kalkylatorn", "Kalkylar"], "one edit first; two only when one finds nothing");
    let kinds: Vec<&str> = body["matches"].as_array().unwrap().iter().map(|m| m["match"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["prefix", "fuzzy"]);
    let body = w.lookup("kalkylarxy", Some("kinda")).await;
    assert_eq!(names(&body), vec!["Kalkylar"], "two edits for a long word");

    // Same kind of match: the allowed one first.
    let a = w.service(doc("Verktyg Alfa", &[], &[], "published"), true).await;
    let b = w.service(doc("Verktyg Beta", &[], &[], "published"), true).await;
    let _ = a;
    let before = w.lookup("verktyg", Some("kinda")).await;
    assert_eq!(names(&before), vec!["Verktyg Alfa", "Verktyg Beta"], "alphabetical when equal");
    w.decide(&b, json!({"org": "kinda", "revision": 1, "decision": "approved"})).await;
    let after = w.lookup("verktyg", Some("kinda")).await;
    assert_eq!(names(&after), vec!["Verktyg Beta", "Verktyg Alfa"], "a new decision shows in the next lookup");
}

#[actix_web::test]
async fn every_status_on_every_backend() {
    for backend in backends() {
        let w = World::new(backend);
        let approved = w.service(doc("Godkänd tjänst", &[], &[], "published"), true).await;
        let conditions = w.service(doc("Villkorad tjänst", &[], &[], "published"), true).await;
        let rejected = w.service(doc("Avslagen tjänst", &[], &[], "published"), true).await;
        let revoked = w.service(doc("Återkallad tjänst", &[], &[], "published"), true).await;
        let expiring = w.service(doc("Utgående tjänst", &[], &[], "published"), true).await;
        w.service(doc("Obedömd tjänst", &[], &[], "published"), true).await;

        w.decide(&approved, json!({"org": "kinda", "revision": 1, "decision": "approved"})).await;
        w.decide(
            &conditions,
            json!({"org": "kinda", "revision": 1, "decision": "approved_with_conditions",
            "conditions": [{"type": "information_class_max", "value": "internal"}, {"type": "no_personal_data"}]}),
        )
        .await;
        w.decide(&rejected, json!({"org": "kinda", "revision": 1, "decision": "rejected", "reason": "Nej"})).await;
        let d = w.decide(&revoked, json!({"org": "kinda", "revision": 1, "decision": "approved"})).await;
        let r = call(
            &w.app,
            post_json(&format!("/api/v1/decisions/{d}/revoke"), Some(&w.approver), "{\"reason\": \"Brister\"}"),
        )
        .await;
        assert_eq!(r.status, 200);
        let today = tillit::swedish::today();
        w.decide(&expiring, json!({"org": "kinda", "revision": 1, "decision": "approved", "valid_until": today.format("%Y-%m-%d").to_string()})).await;

        let status = |body: &Value| body["matches"][0]["status"].as_str().unwrap().to_string();
        assert_eq!(status(&w.lookup("Godkänd tjänst", Some("kinda")).await), "allowed");
        let c = w.lookup("Villkorad tjänst", Some("kinda")).await;
        assert_eq!(status(&c), "allowed_with_conditions");
        assert_eq!(
            c["matches"][0]["answer_sv"],
            "Ja, men bara för allmänna och interna uppgifter och utan personuppgifter."
        );
        assert_eq!(c["matches"][0]["conditions"][0]["type"], "information_class_max");
        assert_eq!(c["matches"][0]["decided_by_function"], "Kinda kommuns AI-funktion");
        assert_eq!(c["matches"][0]["via_delegation"], false);
        assert_eq!(c["matches"][0]["decided_on"], today.format("%Y-%m-%d").to_string());
        assert!(c["matches"][0]["valid_until"].is_string());
        assert_eq!(status(&w.lookup("Avslagen tjänst", Some("kinda")).await), "not_allowed");
        assert_eq!(status(&w.lookup("Återkallad tjänst", Some("kinda")).await), "not_allowed");
        assert_eq!(status(&w.lookup("Utgående tjänst", Some("kinda")).await), "allowed", "valid through its last day");
        let tomorrow = today + chrono::Duration::days(1);
        let later = tillit::lookup::service::lookup_on(
            &w.app.state.lookup,
            "Utgående tjänst",
            Some("kinda"),
            false,
            10,
            tomorrow,
        )
        .unwrap();
        assert_eq!(later.matches[0].status.as_ref().unwrap().status, tillit::lookup::index::Status::Expired);
        assert_eq!(status(&w.lookup("Obedömd tjänst", Some("kinda")).await), "not_assessed");
        assert_eq!(status(&w.lookup("Godkänd tjänst", Some("boxholm")).await), "not_assessed", "per municipality");

        // Without an organisation: the status in every organisation.
        let all = w.lookup("Godkänd tjänst", None).await;
        let statuses = all["matches"][0]["statuses"].as_array().unwrap();
        assert_eq!(statuses.len(), 8);
        assert_eq!(statuses.iter().find(|s| s["org"] == "kinda").unwrap()["status"], "allowed");
        assert!(all["matches"][0].get("status").is_none());
    }
}

#[actix_web::test]
async fn drafts_withheld_and_internal_services_stay_out_of_public_answers() {
    let w = World::new(tillit::db::Backend::Sqlite);
    w.service(doc("Hemlig draft", &[], &[], "published"), false).await;
    w.service(doc("Undanhållen tjänst", &[], &[], "withheld"), true).await;
    let internal = w.service(doc("Intern tjänst", &[], &[], "internal_only"), true).await;
    w.decide(&internal, json!({"org": "kinda", "revision": 1, "decision": "approved"})).await;
    assert_eq!(w.lookup("Hemlig draft", Some("kinda")).await["matches"], json!([]));
    assert_eq!(w.lookup("Undanhållen tjänst", Some("kinda")).await["matches"], json!([]));
    assert_eq!(w.lookup("Intern tjänst", Some("kinda")).await["matches"], json!([]));
    let r = call(&w.app, get("/api/v1/lookup?q=Intern+tj%C3%A4nst&org=kinda", Some(&w.coordinator))).await;
    assert_eq!(names(&r.body), vec!["Intern tjänst"], "signed-in callers see internal services");
    let page = call(&w.app, get("/?q=Intern+tj%C3%A4nst&org=kinda", None)).await;
    assert!(!page.text.contains("Intern tjänst</h3>"));
    let register = call(&w.app, get("/register/kinda.json", None)).await;
    assert_eq!(register.body["entries"], json!([]));
}

#[actix_web::test]
async fn bad_lookups_get_clear_answers() {
    let w = World::new(tillit::db::Backend::Sqlite);
    let r = call(&w.app, get("/api/v1/lookup?q=copilot&org=stockholm", None)).await;
    assert_envelope(&r, 404, "unknown_organisation");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("stockholm"));
    let r = call(&w.app, get("/api/v1/lookup", None)).await;
    assert_envelope(&r, 422, "query_required");
    let r = call(&w.app, get(&format!("/api/v1/lookup?q={}", "a".repeat(300)), None)).await;
    assert_envelope(&r, 422, "invalid_query");
    let r = call(&w.app, get("/api/v1/lookup?q=a%00b", None)).await;
    assert_envelope(&r, 422, "invalid_query");
    let r = call(&w.app, get("/api/v1/lookup?q=x&limit=abc", None)).await;
    assert_envelope(&r, 400, "bad_request");
}

const LOOKUP_FIELDS: &[&str] = &[
    "service",
    "matched_on",
    "match",
    "org",
    "org_name",
    "status",
    "conditions",
    "decided_by_function",
    "via_delegation",
    "decided_on",
    "valid_until",
    "needs_re_review",
    "decided_status",
    "answer_sv",
    "answer_en",
    "statuses",
];
const REGISTER_FIELDS: &[&str] = &[
    "service_id",
    "name",
    "vendor",
    "short_description",
    "intended_use",
    "status",
    "conditions_sv",
    "conditions_en",
    "deciding_function",
    "via_delegation",
    "decided_on",
    "valid_until",
    "decision_reference",
    "risk_class",
    "phase",
];
/// The CSV's columns: the public fields, with Swedish labels beside the codes.
const CSV_COLUMNS: &[&str] = &[
    "service_id",
    "name",
    "vendor",
    "short_description",
    "intended_use",
    "status",
    "status_sv",
    "risk_class",
    "risk_class_sv",
    "phase",
    "phase_sv",
    "conditions_sv",
    "conditions_en",
    "deciding_function",
    "via_delegation",
    "decided_on",
    "valid_until",
    "decision_reference",
];

#[actix_web::test]
async fn public_output_holds_only_allowlisted_fields_and_no_person() {
    let w = World::new(tillit::db::Backend::Sqlite);
    let box_admin = w.app.token("boxholm", "Bodil Berg", &[Role::Admin]);
    let itsam = w.app.token("itsam", "Isak Ek", &[Role::Approver]);
    let r = call(
        &w.app,
        post_json(
            "/api/v1/delegations",
            Some(&box_admin),
            json!({"org": "boxholm", "delegate": "itsam",
        "decision_reference": "KS 1", "valid_from": "2026-01-01", "valid_until": null, "scope": "all"})
            .to_string(),
        ),
    )
    .await;
    assert_eq!(r.status, 201);
    let s = w.service(doc("Publik tjänst", &["Publiken"], &["publik.example.se"], "published"), true).await;
    w.decide(
        &s,
        json!({"org": "kinda", "revision": 1, "decision": "approved_with_conditions", "reason": "INTERN KOMMENTAR",
        "decision_reference": "KS 2026/5", "conditions": [{"type": "other", "value": "Bara efter utbildning"}]}),
    )
    .await;
    let r = call(
        &w.app,
        post_json(
            &format!("/api/v1/services/{s}/decisions"),
            Some(&itsam),
            json!({"org": "boxholm", "revision": 1, "decision": "approved", "reason": "ANNAN KOMMENTAR"}).to_string(),
        ),
    )
    .await;
    assert_eq!(r.status, 201);

    let body = w.lookup("Publik tjänst", None).await;
    let body_org = w.lookup("Publik tjänst", Some("kinda")).await;
    for m in body["matches"].as_array().unwrap().iter().chain(body_org["matches"].as_array().unwrap()) {
        for key in m.as_object().unwrap().keys() {
            assert!(LOOKUP_FIELDS.contains(&key.as_str()), "lookup leaks {key}");
        }
        let service: BTreeSet<&str> = m["service"].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(service, BTreeSet::from(["id", "name", "vendor", "aliases"]));
    }
    let register = call(&w.app, get("/register/kinda.json", None)).await;
    assert_eq!(register.status, 200);
    let entries = register.body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    let keys: BTreeSet<&str> = entries[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, REGISTER_FIELDS.iter().copied().collect(), "the register publishes exactly the allowlist");
    assert_eq!(entries[0]["decision_reference"], "KS 2026/5");
    let boxholm = call(&w.app, get("/register/boxholm.json", None)).await;
    assert_eq!(boxholm.body["entries"][0]["via_delegation"], true);
    assert_eq!(boxholm.body["entries"][0]["deciding_function"], "Itsams AI-funktion");
    let csv = call(&w.app, get("/register/kinda.csv", None)).await;
    assert_eq!(csv.headers.get("content-type").unwrap(), "text/csv; charset=utf-8");
    assert_eq!(csv.text.lines().next().unwrap(), CSV_COLUMNS.join(","));
    assert!(csv.text.contains(",allowed_with_conditions,Godkänd med villkor,"), "Swedish labels beside the codes");
    assert_eq!(csv.text.lines().count(), 2);

    // No person, no internal comment, on any public output.
    // The national register, the service's public pages and the Excel file.
    let national = call(&w.app, get("/register?q=publik", None)).await;
    assert!(national.text.contains("Publik tjänst") && national.text.contains(&format!("/register/kinda/{s}")));
    let public_kinda = call(&w.app, get(&format!("/register/kinda/{s}"), None)).await;
    assert_eq!(public_kinda.status, 200);
    assert!(public_kinda.text.contains("Sammanfattning") && public_kinda.text.contains("KS 2026/5"));
    let public_boxholm = call(&w.app, get(&format!("/register/boxholm/{s}?lang=en"), None)).await;
    assert_eq!(public_boxholm.status, 200);
    assert_eq!(call(&w.app, get(&format!("/register/ydre/{s}"), None)).await.status, 404, "not in Ydre's register");
    let excel = call(&w.app, get("/register/kinda.xlsx", None)).await;
    assert_eq!(excel.status, 200);
    let excel_text: String = xlsx_rows(&excel.bytes).concat().join("\n");
    let pages = [
        national.text,
        public_kinda.text,
        public_boxholm.text,
        excel_text,
        call(&w.app, get("/?q=Publik+tj%C3%A4nst", None)).await.text,
        call(&w.app, get("/?q=Publik+tj%C3%A4nst&org=kinda&lang=en", None)).await.text,
        call(&w.app, get("/register/kinda", None)).await.text,
        call(&w.app, get("/register/boxholm?lang=en", None)).await.text,
        register.text,
        csv.text,
        body.to_string(),
        body_org.to_string(),
    ];
    for text in pages {
        for secret in [
            "Karin",
            "Kalle",
            "Bodil",
            "Isak",
            "INTERN KOMMENTAR",
            "ANNAN KOMMENTAR",
            "decided_by\"",
            "submitted_by",
            "created_by",
        ] {
            assert!(!text.contains(secret), "public output shows {secret}");
        }
    }
}

#[actix_web::test]
async fn pages_work_without_javascript_in_both_languages() {
    let w = World::new(tillit::db::Backend::Sqlite);
    let s = w.service(doc("Copilot Chat", &["Copilot"], &[], "published"), true).await;
    w.decide(
        &s,
        json!({"org": "kinda", "revision": 1, "decision": "approved_with_conditions",
        "conditions": [{"type": "information_class_max", "value": "internal"}, {"type": "no_personal_data"}]}),
    )
    .await;
    let r = call(&w.app, get("/?q=copilot&org=kinda", None)).await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("<html lang=\"sv\">"));
    // The conditions appear once, as a list under a short answer.
    assert!(r.text.contains("Ja, Copilot Chat får användas i Kinda kommun med de här villkoren:"), "{}", r.text);
    assert!(r.text.contains("<li>bara för allmänna och interna uppgifter</li>"), "{}", r.text);
    assert_eq!(r.text.matches("utan personuppgifter").count(), 1);
    assert!(!r.text.contains("<script"), "no script needed");
    let cookie = r.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with("tillit_org=kinda"), "the municipality is remembered");
    // The remembered municipality is used on the next visit.
    let again =
        call(&w.app, get("/?q=copilot", None).cookie(actix_web::cookie::Cookie::new("tillit_org", "kinda"))).await;
    assert!(again.text.contains("<option value=\"kinda\" selected>"));
    let en = call(&w.app, get("/?q=copilot&org=kinda&lang=en", None)).await;
    assert!(en.text.contains("<html lang=\"en\">"));
    assert!(en.text.contains("Yes, Copilot Chat may be used in Kinda kommun on these conditions:"));
    assert!(en.text.contains("<li>without personal data</li>"), "{}", en.text);
    // Markup in a name is shown as text, never run.
    let x = w.service(doc("<script>alert(1)</script>", &[], &[], "published"), true).await;
    let _ = x;
    let r = call(&w.app, get("/?q=script+alert", None)).await;
    assert!(r.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!r.text.contains("<script>alert"));
    let r = call(&w.app, get("/register/nowhere", None)).await;
    assert_eq!(r.status, 404);
    assert!(r.text.contains("<h1>Något gick fel</h1>"));
}

#[actix_web::test]
async fn a_second_node_sees_changes_through_the_chain_head() {
    // Two application states on one database: what the poller on each node does.
    for backend in backends() {
        let w = World::new(backend);
        let database = tillit::db::Database::open(&w.app.db.url, 2).unwrap();
        let policies = tillit::policy::load(None).unwrap();
        let node_b =
            tillit::AppState::new(database, policies, tillit::Settings::for_database(w.app.db.url.clone())).unwrap();
        let s = w.service(doc("Delad tjänst", &[], &[], "published"), true).await;
        w.decide(&s, json!({"org": "kinda", "revision": 1, "decision": "approved"})).await;
        let on_b = |node: &tillit::AppState| {
            tillit::lookup::service::lookup(&node.lookup, "Delad tjänst", Some("kinda"), false, 10).unwrap()
        };
        assert!(on_b(&node_b).matches.is_empty(), "node B has not polled yet");
        let started = std::time::Instant::now();
        let mut conn = node_b.db.get().unwrap();
        node_b.refresh_lookup(&mut conn);
        let found = on_b(&node_b);
        assert_eq!(found.matches.len(), 1, "{backend:?}");
        assert_eq!(found.matches[0].status.as_ref().unwrap().status, tillit::lookup::index::Status::Allowed);
        assert!(started.elapsed().as_secs() < 2);
        // Node A saw it at once: the write path refreshes its own index.
        assert_eq!(on_b(&w.app.state).matches.len(), 1);
    }
}

#[actix_web::test]
async fn a_repeated_question_gets_the_kept_answer_until_something_changes() {
    for backend in backends() {
        let w = World::new(backend);
        let s = w.service(doc("Återfrågad tjänst", &[], &[], "published"), true).await;
        let url = "/api/v1/lookup?q=%C3%85terfr%C3%A5gad+tj%C3%A4nst&org=kinda";
        let first = call(&w.app, get(url, None)).await;
        assert_eq!(first.body["matches"][0]["status"], "not_assessed");
        let (budget, kept, bytes) = w.app.state.lookup.answer_cache_usage();
        assert!(budget > 0, "answers are kept by default");
        assert_eq!(kept, 1, "{backend:?}");
        assert!(bytes as usize > first.text.len());
        let again = call(&w.app, get(url, None)).await;
        assert_eq!(again.text, first.text);
        assert_eq!(w.app.state.lookup.answer_cache_usage().1, 1, "the same question is kept once");

        // A decision changes the answer at once; so does another node's, once polled.
        let decision = w.decide(&s, json!({"org": "kinda", "revision": 1, "decision": "approved"})).await;
        let after = call(&w.app, get(url, None)).await;
        assert_eq!(after.body["matches"][0]["status"], "allowed", "{backend:?}");

        let database = tillit::db::Database::open(&w.app.db.url, 2).unwrap();
        let policies = tillit::policy::load(None).unwrap();
        let node_b =
            tillit::AppState::new(database, policies, tillit::Settings::for_database(w.app.db.url.clone())).unwrap();
        let on_b = |node: &tillit::AppState| {
            let body =
                tillit::lookup::service::lookup_json(&node.lookup, "Återfrågad tjänst", Some("kinda"), false, 10)
                    .unwrap();
            serde_json::from_slice::<Value>(&body.body).unwrap()["matches"][0]["status"].clone()
        };
        assert_eq!(on_b(&node_b), "allowed");
        let r = call(
            &w.app,
            post_json(&format!("/api/v1/decisions/{decision}/revoke"), Some(&w.approver), "{\"reason\": \"Brister\"}"),
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(call(&w.app, get(url, None)).await.body["matches"][0]["status"], "not_allowed");
        assert_eq!(on_b(&node_b), "allowed", "node B has not polled yet");
        let mut conn = node_b.db.get().unwrap();
        node_b.refresh_lookup(&mut conn);
        assert_eq!(on_b(&node_b), "not_allowed", "{backend:?}");

        // With no budget, nothing is kept and every answer is searched anew.
        let mut settings = tillit::Settings::for_database(w.app.db.url.clone());
        settings.lookup_cache_bytes = 0;
        let database = tillit::db::Database::open(&w.app.db.url, 2).unwrap();
        let node_c = tillit::AppState::new(database, tillit::policy::load(None).unwrap(), settings).unwrap();
        assert_eq!(on_b(&node_c), "not_allowed");
        assert_eq!(node_c.lookup.answer_cache_usage(), (0, 0, 0));
    }
}

#[actix_web::test]
async fn a_saved_index_is_loaded_at_start_and_caught_up_or_rebuilt() {
    for backend in backends() {
        let w = World::new(backend);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("index.lookup");
        let start = |w: &World, file: &std::path::Path| {
            let database = tillit::db::Database::open(&w.app.db.url, 2).unwrap();
            let mut settings = tillit::Settings::for_database(w.app.db.url.clone());
            settings.index_file = Some(file.to_path_buf());
            tillit::AppState::new(database, tillit::policy::load(None).unwrap(), settings).unwrap()
        };
        let status = |node: &tillit::AppState, q: &str| {
            let found = tillit::lookup::service::lookup(&node.lookup, q, Some("kinda"), false, 10).unwrap();
            found.matches.first().and_then(|m| m.status.as_ref()).map(|s| s.status.as_str())
        };
        let a = w.service(doc("Sparad Alfa", &[], &[], "published"), true).await;
        w.decide(&a, json!({"org": "kinda", "revision": 1, "decision": "approved"})).await;
        // No file yet: built from the database, then saved.
        let first = start(&w, &file);
        assert!(!first.lookup.loaded(), "{backend:?}");
        assert!(file.exists());
        drop(first);
        // Changes after the file was saved are caught up from the audit chain.
        let b = w.service(doc("Sparad Beta", &[], &[], "published"), true).await;
        w.decide(&b, json!({"org": "kinda", "revision": 1, "decision": "rejected", "reason": "Inte behövd"})).await;
        let second = start(&w, &file);
        assert!(second.lookup.loaded(), "{backend:?}");
        assert_eq!(status(&second, "Sparad Alfa"), Some("allowed"));
        assert_eq!(status(&second, "Sparad Beta"), Some("not_allowed"));
        assert_eq!(status(&second, "sparad bta"), Some("not_allowed"), "fuzzy search works on a loaded index");
        drop(second);
        // A damaged file is ignored and rebuilt; the answers are the same.
        let mut bytes = std::fs::read(&file).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x40;
        std::fs::write(&file, &bytes).unwrap();
        let third = start(&w, &file);
        assert!(!third.lookup.loaded(), "{backend:?}");
        assert_eq!(status(&third, "Sparad Beta"), Some("not_allowed"));
        drop(third);
        assert!(start(&w, &file).lookup.loaded(), "the rebuilt index was saved");
        // A file from another registry (another audit chain) is not used.
        let other = World::new(backend);
        let stranger = start(&other, &file);
        assert!(!stranger.lookup.loaded(), "{backend:?}");
        assert_eq!(status(&stranger, "Sparad Alfa"), None);
        // A truncated file is ignored too.
        std::fs::write(&file, &bytes[..100]).unwrap();
        assert!(!start(&w, &file).lookup.loaded());
    }
}

#[actix_web::test]
async fn synthetic_seed_is_deterministic_and_keeps_the_chain_intact() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let policies = app.state.policies();
        let mut conn = app.state.db.get().unwrap();
        let report = tillit::dev::seed::synthetic(&mut conn, &policies, 400, 42, |_| {}).unwrap();
        assert_eq!(report.services, 400);
        assert!(report.decisions > 400, "1–8 organisations per service");
        assert!(report.failing > 40 && report.failing < 160, "about a quarter fail a rule: {}", report.failing);
        let verified = tillit::audit::verify::verify(&mut conn, &[]).unwrap();
        assert!(verified.intact, "{:?}", verified.problems);
        // Everything was evaluated with the rule set in force: no job is left to run at start.
        assert!(!tillit::policy::reevaluate::pending(&mut conn, &policies).unwrap());
        app.state.refresh_lookup(&mut conn);
        let snapshot = app.state.lookup.snapshot();
        assert!(snapshot.len() > 350, "withheld services stay out: {}", snapshot.len());
        drop(snapshot);

        // The same seed gives the same registry.
        let other = TestApp::new(backend);
        let mut conn2 = other.state.db.get().unwrap();
        let again = tillit::dev::seed::synthetic(&mut conn2, &policies, 400, 42, |_| {}).unwrap();
        assert_eq!((again.decisions, again.failing), (report.decisions, report.failing));
        use diesel::prelude::*;
        use tillit::db::schema::revisions;
        let names = |c: &mut tillit::db::DbConnection| -> Vec<String> {
            revisions::table.select(revisions::name).order(revisions::name.asc()).load(c).unwrap()
        };
        assert_eq!(names(&mut conn), names(&mut conn2));

        // Every status occurs, and lookups find names and typo variants.
        let first: String = revisions::table
            .filter(revisions::publication.eq("published"))
            .order(revisions::name.asc())
            .select(revisions::name)
            .first(&mut conn)
            .unwrap();
        let found = tillit::lookup::service::lookup(&app.state.lookup, &first, None, false, 10).unwrap();
        assert!(found.matches.iter().any(|m| m.service.name == first), "{first}");
        let mut seen = BTreeSet::new();
        let snapshot = app.state.lookup.snapshot();
        for entry in snapshot.entries() {
            for org in 0..8u16 {
                let s = tillit::lookup::service::org_status(&snapshot, entry, org, tillit::swedish::today());
                seen.insert(s.status.as_str());
            }
        }
        assert_eq!(seen.len(), 5, "{seen:?}");
    }
}
