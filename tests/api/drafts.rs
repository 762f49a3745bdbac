//! The submission form: drafts that may be incomplete, each rule's outcome
//! next to the field at fault after a save, a complete draft becoming a
//! revision, a new version starting from the latest revision, and who may
//! see and change a draft.

use serde_json::{Value, json};
use tillit::auth::Role;
use tillit::submissions::form;

use crate::common::*;
use crate::helpers::*;
use crate::web::{enc, form as post, hidden, location, page, set_password, sign_in};

const SESSION: &str = "__Host-tillit_session";

fn body(csrf: &str, action: &str, fields: &[(String, String)]) -> String {
    let mut out = format!("csrf={csrf}&action={action}");
    for (k, v) in fields {
        out.push_str(&format!("&{}={}", enc(k), enc(v)));
    }
    out
}

/// The block of the page that belongs to one field (from its label to the
/// next field).
fn field_block<'a>(text: &'a str, pointer: &str) -> &'a str {
    let id = format!("f{}", pointer.replace('/', "-"));
    let start = text.find(&format!("id=\"{id}-help\"")).unwrap_or_else(|| panic!("no field {pointer}"));
    let rest = &text[start..];
    let end = rest.find("<div class=\"field").unwrap_or(rest.len());
    &rest[..end]
}

/// Starts a draft from the start page's button; returns its path.
async fn start_draft(app: &TestApp, session: &str) -> String {
    let r = call(app, page("/start", Some(session))).await;
    assert!(r.text.contains("action=\"/drafts?"), "the start page offers a new service: {}", r.text);
    let csrf = hidden(&r.text, "csrf");
    let r = call(app, post("/drafts", &[(SESSION, session)], &format!("csrf={csrf}"))).await;
    assert_eq!(r.status, 303, "{}", r.text);
    location(&r).split('?').next().unwrap().to_string()
}

/// Karin, a coordinator of Kinda, signed in with a new draft: her session,
/// the draft's path, and the CSRF token.
async fn karin_with_a_draft(app: &TestApp) -> (String, String, String) {
    app.token("kinda", "Karin", &[Role::Coordinator]);
    set_password(app, "kinda", "Karin", "karin");
    let karin = sign_in(app, "kinda", "karin").await;
    let draft = start_draft(app, &karin).await;
    let csrf = hidden(&r_text(app, &draft, &karin).await, "csrf");
    (karin, draft, csrf)
}

fn count_services(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    let mut conn = app.state.db.get().unwrap();
    tillit::on_backend!(&mut *conn, |c| tillit::db::schema::services::table.count().get_result::<i64>(c)).unwrap()
}

