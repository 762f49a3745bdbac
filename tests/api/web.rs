//! The signed-in pages: sign-in with a local password, the session cookie,
//! CSRF and cross-site refusals, the approver's queue, the decision form
//! (directly and under delegation), expiry, and sign-out.

use actix_web::cookie::Cookie;
use actix_web::http::header;
use actix_web::test::TestRequest;
use diesel::RunQueryDsl;
use serde_json::json;
use tillit::auth::Role;

use crate::authz::{create_service, submit};
use crate::common::*;
use crate::helpers::*;

pub(crate) const PASSWORD: &str = "ett långt och hemligt lösenord";

pub(crate) fn set_password(app: &TestApp, org: &str, name: &str, username: &str) {
    let mut conn = app.state.db.get().unwrap();
    tillit::auth::sessions::set_password(&mut conn, org, name, username, PASSWORD).unwrap();
}

pub(crate) fn set_cookies(r: &Response) -> Vec<String> {
    r.headers.get_all(header::SET_COOKIE).map(|v| v.to_str().unwrap().to_string()).collect()
}

pub(crate) fn cookie_value(r: &Response, name: &str) -> Option<String> {
    set_cookies(r).iter().find_map(|c| {
        let parsed = Cookie::parse(c.clone()).ok()?;
        (parsed.name() == name).then(|| parsed.value().to_string())
    })
}

pub(crate) fn hidden(text: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = text.find(&marker).unwrap_or_else(|| panic!("no hidden {name} in {text}")) + marker.len();
    text[start..].split('"').next().unwrap().to_string()
}

pub(crate) fn form(path: &str, cookies: &[(&str, &str)], body: &str) -> TestRequest {
    let mut req = TestRequest::post()
        .uri(path)
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(body.to_string());
    for (name, value) in cookies {
        req = req.cookie(Cookie::new(name.to_string(), value.to_string()));
    }
    req
}

pub(crate) fn page(path: &str, session: Option<&str>) -> TestRequest {
    let mut req = TestRequest::get().uri(path).insert_header(("accept", "text/html"));
    if let Some(id) = session {
        req = req.cookie(Cookie::new("__Host-tillit_session", id.to_string()));
    }
    req
}

pub(crate) fn enc(s: &str) -> String {
    tillit::web::encode(s)
}

/// Signs in through the form and returns the session id.
pub(crate) async fn sign_in(app: &TestApp, org: &str, username: &str) -> String {
    let r = call(app, page("/login", None)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let login_token = cookie_value(&r, "__Host-tillit_login").unwrap();
    let csrf = hidden(&r.text, "csrf");
    assert_eq!(login_token, csrf);
    let body = format!("csrf={csrf}&next=%2Fstart&org={org}&username={username}&password={}", enc(PASSWORD));
    let r = call(app, form("/login", &[("__Host-tillit_login", &login_token)], &body)).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.headers.get(header::LOCATION).unwrap(), "/start");
    cookie_value(&r, "__Host-tillit_session").unwrap()
}

/// Posts a service's decision form with the session's CSRF token from the page.
pub(crate) async fn decide_form(app: &TestApp, service: &str, session: &str, fields: &str) -> Response {
    let r = call(app, page(&format!("/services/{service}"), Some(session))).await;
    let csrf = hidden(&r.text, "csrf");
    let path = format!("/services/{service}/decide");
    call(app, form(&path, &[("__Host-tillit_session", session)], &format!("csrf={csrf}&{fields}"))).await
}

