//! Single sign-on without a provider: the routes' refusals, and how an
//! identity becomes a person. The whole flow against a real OpenID Connect
//! provider (oidc-provider), with forged tokens, is in tests/browser.

use actix_web::cookie::Cookie;
use actix_web::test::TestRequest;
use tillit::auth::Role;
use tillit::auth::oidc::{self, Identity};
use tillit::db::Backend;

use crate::common::*;
use crate::helpers::*;
use crate::web::{location, page};

/// An app whose Boxholm signs in at a provider that is not there.
fn app_with_sso(backend: Backend) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sso.json");
    std::fs::write(
        &path,
        r#"{"public_url": "http://localhost:8080", "providers": [
            {"org": "boxholm", "label": "Boxholms kommun (Entra ID)", "issuer": "http://127.0.0.1:9",
             "client_id": "tillit", "client_secret": "hemligt"}]}"#,
    )
    .unwrap();
    let sso = oidc::load(&path).unwrap();
    (TestApp::with_settings(backend, |s| s.sso = sso), dir)
}

fn callback(query: &str, state_cookie: Option<&str>) -> TestRequest {
    let mut req = page(&format!("/login/sso/callback?{query}"), None);
    if let Some(state) = state_cookie {
        req = req.cookie(Cookie::new("__Host-tillit_sso", state.to_string()));
    }
    req
}

#[actix_web::test]
async fn sign_in_routes_refuse_what_they_cannot_confirm() {
    for backend in backends() {
        let (app, _dir) = app_with_sso(backend);
        let r = call(&app, page("/login", None)).await;
        assert!(r.text.contains("href=\"/login/sso/boxholm?next&#x3D;%2Fstart\""), "{}", r.text);
        assert!(r.text.contains("Boxholms kommun (Entra ID)"));
        // An organisation without a provider.
        assert_eq!(call(&app, page("/login/sso/kinda", None)).await.status, 404);
        // The provider does not answer: a clear page, not a hang or a 500.
        let r = call(&app, page("/login/sso/boxholm", None)).await;
        assert_eq!(r.status, 503, "{}", r.text);
        let before = app.digest();
        for (query, cookie) in [
            ("code=abc&state=s1", None),
            ("code=abc&state=s1", Some("s2")),
            ("code=abc&state=s1", Some("s1")),
            ("state=s1", Some("s1")),
            ("error=access_denied&state=s1", Some("s1")),
            ("error=%3Cscript%3E", None),
        ] {
            let r = call(&app, callback(query, cookie)).await;
            assert_eq!(r.status, 403, "{query}: {}", r.text);
            assert!(r.text.contains("Inloggningen kunde inte bekräftas"), "{query}");
            assert!(!r.text.contains("<script>"));
            assert!(
                !r.headers.get_all("set-cookie").any(|c| c.to_str().unwrap().starts_with("__Host-tillit_session=")),
                "{query}: a session"
            );
        }
        assert_eq!(app.digest(), before, "refusals change nothing");
        // Without single sign-on configured, the routes do not exist.
        let plain = TestApp::new(backend);
        assert!(!call(&plain, page("/login", None)).await.text.contains("/login/sso/"));
        assert_eq!(call(&plain, page("/login/sso/boxholm", None)).await.status, 404);
        let r = call(&plain, page("/start", None)).await;
        assert_eq!(location(&r), "/login?next=%2Fstart");
    }
}

#[actix_web::test]
async fn an_identity_becomes_one_person_in_the_providers_organisation() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let mut conn = app.state.db.get().unwrap();
        let sara =
            Identity { issuer: "https://idp.boxholm.example".into(), subject: "s-1".into(), name: "Sara S".into() };
        let first = oidc::sign_in(&mut conn, "boxholm", &sara).unwrap();
        let again = oidc::sign_in(&mut conn, "boxholm", &sara).unwrap();
        assert_eq!(first.user_id, again.user_id, "the same identity is the same person");
        assert_ne!(first.id, again.id, "a new session each time");
        let web = tillit::auth::sessions::authenticate(&mut conn, &again.id).unwrap();
        assert_eq!(web.actor.org_slug, "boxholm");
        assert!(web.actor.roles.is_empty(), "a new person has no roles until an admin grants them");

        // The same identity through another organisation's sign-in: refused.
        assert!(matches!(oidc::sign_in(&mut conn, "kinda", &sara), Err(tillit::error::AppError::Forbidden { .. })));

        // A person an admin added beforehand is linked by name on first
        // sign-in and keeps their roles; a second identity with that name is refused.
        app.token("boxholm", "Bo Berg", &[Role::Coordinator]);
        let bo =
            Identity { issuer: "https://idp.boxholm.example".into(), subject: "b-1".into(), name: "Bo Berg".into() };
        let session = oidc::sign_in(&mut conn, "boxholm", &bo).unwrap();
        let web = tillit::auth::sessions::authenticate(&mut conn, &session.id).unwrap();
        assert_eq!(web.actor.roles, vec![Role::Coordinator]);
        let impostor = Identity { subject: "b-2".into(), ..bo.clone() };
        assert!(matches!(
            oidc::sign_in(&mut conn, "boxholm", &impostor),
            Err(tillit::error::AppError::Forbidden { .. })
        ));

        // A deactivated person cannot sign in through the provider either.
        let admin = app.token("boxholm", "Bodil", &[Role::Admin]);
        let r = call(&app, post_json(&format!("/api/v1/people/{}/deactivate", first.user_id), Some(&admin), "")).await;
        assert!(r.status.is_success(), "{}", r.text);
        assert!(oidc::sign_in(&mut conn, "boxholm", &sara).is_err());
    }
}