#[actix_web::test]
async fn a_coordinator_fills_in_the_form_sees_the_rules_fixes_and_resubmits() {
    for backend in backends() {
        let app = TestApp::new(backend);
        app.token("kinda", "Karin", &[Role::Coordinator]);
        set_password(&app, "kinda", "Karin", "karin");
        let karin = sign_in(&app, "kinda", "karin").await;
        let draft = start_draft(&app, &karin).await;
        assert!(draft.starts_with("/drafts/"), "{draft}");

        // A new draft: every field of the document is on the form, grouped
        // by rule, and nothing is judged before the first save.
        let r = call(&app, page(&draft, Some(&karin))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
        let csrf = hidden(&r.text, "csrf");
        let everything = form::fields_for(&example("high-risk-decision-support-pass"));
        for (name, _) in &everything {
            // Table cells are asked in row 0 of an empty form.
            let name: Vec<&str> = name
                .split('/')
                .map(|t| if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()) { "0" } else { t })
                .collect();
            let name = name.join("/");
            assert!(r.text.contains(&format!("name=\"{name}\"")), "the form has no field {name}");
        }
        for heading in [
            "R1 Säkerhet och dataskydd",
            "R2 Transparens",
            "R3 Diskriminering",
            "R4 Styrning",
            "R5 Nytta",
            "R6 Tillgänglighet",
        ] {
            assert!(r.text.contains(heading), "no section {heading}");
        }
        assert!(!r.text.contains("field-errors"), "a new draft is not judged");
        // Every label and help text is in English too.
        let r = call(&app, page(&format!("{draft}?lang=en"), Some(&karin))).await;
        assert_eq!(r.status, 200);
        for english in
            ["Describe an AI service", "Name of the service", "R1 Security and data protection", "Save draft"]
        {
            assert!(r.text.contains(english), "{english} missing in English");
        }

        // Half filled in: the draft is saved; missing answers and the
        // failing check are shown next to their fields, in plain words.
        let partial = vec![
            ("/service/name".to_string(), "Copilot Chat".to_string()),
            ("/service/service_type".to_string(), "saas".to_string()),
            ("/data/personal_data_processed".to_string(), "true".to_string()),
            ("/vendor/dpa_signed".to_string(), "false".to_string()),
            ("/governance/review/interval_months".to_string(), "tolv".to_string()),
        ];
        let r = call(&app, post(&draft, &[(SESSION, &karin)], &body(&csrf, "save", &partial))).await;
        assert_eq!(r.status, 303, "{}", r.text);
        assert!(location(&r).contains("saved=1"));
        let r = call(&app, page(&location(&r), Some(&karin))).await;
        assert!(r.text.contains("Utkastet är sparat."));
        assert!(r.text.contains("value=\"Copilot Chat\""), "what was typed is kept");
        assert!(r.text.contains("value=\"tolv\""), "even a wrong answer is kept as typed");
        let dpa = field_block(&r.text, "/vendor/dpa_signed");
        assert!(dpa.contains("R1.1") && dpa.contains("Personuppgiftsbiträdesavtal saknas"), "{dpa}");
        assert!(field_block(&r.text, "/vendor/name").contains("Fyll i det här fältet."));
        assert!(field_block(&r.text, "/governance/review/interval_months").contains("Fel typ"));
        assert!(r.text.contains("Preliminärt"), "rules are preliminary while fields are missing");
        assert!(r.text.contains("href=\"#f-vendor-dpa_signed\""), "the summary links to the field");
        assert!(!r.text.contains("additionalProperties") && !r.text.contains("instance_path"), "no schema jargon");

        // Completing an incomplete draft keeps it as a draft.
        let r = call(&app, post(&draft, &[(SESSION, &karin)], &body(&csrf, "complete", &partial))).await;
        assert_eq!(r.status, 303);
        assert!(location(&r).contains("incomplete=1"), "{}", location(&r));
        assert_eq!(count_services(&app), 0);

        // Everything filled in, still without a processing agreement: it
        // becomes revision 1 of a new service, and the draft is gone.
        let no_dpa = form::fields_for(&example("internal-assistant-no-dpa"));
        let r = call(&app, post(&draft, &[(SESSION, &karin)], &body(&csrf, "save", &no_dpa))).await;
        let r = call(&app, page(&location(&r), Some(&karin))).await;
        assert!(r.text.contains("Utfallet gäller den här versionen av reglerna"), "final once complete");
        assert!(field_block(&r.text, "/vendor/dpa_signed").contains("R1.1"));
        assert!(!field_block(&r.text, "/vendor/name").contains("field-errors"));
        let r = call(&app, post(&draft, &[(SESSION, &karin)], &body(&csrf, "complete", &no_dpa))).await;
        assert_eq!(r.status, 303, "{}", r.text);
        let service_page = location(&r);
        assert!(service_page.starts_with("/services/") && service_page.contains("created=1"), "{service_page}");
        let service = service_page.trim_start_matches("/services/").split('?').next().unwrap().to_string();
        assert_eq!(call(&app, page(&draft, Some(&karin))).await.status, 404, "the draft became the revision");
        let r = call(&app, page(&service_page, Some(&karin))).await;
        assert!(r.text.contains("Versionen är sparad"));
        assert!(r.text.contains("R1.1"), "the service page shows the failing check");

        // The revision holds exactly the document of the example.
        let token = app.token("kinda", "Karin API", &[Role::Coordinator]);
        let r = call(&app, get(&format!("/api/v1/services/{service}/revisions/1"), Some(&token))).await;
        assert_eq!(r.body["document"], example("internal-assistant-no-dpa"));
        assert_eq!(r.body["evaluations"][0]["outcome"]["verdict"], "fail");

        // Submitted, found wanting: a new version starts from revision 1's
        // content, the fix is one answer, and revision 2 passes.
        let csrf = hidden(&r_text(&app, &service_page, &karin).await, "csrf");
        let r = call(
            &app,
            post(&format!("/services/{service}/revisions/1/submit"), &[(SESSION, &karin)], &format!("csrf={csrf}")),
        )
        .await;
        assert_eq!(r.status, 303);
        let r = call(&app, post(&format!("/services/{service}/drafts"), &[(SESSION, &karin)], &format!("csrf={csrf}")))
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let version = location(&r).split('?').next().unwrap().to_string();
        let r = call(&app, page(&version, Some(&karin))).await;
        assert!(r.text.contains("Ny version av Copilot Chat"));
        assert!(r.text.contains("value=\"Microsoft Ireland Operations Ltd\""), "prefilled from the latest revision");
        assert!(field_block(&r.text, "/vendor/dpa_signed").contains("R1.1"), "judged at once");
        let mut fixed = example("internal-assistant-no-dpa");
        set_pointer(&mut fixed, "/vendor/dpa_signed", json!(true));
        let r =
            call(&app, post(&version, &[(SESSION, &karin)], &body(&csrf, "complete", &form::fields_for(&fixed)))).await;
        assert_eq!(r.status, 303, "{}", r.text);
        assert!(location(&r).contains("created=2"), "{}", location(&r));
        let r = call(&app, get(&format!("/api/v1/services/{service}/revisions/2"), Some(&token))).await;
        assert_eq!(r.body["evaluations"][0]["outcome"]["verdict"], "pass");
        assert_eq!(count_services(&app), 1);
    }
}