pub(crate) fn location(r: &Response) -> String {
    r.headers.get(header::LOCATION).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

#[actix_web::test]
async fn sign_in_decide_and_sign_out_on_every_backend() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
        app.token("kinda", "Kalle", &[Role::Approver]);
        set_password(&app, "kinda", "Kalle", "kalle");
        let service = create_service(&app, &coordinator, "internal-assistant-pass").await;
        submit(&app, &coordinator, &service, 1).await;

        // Signed-out: the start page sends you to sign in, and back.
        let r = call(&app, page("/start", None)).await;
        assert_eq!(r.status, 303);
        assert_eq!(location(&r), "/login?next=%2Fstart");

        // The sign-in form: its CSRF cookie is __Host-, Secure, HttpOnly.
        let r = call(&app, page("/login", None)).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
        assert!(r.headers.get(header::CONTENT_SECURITY_POLICY).is_some());
        let cookie = set_cookies(&r).into_iter().find(|c| c.starts_with("__Host-tillit_login=")).unwrap();
        for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        let login_token = cookie_value(&r, "__Host-tillit_login").unwrap();
        let csrf = hidden(&r.text, "csrf");
        assert!(!r.text.contains("<script"), "no script on the sign-in page");

        // A wrong password, an unknown user name and a missing CSRF cookie
        // are refused, and none of them opens a session.
        for (cookies, user, password, status) in [
            (vec![("__Host-tillit_login", login_token.as_str())], "kalle", "fel lösenord hela vägen", 401),
            (vec![("__Host-tillit_login", login_token.as_str())], "okand", PASSWORD, 401),
            (vec![], "kalle", PASSWORD, 403),
        ] {
            let body = format!("csrf={csrf}&org=kinda&username={user}&password={}", enc(password));
            let r = call(&app, form("/login", &cookies, &body)).await;
            assert_eq!(r.status.as_u16(), status, "{}", r.text);
            assert!(cookie_value(&r, "__Host-tillit_session").is_none());
        }
        // The right person in the wrong organisation is refused too.
        let body = format!("csrf={csrf}&org=boxholm&username=kalle&password={}", enc(PASSWORD));
        let r = call(&app, form("/login", &[("__Host-tillit_login", &login_token)], &body)).await;
        assert_eq!(r.status, 401);
        assert!(r.text.contains("Fel användarnamn eller lösenord"));

        // A planted session id is never promoted: sign-in issues a new one.
        let planted = "a".repeat(64);
        let body = format!("csrf={csrf}&next=%2Fstart&org=kinda&username=kalle&password={}", enc(PASSWORD));
        let r = call(
            &app,
            form("/login", &[("__Host-tillit_login", &login_token), ("__Host-tillit_session", &planted)], &body),
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let session = cookie_value(&r, "__Host-tillit_session").unwrap();
        assert_ne!(session, planted);
        assert_eq!(session.len(), 64);
        let cookie = set_cookies(&r).into_iter().find(|c| c.starts_with("__Host-tillit_session=")).unwrap();
        for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        // An open redirect is not followed after sign-in.
        let r = call(&app, page("/login?next=https://evil.example/x", Some(&session))).await;
        assert_eq!(location(&r), "/start");

        // The queue shows the submitted service, and the page is not cached.
        let r = call(&app, page("/start", Some(&session))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
        assert!(r.text.contains("Väntar på beslut"));
        assert!(r.text.contains(&format!("/services/{service}")), "{}", r.text);

        // The service page carries the decision form with the session's token.
        let r = call(&app, page(&format!("/services/{service}"), Some(&session))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let csrf = hidden(&r.text, "csrf");
        let path = format!("/services/{service}/decide");
        let cookies = [("__Host-tillit_session", session.as_str())];
        let before = app.digest();

        // Cross-site, a wrong token, and a rejection without a reason change nothing.
        let body = format!("csrf={csrf}&revision=1&org=kinda&decision=approved");
        let r = call(&app, form(&path, &cookies, &body).insert_header(("sec-fetch-site", "cross-site"))).await;
        assert_eq!(r.status, 403);
        let r = call(&app, form(&path, &cookies, "csrf=0000&revision=1&org=kinda&decision=approved")).await;
        assert_eq!(r.status, 403);
        assert!(r.text.contains("Formuläret har gått ut"), "{}", r.text);
        let r = call(&app, form(&path, &cookies, &format!("csrf={csrf}&revision=1&org=kinda&decision=rejected"))).await;
        assert_eq!(r.status, 422);
        assert!(r.text.contains("id=\"decide-error\""), "{}", r.text);
        let r = call(&app, form(&path, &cookies, &format!("csrf={csrf}&revision=1&org=kinda&decision=maybe"))).await;
        assert_eq!(r.status, 422);
        let r = call(&app, page(&path, Some(&session))).await;
        assert_eq!(r.status, 405);
        assert_eq!(app.digest(), before);

        // The decision, with structured conditions, as the API sees it.
        let body = format!(
            "csrf={csrf}&revision=1&org=kinda&decision=approved_with_conditions&information_class_max=internal\
             &no_personal_data=1&permitted_tasks=Protokoll%0D%0AAnteckningar&reason=&valid_until=\
             &decision_reference=KS+2026%2F7"
        );
        let r = call(&app, form(&path, &cookies, &body)).await;
        assert_eq!(r.status, 303, "{}", r.text);
        assert_eq!(location(&r), format!("/services/{}?decided=1", enc(&service)));
        let r = call(&app, get(&format!("/api/v1/services/{service}"), Some(&coordinator))).await;
        let decision = &r.body["decisions"][0];
        assert_eq!(decision["org"], "kinda");
        assert_eq!(decision["decision"], "approved_with_conditions");
        assert_eq!(decision["decision_reference"], "KS 2026/7");
        assert_eq!(decision["via_delegation"], false);
        let types: Vec<&str> =
            decision["conditions"].as_array().unwrap().iter().map(|c| c["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["information_class_max", "no_personal_data", "permitted_tasks"]);
        assert_eq!(decision["conditions"][2]["value"], json!(["Protokoll", "Anteckningar"]));
        let r = call(&app, get("/api/v1/lookup?q=copilot%20chat&org=kinda", None)).await;
        assert!(r.text.contains("allowed_with_conditions"), "{}", r.text);
        // Decided: it leaves the queue, and the service page shows it.
        let r = call(&app, page("/start", Some(&session))).await;
        assert!(r.text.contains("Inget väntar på beslut"), "{}", r.text);
        let r = call(&app, page(&format!("/services/{service}?decided=1"), Some(&session))).await;
        assert!(r.text.contains("Beslutet är registrerat"));
        assert!(r.text.contains("utan personuppgifter"));

        // Sign-out ends the session in the database, not only in the browser.
        let r = call(&app, form("/logout", &cookies, "csrf=wrong")).await;
        assert_eq!(r.status, 403);
        let r = call(&app, form("/logout", &cookies, &format!("csrf={csrf}"))).await;
        assert_eq!(r.status, 303);
        assert!(set_cookies(&r).iter().any(|c| c.starts_with("__Host-tillit_session=;") && c.contains("Max-Age=0")));
        let r = call(&app, page("/start", Some(&session))).await;
        assert_eq!(r.status, 303);
        assert!(location(&r).starts_with("/login"));
    }
}

#[actix_web::test]
async fn itsam_decides_under_delegation_and_nobody_decides_on_their_own_revision() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let coordinator = app.token("boxholm", "Bo", &[Role::Coordinator, Role::Approver]);
        let admin = app.token("boxholm", "Bodil", &[Role::Admin]);
        app.token("itsam", "Isak", &[Role::Approver]);
        set_password(&app, "itsam", "Isak", "isak");
        set_password(&app, "boxholm", "Bo", "bo");
        let service = create_service(&app, &coordinator, "internal-assistant-pass").await;
        submit(&app, &coordinator, &service, 1).await;

        // Bo wrote it: it is not in his queue, and the form refuses him.
        let bo = sign_in(&app, "boxholm", "bo").await;
        let r = call(&app, page("/start", Some(&bo))).await;
        assert!(r.text.contains("Inget väntar på beslut"), "{}", r.text);
        let before = app.digest();
        let r = decide_form(&app, &service, &bo, "revision=1&org=boxholm&decision=approved").await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert_eq!(app.digest(), before);

        // Itsam's approver sees Boxholm only while a delegation is in force.
        let isak = sign_in(&app, "itsam", "isak").await;
        let r = call(&app, page("/start", Some(&isak))).await;
        assert!(!r.text.contains("Boxholm"), "{}", r.text);
        let r = call(
            &app,
            post_json(
                "/api/v1/delegations",
                Some(&admin),
                json!({"org": "boxholm", "delegate": "itsam", "decision_reference": "KS 2026/1",
                       "valid_from": "2026-01-01", "valid_until": null, "scope": "all"})
                .to_string(),
            ),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let r = call(&app, page("/start", Some(&isak))).await;
        assert!(r.text.contains("Boxholms kommun"), "{}", r.text);
        let r = call(&app, page(&format!("/services/{service}"), Some(&isak))).await;
        assert!(r.text.contains("value=\"boxholm\""));
        // Valid-until is suggested: today plus the document's 12-month review interval.
        let suggested = tillit::swedish::today().checked_add_months(chrono::Months::new(12)).unwrap();
        assert!(r.text.contains(&format!("name=\"valid_until\" type=\"date\" value=\"{suggested}\"")), "{}", r.text);
        let r = decide_form(&app, &service, &isak, "revision=1&org=boxholm&decision=approved&decision_reference=IT+5")
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let r = call(&app, get(&format!("/api/v1/services/{service}"), Some(&coordinator))).await;
        assert_eq!(r.body["decisions"][0]["org"], "boxholm");
        assert_eq!(r.body["decisions"][0]["deciding_org"], "itsam");
        assert_eq!(r.body["decisions"][0]["via_delegation"], true);
    }
}

#[actix_web::test]
async fn sessions_end_when_idle_too_long_past_their_lifetime_or_when_the_person_is_deactivated() {
    for backend in backends() {
        let app = TestApp::new(backend);
        app.token("kinda", "Kalle", &[Role::Approver]);
        let admin = app.token("kinda", "Kerstin", &[Role::Admin]);
        set_password(&app, "kinda", "Kalle", "kalle");
        let age = |app: &TestApp, column: &str, minutes: i64| {
            let mut conn = app.state.db.get().unwrap();
            let at = tillit::db::now() - chrono::Duration::minutes(minutes);
            let sql = format!("UPDATE web_sessions SET {column} = '{}'", at.format("%Y-%m-%d %H:%M:%S%.6f"));
            diesel::sql_query(sql).execute(&mut *conn).unwrap();
        };
        let session = sign_in(&app, "kinda", "kalle").await;
        assert_eq!(call(&app, page("/start", Some(&session))).await.status, 200);
        age(&app, "last_seen_at", 29);
        assert_eq!(call(&app, page("/start", Some(&session))).await.status, 200, "29 minutes idle is fine");
        age(&app, "last_seen_at", 31);
        assert_eq!(call(&app, page("/start", Some(&session))).await.status, 303, "31 minutes idle is not");

        let session = sign_in(&app, "kinda", "kalle").await;
        age(&app, "expires_at", 1);
        assert_eq!(call(&app, page("/start", Some(&session))).await.status, 303, "past the absolute lifetime");

        let session = sign_in(&app, "kinda", "kalle").await;
        let r = call(&app, get("/api/v1/people?org=kinda", Some(&admin))).await;
        let kalle = r.body["people"].as_array().unwrap().iter().find(|p| p["name"] == "Kalle").unwrap()["person_id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = call(&app, post_json(&format!("/api/v1/people/{kalle}/deactivate"), Some(&admin), "")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(call(&app, page("/start", Some(&session))).await.status, 303, "deactivated");
        // And a deactivated person cannot sign in again.
        let r = call(&app, page("/login", None)).await;
        let token = cookie_value(&r, "__Host-tillit_login").unwrap();
        let body = format!("csrf={token}&org=kinda&username=kalle&password={}", enc(PASSWORD));
        let r = call(&app, form("/login", &[("__Host-tillit_login", &token)], &body)).await;
        assert_eq!(r.status, 401);
    }
}

#[actix_web::test]
async fn forms_refuse_wrong_content_types_and_oversized_bodies() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let r = call(&app, form("/login", &[], "x").insert_header(("content-type", "application/json"))).await;
    assert_eq!(r.status, 415);
    assert!(r.text.contains("<!DOCTYPE html>"), "errors are pages: {}", r.text);
    let r = call(&app, form("/login", &[], &"a".repeat(70 * 1024))).await;
    assert_eq!(r.status, 413);
    let r = call(&app, form("/login", &[], "org=kinda&username=%00&password=x")).await;
    assert_eq!(r.status, 400);
    assert_no_internals(&r.text);
}

#[actix_web::test]
async fn password_guessing_is_throttled_per_client() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    app.token("kinda", "Kalle", &[Role::Approver]);
    set_password(&app, "kinda", "Kalle", "kalle");
    let r = call(&app, page("/login", None)).await;
    let token = cookie_value(&r, "__Host-tillit_login").unwrap();
    let attempt = |ip: &str| {
        form(
            "/login",
            &[("__Host-tillit_login", &token)],
            &format!("csrf={token}&org=kinda&username=kalle&password=gissning-{ip}"),
        )
        .peer_addr(format!("{ip}:4000").parse().unwrap())
    };
    for _ in 0..10 {
        assert_eq!(call(&app, attempt("192.0.2.50")).await.status, 401);
    }
    let r = call(&app, attempt("192.0.2.50")).await;
    assert_eq!(r.status, 429);
    assert!(r.headers.contains_key("retry-after"));
    assert!(r.text.contains("<!DOCTYPE html>"));
    // Another address still gets to try.
    assert_eq!(call(&app, attempt("192.0.2.51")).await.status, 401);
}

#[actix_web::test]
async fn the_hostile_corpus_against_the_forms_changes_nothing() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
        app.token("kinda", "Kalle", &[Role::Approver]);
        set_password(&app, "kinda", "Kalle", "kalle");
        let service = create_service(&app, &coordinator, "internal-assistant-pass").await;
        submit(&app, &coordinator, &service, 1).await;
        let session = sign_in(&app, "kinda", "kalle").await;
        let r = call(&app, page(&format!("/services/{service}"), Some(&session))).await;
        let csrf = hidden(&r.text, "csrf");
        let mut before = app.digest();
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
        let mut bodies: Vec<Vec<u8>> = std::fs::read_dir(corpus)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x != "md"))
            .map(|p| std::fs::read(p).unwrap())
            .collect();
        // The corpus as form values, and form-specific abuse.
        let as_fields: Vec<Vec<u8>> = bodies
            .iter()
            .map(|b| {
                let text = String::from_utf8_lossy(b);
                let value: String = text.chars().take(2000).collect();
                format!("csrf={csrf}&revision=1&org=kinda&decision={}&reason={}", enc(&value), enc(&value)).into_bytes()
            })
            .collect();
        bodies.extend(as_fields);
        bodies.push(
            format!("csrf={csrf}&revision=1&org=kinda&org=boxholm&decision=approved&decision=rejected").into_bytes(),
        );
        bodies.push(format!("csrf={csrf}&revision=999&org=kinda&decision=approved").into_bytes());
        bodies.push(format!("csrf={csrf}&revision=-1&org=../../etc&decision=approved").into_bytes());
        bodies.push(format!("csrf={csrf}&revision=1&org=kinda&decision=approved&valid_until=2999-99-99").into_bytes());
        bodies.push(
            format!("csrf={csrf}&revision=1&org=kinda&decision=approved&information_class_max=%3Cscript%3E")
                .into_bytes(),
        );
        bodies.push(b"csrf=%ZZ%&revision=%FF%FE".to_vec());
        bodies.push(b"\xff\xfe\x00garbage".to_vec());
        let cookies = [("__Host-tillit_session", session.as_str())];
        let mut accepted = 0;
        for body in &bodies {
            let req = TestRequest::post()
                .uri(&format!("/services/{service}/decide"))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .cookie(Cookie::new(cookies[0].0, cookies[0].1))
                .set_payload(body.clone());
            let r = call(&app, req).await;
            assert!(r.status.as_u16() < 500, "{} for {:?}", r.status, String::from_utf8_lossy(body));
            assert_no_internals(&r.text);
            if r.status.as_u16() == 303 {
                accepted += 1;
                before = app.digest();
            } else {
                assert_eq!(
                    app.digest(),
                    before,
                    "a refused form changed the database: {:?}",
                    String::from_utf8_lossy(body)
                );
                assert!(!r.text.contains("<script>"), "reflected unescaped: {}", r.text);
            }
        }
        // The repeated-field body takes the first value of each field:
        // a legitimate approval for Kinda, and the only one accepted.
        assert_eq!(accepted, 1);
        for body in &bodies {
            let req = TestRequest::post()
                .uri("/login")
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(body.clone());
            let r = call(&app, req).await;
            assert!(r.status.as_u16() < 500);
            assert!(cookie_value(&r, "__Host-tillit_session").is_none());
        }
    }
}

