//! No CSV that Tillit writes carries a formula: cells that a spreadsheet
//! would read as one get a leading `'`; JSON stays exact (docs/security.md, finding 2).

use serde_json::json;
use tillit::auth::Role;

use crate::authz::submit;
use crate::common::*;
use crate::helpers::*;

const NAME: &str = "=HYPERLINK(\"https://evil.example\";\"Klicka\")";
const VENDOR: &str = "@SUM(1+1)";
const REFERENCE: &str = "+46 KS 2026/1";

/// Every cell of a CSV text, with the delimiter given.
fn cells(text: &str, delimiter: u8) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    reader.records().flat_map(|r| r.unwrap().iter().map(str::to_string).collect::<Vec<_>>()).collect()
}

fn assert_no_formula(text: &str, delimiter: u8, what: &str) {
    let cells = cells(text, delimiter);
    for cell in &cells {
        assert!(
            !matches!(cell.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')),
            "{what}: a cell starts like a formula: {cell:?}"
        );
    }
    for planted in [NAME, VENDOR, REFERENCE] {
        assert!(cells.iter().any(|c| *c == format!("'{planted}")), "{what}: {planted} kept, neutralised");
    }
}

#[actix_web::test]
async fn every_csv_neutralises_formulas_and_json_stays_exact() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
        let approver = app.token("kinda", "Kalle", &[Role::Approver]);
        let auditor = app.token("kinda", "Anna", &[Role::Auditor]);
        let mut d = example("internal-assistant-pass");
        set_pointer(&mut d, "/service/name", json!(NAME));
        set_pointer(&mut d, "/vendor/name", json!(VENDOR));
        set_pointer(&mut d, "/transparency/public_register_publication", json!("published"));
        let r = call(&app, post_json("/api/v1/services", Some(&coordinator), serde_json::to_vec(&d).unwrap())).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let service = r.body["service_id"].as_str().unwrap().to_string();
        submit(&app, &coordinator, &service, 1).await;
        let body = json!({"org": "kinda", "revision": 1, "decision": "approved", "reason": "-", "decision_reference": REFERENCE});
        let r =
            call(&app, post_json(&format!("/api/v1/services/{service}/decisions"), Some(&approver), body.to_string()))
                .await;
        assert_eq!(r.status, 201, "{}", r.text);

        let register = call(&app, get("/register/kinda.csv", None)).await;
        assert_eq!(register.status, 200);
        assert_no_formula(&register.text, b',', "register CSV");
        let report = call(&app, get("/api/v1/reports/compliance?format=csv", Some(&auditor))).await;
        assert_eq!(report.status, 200, "{}", report.text);
        assert_no_formula(&report.text, b',', "report CSV");
        let excel = call(&app, get("/api/v1/reports/compliance?format=csv-excel", Some(&auditor))).await;
        assert_eq!(excel.status, 200);
        assert_no_formula(&excel.text, b';', "report csv-excel");

        // JSON is exact.
        let json = call(&app, get("/register/kinda.json", None)).await;
        assert_eq!(json.body["entries"][0]["name"], NAME);
        assert_eq!(json.body["entries"][0]["decision_reference"], REFERENCE);
        let report = call(&app, get("/api/v1/reports/compliance?format=json", Some(&auditor))).await;
        assert_eq!(report.body["rows"][0]["service_name"], NAME);

        // The command line writes the same CSV.
        for (format, delimiter) in [("csv", b','), ("csv-excel", b';')] {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_tillit"))
                .args(["export", "compliance", "--format", format, "--database", &app.db.url_string()])
                .output()
                .unwrap();
            assert!(out.status.success(), "{backend:?}: {}", String::from_utf8_lossy(&out.stderr));
            assert_no_formula(&String::from_utf8(out.stdout).unwrap(), delimiter, "tillit export");
        }
    }
}