async fn r_text(app: &TestApp, path: &str, session: &str) -> String {
    call(app, page(path, Some(session))).await.text
}

#[actix_web::test]
async fn drafts_belong_to_their_organisations_coordinators() {
    for backend in backends() {
        let app = TestApp::new(backend);
        app.token("kinda", "Karin", &[Role::Coordinator]);
        app.token("kinda", "Kalle", &[Role::Approver]);
        app.token("boxholm", "Bodil", &[Role::Coordinator]);
        set_password(&app, "kinda", "Karin", "karin");
        set_password(&app, "kinda", "Kalle", "kalle");
        set_password(&app, "boxholm", "Bodil", "bodil");
        let karin = sign_in(&app, "kinda", "karin").await;
        let draft = start_draft(&app, &karin).await;
        let csrf = hidden(&r_text(&app, &draft, &karin).await, "csrf");
        let fields = vec![("/service/name".to_string(), "Hemlig plan".to_string())];
        call(&app, post(&draft, &[(SESSION, &karin)], &body(&csrf, "save", &fields))).await;
        assert!(r_text(&app, "/start", &karin).await.contains("Hemlig plan"), "listed on the start page");

        // Another organisation's coordinator: the draft does not exist.
        let bodil = sign_in(&app, "boxholm", "bodil").await;
        let r = call(&app, page(&draft, Some(&bodil))).await;
        assert_eq!(r.status, 404);
        assert!(!r.text.contains("Hemlig plan"));
        let bodil_csrf = hidden(&r_text(&app, "/start", &bodil).await, "csrf");
        let r = call(&app, post(&draft, &[(SESSION, &bodil)], &body(&bodil_csrf, "save", &[]))).await;
        assert_eq!(r.status, 404);
        let r = call(&app, post(&draft, &[(SESSION, &bodil)], &body(&bodil_csrf, "discard", &[]))).await;
        assert_eq!(r.status, 404);

        // An approver writes no descriptions.
        let kalle = sign_in(&app, "kinda", "kalle").await;
        let kalle_csrf = hidden(&r_text(&app, "/start", &kalle).await, "csrf");
        assert!(!r_text(&app, "/start", &kalle).await.contains("action=\"/drafts?"));
        let r = call(&app, post("/drafts", &[(SESSION, &kalle)], &format!("csrf={kalle_csrf}"))).await;
        assert_eq!(r.status, 403);
        assert_eq!(call(&app, page(&draft, Some(&kalle))).await.status, 403);

        // Without the CSRF token, or from another site, nothing changes.
        let r = call(&app, post(&draft, &[(SESSION, &karin)], &body("wrong", "discard", &[]))).await;
        assert_eq!(r.status, 403);
        let cross = post(&draft, &[(SESSION, &karin)], &body(&csrf, "discard", &[]))
            .insert_header(("sec-fetch-site", "cross-site"));
        assert_eq!(call(&app, cross).await.status, 403);
        let r = call(&app, page(&draft, Some(&karin))).await;
        assert!(r.text.contains("value=\"Hemlig plan\""));

        // An unknown action is a clear error; signed out goes to sign-in.
        let r = call(&app, post(&draft, &[(SESSION, &karin)], &body(&csrf, "publish", &[]))).await;
        assert_eq!(r.status, 400);
        let r = call(&app, page(&draft, None)).await;
        assert_eq!(r.status, 303);
        assert!(location(&r).starts_with("/login?next="));

        // Deleting the draft: gone, and the start page says so.
        let r = call(&app, post(&draft, &[(SESSION, &karin)], &body(&csrf, "discard", &[]))).await;
        assert_eq!(r.status, 303);
        assert!(location(&r).contains("discarded=1"));
        assert_eq!(call(&app, page(&draft, Some(&karin))).await.status, 404);
        assert_eq!(count_services(&app), 0);
    }
}