#[actix_web::test]
async fn auditors_get_the_report_and_the_audit_log_and_nobody_else_does() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
        let approver = app.token("kinda", "Kalle", &[Role::Approver]);
        app.token("kinda", "Agnes", &[Role::Auditor]);
        set_password(&app, "kinda", "Agnes", "agnes");
        set_password(&app, "kinda", "Karin", "karin");
        let service = create_service(&app, &coordinator, "internal-assistant-pass").await;
        submit(&app, &coordinator, &service, 1).await;
        let r = call(
            &app,
            post_json(
                &format!("/api/v1/services/{service}/decisions"),
                Some(&approver),
                json!({"org": "kinda", "revision": 1, "decision": "approved", "decision_reference": "KS 1"})
                    .to_string(),
            ),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);

        // Signed out: sent to sign in.
        let r = call(&app, page("/reports/compliance?format=csv", None)).await;
        assert_eq!(r.status, 303);

        let agnes = sign_in(&app, "kinda", "agnes").await;
        let r = call(&app, page("/start", Some(&agnes))).await;
        assert!(r.text.contains("href=\"/reports?lang=sv\"") && r.text.contains("href=\"/audit-log?lang=sv\""));
        let r = call(&app, page("/reports", Some(&agnes))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("action=\"/reports/compliance\""));
        // The form's empty fields mean no filter; the report is the API's.
        let r = call(
            &app,
            page(
                "/reports/compliance?lang=sv&org=&status=&risk_class=&expiring_within_days=&as_of=&format=csv",
                Some(&agnes),
            ),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap().starts_with("text/csv"));
        assert_eq!(r.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
        assert!(r.text.contains("KS 1") && r.text.contains("Kalle"), "{}", r.text);
        let r = call(&app, page("/reports/compliance?org=kinda&status=allowed&format=html", Some(&agnes))).await;
        assert_eq!(r.status, 200);
        assert!(r.text.contains("Copilot Chat"));
        let r = call(&app, page("/reports/compliance?expiring_within_days=soon", Some(&agnes))).await;
        assert_eq!(r.status, 422);
        assert!(r.text.contains("<!DOCTYPE html>"));
        let r = call(&app, page("/reports/compliance?org=atlantis&format=csv", Some(&agnes))).await;
        assert!(r.status.is_client_error(), "{}", r.status);

        // The audit log: newest first, in words, with the head to save as a checkpoint.
        let r = call(&app, page("/audit-log", Some(&agnes))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(!r.text.contains(">decision.recorded<"), "actions in words, not codes");
        let recorded = r.text.find("\">Beslut registrerat</td>").unwrap();
        let created = r.text.find("\">Tjänst registrerad</td>").unwrap();
        assert!(recorded < created, "newest first");
        assert!(r.text.contains("Tjänst: Copilot Chat"), "the service's name beside its id");
        let head = call(&app, get("/api/v1/audit/head", None)).await;
        assert!(r.text.contains(head.body["entry_hash"].as_str().unwrap()));
        let r = call(&app, page("/audit-log?before=3", Some(&agnes))).await;
        assert_eq!(r.status, 200);
        assert!(!r.text.contains("Beslut registrerat</td>"));

        // Filters: by service (part of its name), action, person and day.
        let r = call(&app, page("/audit-log?service=copilot", Some(&agnes))).await;
        assert_eq!(r.status, 200);
        assert!(
            r.text.contains("\">Tjänst registrerad</td>") && r.text.contains("Beslut registrerat</td>"),
            "{}",
            r.text
        );
        assert!(!r.text.contains("\">Roll tilldelad</td>"), "only events about the service");
        let r = call(&app, page("/audit-log?service=finns-inte", Some(&agnes))).await;
        assert!(r.text.contains("Ingen tjänst har ett namn") && !r.text.contains("<tbody>"));
        let r = call(&app, page("/audit-log?action=decision.recorded", Some(&agnes))).await;
        assert!(r.text.contains("\">Beslut registrerat</td>") && !r.text.contains("\">Tjänst registrerad</td>"));
        let kalle: String = {
            use diesel::prelude::*;
            let mut conn = app.state.db.get().unwrap();
            tillit::db::schema::users::table
                .filter(tillit::db::schema::users::name.eq("Kalle"))
                .select(tillit::db::schema::users::id)
                .first(&mut *conn)
                .unwrap()
        };
        let r = call(&app, page(&format!("/audit-log?person={kalle}"), Some(&agnes))).await;
        assert!(r.text.contains("\">Beslut registrerat</td>") && !r.text.contains("\">Tjänst registrerad</td>"));
        let today = tillit::swedish::today();
        let r = call(&app, page(&format!("/audit-log?from={today}&until={today}"), Some(&agnes))).await;
        assert!(r.text.contains("\">Beslut registrerat</td>"));
        let tomorrow = today.succ_opt().unwrap();
        let r = call(&app, page(&format!("/audit-log?from={tomorrow}"), Some(&agnes))).await;
        assert!(r.text.contains("Inga händelser stämmer med urvalet."));
        let r = call(&app, page("/audit-log?from=ig%C3%A5r", Some(&agnes))).await;
        assert_eq!(r.status, 200);
        assert!(r.text.contains("Skriv dagen som år-månad-dag"));

        // A coordinator gets neither.
        let karin = sign_in(&app, "kinda", "karin").await;
        for path in ["/reports", "/reports/compliance?format=csv", "/audit-log"] {
            let r = call(&app, page(path, Some(&karin))).await;
            assert_eq!(r.status, 403, "{path}");
            assert!(r.text.contains("<!DOCTYPE html>"));
        }
    }
}

