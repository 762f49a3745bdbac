//! The resident's public register: the national register with search,
//! filters and counts, a permanent page per service, and downloads that
//! open in Swedish Excel (a real .xlsx, read back with calamine).

use serde_json::json;
use tillit::auth::Role;

use crate::authz::submit;
use crate::common::*;
use crate::helpers::*;

async fn approved(app: &TestApp, coordinator: &str, approver: &str, name: &str, risk: &str) -> String {
    let mut d = example("internal-assistant-pass");
    set_pointer(&mut d, "/service/name", json!(name));
    set_pointer(&mut d, "/transparency/public_register_publication", json!("published"));
    set_pointer(&mut d, "/assessments/ai_act/risk_class", json!(risk));
    let r = call(app, post_json("/api/v1/services", Some(coordinator), serde_json::to_vec(&d).unwrap())).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["service_id"].as_str().unwrap().to_string();
    submit(app, coordinator, &id, 1).await;
    let body = json!({"org": "kinda", "revision": 1, "decision": "approved", "reason": "ok", "decision_reference": "KS 2026/3"});
    let r = call(app, post_json(&format!("/api/v1/services/{id}/decisions"), Some(approver), body.to_string())).await;
    assert_eq!(r.status, 201, "{}", r.text);
    id
}

#[actix_web::test]
async fn the_register_can_be_searched_filtered_and_downloaded() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let coordinator = app.token("kinda", "Karin", &[Role::Coordinator]);
    let approver = app.token("kinda", "Kalle", &[Role::Approver]);
    let alfa = approved(&app, &coordinator, &approver, "Översättaren", "minimal").await;
    approved(&app, &coordinator, &approver, "Alfa Chatt", "limited_transparency").await;

    // Swedish order (Ö last), counts and filters.
    let r = call(&app, get("/register", None)).await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("<strong>2</strong> tjänster visas"));
    let (a, o) = (r.text.find(">Alfa Chatt<").unwrap(), r.text.find(">Översättaren<").unwrap());
    assert!(a < o, "Swedish alphabetical order");
    assert!(r.text.contains("Minimal risk (1)"), "each choice with its count");
    let r = call(&app, get("/register?risk_class=minimal", None)).await;
    assert!(r.text.contains("<strong>1</strong> tjänster visas") && r.text.contains(">Översättaren<"));
    assert!(!r.text.contains(">Alfa Chatt<"));
    let r = call(&app, get("/register?q=chatt&org=kinda", None)).await;
    assert!(r.text.contains(">Alfa Chatt<") && !r.text.contains(">Översättaren<"));

    // The service's permanent page, in plain words.
    let r = call(&app, get(&format!("/register/kinda/{alfa}"), None)).await;
    assert_eq!(r.status, 200);
    for words in
        ["Sammanfattning", "Mer om tjänsten", "Riskklass enligt AI-förordningen", "Minimal risk", "Beslut om tjänsten"]
    {
        assert!(r.text.contains(words), "{words}");
    }

    // Excel: Swedish headers and labels, one row per service, named by organisation and date.
    let r = call(&app, get("/register/kinda.xlsx", None)).await;
    assert_eq!(r.status, 200);
    let disposition = r.headers.get("content-disposition").unwrap().to_str().unwrap().to_string();
    let today = tillit::swedish::today();
    assert!(disposition.contains(&format!("tillit-kinda-{today}.xlsx")), "{disposition}");
    let rows = xlsx_rows(&r.bytes);
    assert_eq!(rows.len(), 3, "a header and two services");
    assert_eq!(&rows[0][..3], ["Tjänstens id", "Namn", "Leverantör"]);
    assert!(rows[0].contains(&"Riskklass".to_string()) && rows[0].contains(&"Diarienummer".to_string()));
    let row = rows.iter().find(|r| r[1] == "Översättaren").unwrap();
    let col = |header: &str| rows[0].iter().position(|h| h == header).unwrap();
    assert_eq!(row[col("Status")], "Godkänd");
    assert_eq!(row[col("Riskklass")], "Minimal risk");
    assert_eq!(row[col("Diarienummer")], "KS 2026/3");
    let csv = call(&app, get("/register/kinda.csv", None)).await;
    assert!(
        csv.headers
            .get("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .contains(&format!("tillit-kinda-{today}.csv"))
    );
}