#[actix_web::test]
async fn hostile_text_in_the_form_is_kept_as_text_and_never_markup() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let (karin, draft, csrf) = karin_with_a_draft(&app).await;
        let payload = "\"><script>alert(1)</script><img src=x onerror=alert(2)>";
        let mut doc: Value = example("internal-assistant-pass");
        for pointer in ["/service/name", "/service/short_description", "/purpose/intended_use"] {
            set_pointer(&mut doc, pointer, json!(payload));
        }
        let mut fields = form::fields_for(&doc);
        fields.push(("/service/models/0/name".into(), payload.into()));
        fields.push(("/service/capabilities".into(), payload.into()));
        let r = call(&app, post(&draft, &[(SESSION, &karin)], &body(&csrf, "save", &fields))).await;
        assert_eq!(r.status, 303);
        let r = call(&app, page(&location(&r), Some(&karin))).await;
        assert_eq!(r.status, 200);
        assert!(!r.text.contains("<script>alert"), "escaped");
        assert!(!r.text.contains("<img src=x"), "escaped");
        assert!(r.text.contains("&lt;script&gt;"), "kept as text");
    }
}

#[actix_web::test]
async fn the_hostile_corpus_against_the_submission_form_never_breaks_it() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let (karin, draft, csrf) = karin_with_a_draft(&app).await;
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
        let values: Vec<String> = std::fs::read_dir(corpus)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x != "md"))
            .map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap()).chars().take(3000).collect())
            .collect();
        // One field of every kind the form has.
        let names = [
            "/service/name",
            "/service/short_description",
            "/service/aliases",
            "/service/domains",
            "/service/service_type",
            "/service/capabilities",
            "/service/interacts_directly_with_residents",
            "/service/models/0/name",
            "/service/models/7/provider",
            "/vendor/country",
            "/data/retention/logs_days",
            "/assessments/dpia/completed_on",
            "/governance/public_contact_email",
            "/accessibility/accessibility_statement_url",
            "/accessibility/languages_supported",
            "/attachments/0/kind",
        ];
        for value in &values {
            let fields: Vec<(String, String)> = names.iter().map(|n| (n.to_string(), value.clone())).collect();
            for action in ["save", "complete"] {
                let r = call(&app, post(&draft, &[(SESSION, &karin)], &body(&csrf, action, &fields))).await;
                assert!(r.status.as_u16() < 500, "{} for {value:?}", r.status);
                assert_no_internals(&r.text);
            }
            let r = call(&app, page(&draft, Some(&karin))).await;
            assert_eq!(r.status, 200, "the draft page after {value:?}: {}", r.text);
            assert!(!r.text.contains("<script>") || !value.contains("<script>"), "reflected unescaped");
        }
        // Raw bodies that are not forms at all.
        for raw in [&b"\xff\xfe\x00garbage"[..], b"csrf=%ZZ%&action=%FF", b"action=save"] {
            let req = actix_web::test::TestRequest::post()
                .uri(&draft)
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .cookie(actix_web::cookie::Cookie::new(SESSION, karin.clone()))
                .set_payload(raw.to_vec());
            let r = call(&app, req).await;
            assert!(r.status.is_client_error(), "{}", r.status);
        }
        assert_eq!(count_services(&app), 0, "nothing hostile became a service");
    }
}

