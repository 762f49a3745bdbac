use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::test::{self, TestRequest};
use serde_json::Value;

use crate::common::TestApp;

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
    pub bytes: Vec<u8>,
}

/// Sends one request through the real application.
pub async fn call(app: &TestApp, req: TestRequest) -> Response {
    let service = test::init_service(tillit::build_app(app.state.clone())).await;
    let response = test::call_service(&service, req.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = test::read_body(response).await;
    let text = String::from_utf8_lossy(&bytes).to_string();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Response { status, headers, body, text, bytes: bytes.to_vec() }
}

pub fn post_json(path: &str, token: Option<&str>, body: impl Into<actix_web::web::Bytes>) -> TestRequest {
    let mut req =
        TestRequest::post().uri(path).insert_header(("content-type", "application/json")).set_payload(body.into());
    if let Some(token) = token {
        req = req.insert_header(("authorization", format!("Bearer {token}")));
    }
    req
}

pub fn get(path: &str, token: Option<&str>) -> TestRequest {
    let mut req = TestRequest::get().uri(path);
    if let Some(token) = token {
        req = req.insert_header(("authorization", format!("Bearer {token}")));
    }
    req
}

/// Every error body has the one envelope and leaks nothing internal.
pub fn assert_envelope(response: &Response, status: u16, code: &str) {
    assert_eq!(response.status.as_u16(), status, "{}", response.text);
    let error = &response.body["error"];
    assert_eq!(error["status"], status, "{}", response.text);
    assert_eq!(error["code"], code, "{}", response.text);
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(error["message_sv"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(error["error_id"].as_str().is_some_and(|m| m.len() == 12));
    assert_no_internals(&response.text);
}

pub fn assert_no_internals(text: &str) {
    for marker in [
        "diesel",
        "sqlite",
        "SQLITE",
        "postgres",
        "SELECT ",
        "INSERT ",
        "src/",
        ".rs:",
        "panicked",
        "backtrace",
        "tillit::",
    ] {
        assert!(!text.contains(marker), "internal marker {marker:?} in {text}");
    }
}

/// The rule set with one more check: training material is required when
/// training is (a new check R2.5). The directory must outlive its use.
pub fn stricter_policies() -> (tempfile::TempDir, tillit::policy::PolicySet) {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/policies")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let path = dir.path().join("r2-transparency.policy.json");
    let mut policy: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    policy["$defs"]["R2.5"] = serde_json::json!({
        "x-tillit-check": {"id": "R2.5", "message": {"sv": "Utbildningsmaterial saknas.", "en": "Training material is missing."}},
        "if": {"properties": {"ai_literacy": {"properties": {"training_required": {"const": true}}}}},
        "then": {"properties": {"ai_literacy": {"properties": {"training_material_url": {"$ref": "#/$defs/nonEmptyText"}}}}}
    });
    policy["allOf"].as_array_mut().unwrap().push(serde_json::json!({"$ref": "#/$defs/R2.5"}));
    std::fs::write(&path, serde_json::to_string_pretty(&policy).unwrap()).unwrap();
    let policies = tillit::policy::load(Some(dir.path())).unwrap();
    (dir, policies)
}

/// Every cell of an `.xlsx` file's first sheet, row by row, read with calamine.
pub fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = workbook.sheet_names()[0].clone();
    let range = workbook.worksheet_range(&sheet).unwrap();
    range.rows().map(|row| row.iter().map(|c| c.to_string()).collect()).collect()
}