#[actix_web::test]
async fn admins_manage_delegations_and_people_through_the_pages() {
    for backend in backends() {
        let app = TestApp::new(backend);
        app.token("boxholm", "Bodil", &[Role::Admin]);
        app.token("boxholm", "Bo", &[Role::Coordinator]);
        set_password(&app, "boxholm", "Bodil", "bodil");
        set_password(&app, "boxholm", "Bo", "bo");
        let bodil = sign_in(&app, "boxholm", "bodil").await;
        let cookies = [("__Host-tillit_session", bodil.as_str())];

        let r = call(&app, page("/start", Some(&bodil))).await;
        assert!(r.text.contains("/admin/people") && r.text.contains("/admin/delegations"));

        // A delegation to Itsam, through the form, as the API records it.
        let r = call(&app, page("/admin/delegations", Some(&bodil))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("Organisationen har inga delegeringar"));
        assert!(r.text.contains("value=\"itsam\""));
        let csrf = hidden(&r.text, "csrf");
        let before = app.digest();
        let r = call(
            &app,
            form(
                "/admin/delegations",
                &cookies,
                &format!("csrf={csrf}&delegate=itsam&decision_reference=&valid_from=2026-01-01"),
            ),
        )
        .await;
        assert_eq!(r.status, 422, "a delegation needs its reference: {}", r.text);
        assert_eq!(app.digest(), before);
        let r = call(
            &app,
            form(
                "/admin/delegations",
                &cookies,
                &format!(
                    "csrf={csrf}&delegate=itsam&decision_reference=KS+2026%2F9&valid_from=2026-01-01&valid_until="
                ),
            ),
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let r = call(&app, page("/admin/delegations", Some(&bodil))).await;
        assert!(r.text.contains("KS 2026/9") && r.text.contains(">gäller<"), "{}", r.text);
        let id_start = r.text.find("/admin/delegations/").unwrap() + "/admin/delegations/".len();
        let id: String = r.text[id_start..].chars().take_while(|c| *c != '/').collect();
        let r = call(
            &app,
            form(
                &format!("/admin/delegations/{id}/revoke"),
                &cookies,
                &format!("csrf={csrf}&reason=Avtalet+upph%C3%B6rde"),
            ),
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let r = call(&app, page("/admin/delegations", Some(&bodil))).await;
        assert!(r.text.contains("återkallat: Avtalet upphörde"), "{}", r.text);
        let r = call(&app, form(&format!("/admin/delegations/{id}/revoke"), &cookies, &format!("csrf={csrf}"))).await;
        assert_eq!(r.status, 409);

        // People: add one with roles, grant and revoke a role.
        let r = call(&app, page("/admin/people", Some(&bodil))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("Bo") && r.text.contains("samordnare"));
        let r = call(
            &app,
            form("/admin/people", &cookies, &format!("csrf={csrf}&name=Berit+Beslut&role=approver&role=auditor")),
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let token = app.token("boxholm", "Bodil", &[Role::Admin]);
        let list = call(&app, get("/api/v1/people?org=boxholm", Some(&token))).await;
        let berit =
            list.body["people"].as_array().unwrap().iter().find(|p| p["name"] == "Berit Beslut").unwrap().clone();
        assert_eq!(berit["roles"], json!(["approver", "auditor"]));
        let berit_id = berit["person_id"].as_str().unwrap().to_string();
        let r = call(
            &app,
            form(&format!("/admin/people/{berit_id}/roles/auditor/revoke"), &cookies, &format!("csrf={csrf}")),
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let r = call(
            &app,
            form(&format!("/admin/people/{berit_id}/roles"), &cookies, &format!("csrf={csrf}&role=coordinator")),
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let r =
            call(&app, form(&format!("/admin/people/{berit_id}/roles"), &cookies, &format!("csrf={csrf}&role=king")))
                .await;
        assert_eq!(r.status, 422);
        let list = call(&app, get("/api/v1/people?org=boxholm", Some(&token))).await;
        let berit =
            list.body["people"].as_array().unwrap().iter().find(|p| p["name"] == "Berit Beslut").unwrap().clone();
        assert_eq!(berit["roles"], json!(["coordinator", "approver"]));

        // A coordinator gets neither page, and cannot post to them.
        let bo = sign_in(&app, "boxholm", "bo").await;
        for path in ["/admin/people", "/admin/delegations"] {
            assert_eq!(call(&app, page(path, Some(&bo))).await.status, 403, "{path}");
        }
        let r = call(&app, page("/start", Some(&bo))).await;
        let bo_csrf = hidden(&r.text, "csrf");
        let before = app.digest();
        let r = call(
            &app,
            form(
                "/admin/people",
                &[("__Host-tillit_session", &bo)],
                &format!("csrf={bo_csrf}&name=Mallory&role=admin"),
            ),
        )
        .await;
        assert_eq!(r.status, 403);
        assert_eq!(app.digest(), before);
    }
}

#[actix_web::test]
async fn the_service_page_shows_what_changed_between_revisions() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
    set_password(&app, "kinda", "Karin", "karin");
    let service = create_service(&app, &coordinator, "internal-assistant-pass").await;
    let mut doc = example("internal-assistant-pass");
    set_pointer(&mut doc, "/service/short_description", json!("En ny beskrivning av tjänsten."));
    set_pointer(&mut doc, "/service/aliases", json!([]));
    let r =
        call(&app, post_json(&format!("/api/v1/services/{service}/revisions"), Some(&coordinator), doc.to_string()))
            .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let karin = sign_in(&app, "kinda", "karin").await;
    let r = call(&app, page(&format!("/services/{service}"), Some(&karin))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Ändringar sedan förra versionen"), "{}", r.text);
    // The form's names for the fields, not JSON pointers.
    assert!(r.text.contains("<td>Kort beskrivning</td>"), "{}", r.text);
    assert!(r.text.contains("En ny beskrivning av tjänsten."));
    assert!(r.text.contains("<td>Andra namn</td>"), "emptying a list shows");
    // Any two revisions can be compared, with values in words.
    let mut third = doc.clone();
    set_pointer(&mut third, "/vendor/dpa_signed", json!(false));
    set_pointer(&mut third, "/service/service_type", json!("on_premises"));
    let r =
        call(&app, post_json(&format!("/api/v1/services/{service}/revisions"), Some(&coordinator), third.to_string()))
            .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = call(&app, page(&format!("/services/{service}?from=1&to=3"), Some(&karin))).await;
    assert!(r.text.contains("Skillnader mellan version 1 → 3"), "{}", r.text);
    let compared = &r.text[r.text.find("id=\"compare\"").unwrap()..];
    let compared = &compared[..compared.find("</section>").unwrap()];
    for shown in
        ["Finns ett personuppgiftsbiträdesavtal?", "<td>Ja</td>", "<td>Nej</td>", "Egen drift", "Kort beskrivning"]
    {
        assert!(compared.contains(shown), "{shown} not in {compared}");
    }
    let r = call(&app, page(&format!("/services/{service}?from=2&to=2"), Some(&karin))).await;
    assert!(r.text.contains("Versionerna har samma innehåll."));
    // A revision that does not exist is simply not compared.
    let r = call(&app, page(&format!("/services/{service}?from=1&to=9"), Some(&karin))).await;
    assert_eq!(r.status, 200);
    assert!(!r.text.contains("id=\"compare\""));
    // Both revisions are drafts: another organisation sees neither.
    let other = app.token("boxholm", "Bo", &[Role::Coordinator]);
    set_password(&app, "boxholm", "Bo", "bo");
    let bo = sign_in(&app, "boxholm", "bo").await;
    let r = call(&app, page(&format!("/services/{service}"), Some(&bo))).await;
    assert_eq!(r.status, 404, "{}", r.text);
    let _ = other;
}

#[actix_web::test]
async fn a_coordinator_submits_the_latest_draft_and_it_reaches_the_queue() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
        app.token("kinda", "Kalle", &[Role::Approver]);
        set_password(&app, "kinda", "Karin", "karin");
        set_password(&app, "kinda", "Kalle", "kalle");
        let service = create_service(&app, &coordinator, "internal-assistant-pass").await;
        let karin = sign_in(&app, "kinda", "karin").await;
        let r = call(&app, page(&format!("/services/{service}"), Some(&karin))).await;
        assert!(r.text.contains(&format!("/services/{service}/revisions/1/submit")), "{}", r.text);
        let csrf = hidden(&r.text, "csrf");
        // The approver gets no submit button, and may not submit.
        let kalle = sign_in(&app, "kinda", "kalle").await;
        let r = call(&app, page(&format!("/services/{service}"), Some(&kalle))).await;
        assert!(!r.text.contains("/revisions/1/submit"));
        let r = call(&app, page("/start", Some(&kalle))).await;
        assert!(r.text.contains("Inget väntar på beslut"));
        let path = format!("/services/{service}/revisions/1/submit");
        let r = call(&app, form(&path, &[("__Host-tillit_session", &karin)], "csrf=wrong")).await;
        assert_eq!(r.status, 403);
        let r = call(&app, form(&path, &[("__Host-tillit_session", &karin)], &format!("csrf={csrf}"))).await;
        assert_eq!(r.status, 303, "{}", r.text);
        assert!(location(&r).contains("submitted=1"));
        let r = call(&app, page(&format!("/services/{service}?submitted=1"), Some(&karin))).await;
        assert!(r.text.contains("inlämnad för granskning"));
        assert!(!r.text.contains("/revisions/1/submit"), "frozen: no second submission");
        let r = call(&app, form(&path, &[("__Host-tillit_session", &karin)], &format!("csrf={csrf}"))).await;
        assert_eq!(r.status, 409);
        let r = call(&app, page("/start", Some(&kalle))).await;
        assert!(r.text.contains(&format!("/services/{service}")), "now in the approver's queue: {}", r.text);
    }
}