#[actix_web::test]
async fn a_half_filled_draft_is_told_no_false_failure() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let (karin, draft, csrf) = karin_with_a_draft(&app).await;
    // The processor agreement is answered "no", but whether personal data is
    // processed is not answered yet: R1.1 cannot be judged.
    let partial = vec![
        ("/service/name".to_string(), "Copilot Chat".to_string()),
        ("/service/service_type".to_string(), "saas".to_string()),
        ("/vendor/dpa_signed".to_string(), "false".to_string()),
    ];
    let r = call(&app, post(&draft, &[(SESSION, &karin)], &body(&csrf, "save", &partial))).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = call(&app, page(&location(&r), Some(&karin))).await;
    let dpa = field_block(&r.text, "/vendor/dpa_signed");
    assert!(!dpa.contains("field-errors"), "no failure on an unanswered condition: {dpa}");
    assert!(dpa.contains("Svara först på: Behandlas personuppgifter"), "{dpa}");
    assert!(!r.text.contains("Personuppgiftsbiträdesavtal saknas"));
    // The section menu says how far the draft has come.
    let sections = form::text_keys().iter().filter(|k| k.starts_with("section-") && !k.ends_with("-intro")).count();
    assert!(r.text.contains(&format!(" av {sections} avsnitt klara")), "progress");
    assert!(r.text.contains("href=\"#s-r1\""), "the menu links to each section");
    // Once answered, the same draft fails R1.1 at the field.
    let answered = [partial, vec![("/data/personal_data_processed".to_string(), "true".to_string())]].concat();
    let r = call(&app, post(&draft, &[(SESSION, &karin)], &body(&csrf, "save", &answered))).await;
    let r = call(&app, page(&location(&r), Some(&karin))).await;
    let dpa = field_block(&r.text, "/vendor/dpa_signed");
    assert!(
        dpa.contains("field-errors") && dpa.contains("<strong>R1.1</strong>") && !dpa.contains("Svara först på"),
        "{dpa}"
    );
}

#[actix_web::test]
async fn only_fields_optional_in_every_case_say_frivilligt() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let (karin, draft, _) = karin_with_a_draft(&app).await;
    let text = r_text(&app, &draft, &karin).await;
    let label = |id: &str| {
        let start = text.find(&format!("for=\"{id}\"")).unwrap_or_else(|| panic!("no label for {id}"));
        let end = text[start..].find("</label>").unwrap() + start;
        text[start..end].to_string()
    };
    // The Article 9 exception is required once special categories are processed (R1.6).
    let exception = "f-data-special_categories_art9-art9_2_exception";
    assert!(!label(exception).contains("(frivilligt)"), "{}", label(exception));
    let block = field_block(&text, "/data/special_categories_art9/art9_2_exception");
    assert!(block.contains("Krävs beroende på svaret om:"), "{block}");
    // A field that no answer makes required stays optional.
    assert!(label("f-service-product_url").contains("(frivilligt)"));
    let policies = tillit::policy::load(None).unwrap();
    assert!(policies.required_when("/service/product_url").is_empty());
    assert!(
        policies
            .required_when("/data/special_categories_art9/art9_2_exception")
            .contains(&"/data/special_categories_art9/processed".to_string())
    );
}

#[actix_web::test]
async fn a_rule_whose_applicability_is_unanswered_waits() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let (karin, draft, csrf) = karin_with_a_draft(&app).await;
    // Whether the service meets residents is not answered: R6 (accessibility)
    // cannot be judged, so it says so instead of "the service meets residents".
    let partial = vec![("/service/name".to_string(), "Copilot Chat".to_string())];
    let r = call(&app, post(&draft, &[(SESSION, &karin)], &body(&csrf, "save", &partial))).await;
    let r = call(&app, page(&location(&r), Some(&karin))).await;
    assert!(!r.text.contains("Tjänsten möter invånare och måste"), "no claim about an unanswered fact");
    let languages = field_block(&r.text, "/accessibility/languages_supported");
    assert!(languages.contains("Svara först på: Möter tjänsten invånare direkt?"), "{languages}");
    assert!(r.text.contains("R6 Tillgänglighet och inkludering</a>: <span class=\"outcome warn\">kan inte bedömas än"));
    // The statement's address is required only for services that meet residents.
    let policies = tillit::policy::load(None).unwrap();
    assert!(
        policies
            .required_when("/accessibility/accessibility_statement_url")
            .contains(&"/service/interacts_directly_with_residents".to_string())
    );
    // Answered "yes", R6 is judged.
    let answered =
        [partial, vec![("/service/interacts_directly_with_residents".to_string(), "true".to_string())]].concat();
    let r = call(&app, post(&draft, &[(SESSION, &karin)], &body(&csrf, "save", &answered))).await;
    let r = call(&app, page(&location(&r), Some(&karin))).await;
    assert!(r.text.contains("Tjänsten möter invånare och måste fungera på svenska"));
}

