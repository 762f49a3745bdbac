use super::*;

#[test]
fn only_localhost_may_use_plain_http() {
    assert!(secure_enough("https://login.microsoftonline.com/x/v2.0"));
    assert!(secure_enough("http://localhost:3000"));
    assert!(secure_enough("http://127.0.0.1:3000/oidc"));
    assert!(!secure_enough("http://idp.example.se"));
    assert!(!secure_enough("http://localhost.evil.example:80"));
    assert!(!secure_enough("ftp://localhost"));
}

#[test]
fn the_settings_file_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sso.json");
    let write = |text: &str| std::fs::write(&path, text).unwrap();
    write(
        r#"{"public_url": "https://tillit.example.se/", "providers": [
        {"org": "boxholm", "label": "Boxholm", "issuer": "https://idp.example.se", "client_id": "tillit", "client_secret": "s"}]}"#,
    );
    let settings = load(&path).unwrap();
    assert_eq!(settings.redirect_url, "https://tillit.example.se/login/sso/callback");
    assert_eq!(settings.provider("boxholm").unwrap().scopes, vec!["profile".to_string()]);
    assert!(!format!("{settings:?}").contains("\"s\""), "the secret is not in debug output");
    write(r#"{"public_url": "http://tillit.example.se", "providers": []}"#);
    assert!(load(&path).unwrap_err().contains("https"));
    write(
        r#"{"public_url": "https://t.example.se", "providers": [
        {"org": "a", "label": "A", "issuer": "http://idp.example.se", "client_id": "x"}]}"#,
    );
    assert!(load(&path).unwrap_err().contains("https"));
    write(
        r#"{"public_url": "https://t.example.se", "providers": [
        {"org": "a", "label": "A", "issuer": "https://idp.example.se", "client_id": "x", "client_secret_env": "TILLIT_TEST_NO_SUCH_VARIABLE"}]}"#,
    );
    assert!(load(&path).unwrap_err().contains("TILLIT_TEST_NO_SUCH_VARIABLE"));
    write(r#"{"public_url": "https://t.example.se", "providers": [], "extra": 1}"#);
    assert!(load(&path).is_err(), "unknown keys are errors");
}