#[actix_web::test]
async fn one_message_per_mistake() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let (karin, draft, csrf) = karin_with_a_draft(&app).await;
    let answers = vec![
        ("/service/name".to_string(), "Copilot Chat".to_string()),
        // Wrong in two ways the schema checks (not https, not a full address).
        ("/service/product_url".to_string(), "=x".to_string()),
        // Above the schema's 60 months and R4's 24: one mistake.
        ("/governance/review/interval_months".to_string(), "99".to_string()),
        // A model row without its model's name.
        ("/service/models/0/provider".to_string(), "OpenAI".to_string()),
    ];
    let r = call(&app, post(&draft, &[(SESSION, &karin)], &body(&csrf, "save", &answers))).await;
    let r = call(&app, page(&location(&r), Some(&karin))).await;
    let errors = |pointer: &str| -> Vec<String> {
        let block = field_block(&r.text, pointer);
        block.split("<li>").skip(1).map(|li| li.split("</li>").next().unwrap().to_string()).collect()
    };
    assert_eq!(errors("/service/product_url").len(), 1, "{:?}", errors("/service/product_url"));
    let interval = errors("/governance/review/interval_months");
    assert_eq!(interval.len(), 1, "{interval:?}");
    assert!(interval[0].contains("<strong>R4."), "the check's number joins the one message: {interval:?}");
    // A missing cell is named as the form names it, never by its key.
    let models = errors("/service/models");
    assert_eq!(models, vec!["Rad 1, Modell: Fyll i det här fältet.".to_string()]);
    assert!(!r.text.contains("\"name\" saknas"));
}

#[actix_web::test]
async fn a_row_is_added_without_saving_first() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let (karin, draft, csrf) = karin_with_a_draft(&app).await;
        let typed = vec![
            ("/service/name".to_string(), "Radtest".to_string()),
            ("/service/models/0/name".to_string(), "GPT-4o".to_string()),
            ("/service/models/0/provider".to_string(), "OpenAI".to_string()),
            ("/service/models/1/name".to_string(), String::new()),
        ];
        let r = call(&app, post(&draft, &[(SESSION, &karin)], &body(&csrf, "add_row:/service/models", &typed))).await;
        assert_eq!(r.status, 200, "the form again, not a redirect: {}", r.text);
        assert!(r.text.contains("Raden är tillagd. Det du har skrivit är inte sparat än"));
        // What was typed is kept, and there is one row more than was shown.
        assert!(r.text.contains("value=\"Radtest\"") && r.text.contains("value=\"GPT-4o\""));
        assert!(
            r.text.contains("name=\"/service/models/2/name\"") && !r.text.contains("name=\"/service/models/3/name\"")
        );
        // Nothing was saved.
        let saved = r_text(&app, &draft, &karin).await;
        assert!(!saved.contains("value=\"Radtest\""), "the draft is unchanged until it is saved");
        // A table that is not one of the form's is refused, not guessed at.
        let r = call(&app, post(&draft, &[(SESSION, &karin)], &body(&csrf, "add_row:/service/name", &typed))).await;
        assert_eq!(r.status, 400);
        // Another coordinator's draft cannot be shown this way either.
        app.token("boxholm", "Bo", &[Role::Coordinator]);
        set_password(&app, "boxholm", "Bo", "bo");
        let bo = sign_in(&app, "boxholm", "bo").await;
        let bo_csrf = hidden(&r_text(&app, "/start", &bo).await, "csrf");
        let r = call(&app, post(&draft, &[(SESSION, &bo)], &body(&bo_csrf, "add_row:/service/models", &typed))).await;
        assert!(r.status == 403 || r.status == 404, "{}", r.status);
    }
}
