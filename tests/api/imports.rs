//! Importing an existing inventory: a CSV or `.xlsx` file, one service a row,
//! becomes drafts of the organisation with a report per row; the same file
//! again updates the same drafts; a file that cannot be read changes nothing.

use actix_web::test::TestRequest;
use tillit::auth::Role;

use crate::common::*;
use crate::helpers::*;
use crate::web::{hidden, page, set_password, sign_in};

const SESSION: &str = "__Host-tillit_session";

/// Swedish Excel's "CSV (semikolonavgränsad)": Windows-1252, semicolons, CRLF.
fn inventory_csv() -> Vec<u8> {
    let text = "Tjänstens namn;Leverantör;Fas;Möter tjänsten invånare direkt?;Förmågor;Okänd kolumn\r\n\
                Tolken;Acme AB;Pilot;Ja;Översättning, skapar text;x\r\n\
                Skrivhjälpen;;inte en fas;nej;;\r\n\
                ;Utan namn AB;;;;\r\n\
                tolken ;Dubbletten AB;;;;\r\n";
    encoding_rs::WINDOWS_1252.encode(text).0.into_owned()
}

fn upload(org: &str, token: Option<&str>, bytes: Vec<u8>) -> TestRequest {
    let mut req = TestRequest::post().uri(&format!("/api/v1/imports?org={org}")).set_payload(bytes);
    if let Some(token) = token {
        req = req.insert_header(("authorization", format!("Bearer {token}")));
    }
    req
}

fn drafts(app: &TestApp, org: &str) -> Vec<tillit::submissions::store::DraftRow> {
    let mut conn = app.state.db.get().unwrap();
    tillit::submissions::service::drafts_of(&mut conn, org, 100).unwrap()
}

#[actix_web::test]
async fn an_inventory_becomes_drafts_once_and_a_bad_file_changes_nothing() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let karin = app.token("kinda", "Karin", &[Role::Coordinator]);

        let r = call(&app, upload("kinda", Some(&karin), inventory_csv())).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let report = &r.body;
        assert_eq!((report["created"].as_u64(), report["updated"].as_u64()), (Some(2), Some(0)), "{report}");
        assert_eq!(report["skipped"], 2, "a row without a name and a second 'tolken' are skipped");
        assert_eq!(report["ignored_columns"], serde_json::json!(["Okänd kolumn"]));
        let rows = report["rows"].as_array().unwrap();
        assert_eq!(rows[0]["row"], 2);
        assert_eq!(rows[0]["outcome"], "created");
        let filled: Vec<&str> = rows[0]["filled"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
        assert_eq!(
            filled,
            [
                "/service/name",
                "/vendor/name",
                "/service/phase",
                "/service/interacts_directly_with_residents",
                "/service/capabilities"
            ]
        );
        assert!(rows[0]["missing"].as_array().unwrap().iter().any(|p| p == "/service/short_description"));
        assert_eq!(rows[1]["problems"][0]["column"], "Fas", "an unknown phase is reported, not imported");
        assert_eq!(rows[2]["outcome"], "skipped");
        assert_eq!(rows[3]["same_as_row"], 2);

        let made = drafts(&app, "kinda");
        assert_eq!(made.len(), 2);
        let tolken = made.iter().find(|d| d.document.contains("Tolken")).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&tolken.document).unwrap();
        assert_eq!(doc["service"]["phase"], "pilot", "a choice written as its Swedish label");
        assert_eq!(doc["service"]["interacts_directly_with_residents"], true);
        assert_eq!(doc["vendor"]["name"], "Acme AB");

        // The same file again: the same drafts, updated, and what a
        // coordinator added meanwhile stays.
        let mut conn = app.state.db.get().unwrap();
        let actor = tillit::auth::service::authenticate(&mut conn, &tillit::ids::hash_token(&karin)).unwrap();
        let mut edited = doc.clone();
        edited["service"]["short_description"] = serde_json::json!("Översätter text.");
        tillit::submissions::service::save_draft(&mut conn, &actor, &tolken.id, &edited).unwrap();
        drop(conn);
        let r = call(&app, upload("kinda", Some(&karin), inventory_csv())).await;
        assert_eq!((r.body["created"].as_u64(), r.body["updated"].as_u64()), (Some(0), Some(2)), "{}", r.text);
        let again = drafts(&app, "kinda");
        assert_eq!(again.len(), 2, "no duplicates");
        let tolken = again.iter().find(|d| d.id == tolken.id).unwrap();
        assert!(tolken.document.contains("Översätter text."), "the coordinator's answer stays");

        // A row whose service is registered meanwhile makes no draft of it again.
        let mut doc = example("internal-assistant-pass");
        set_pointer(&mut doc, "/service/name", serde_json::json!("Skrivhjälpen"));
        let r = call(&app, post_json("/api/v1/services", Some(&karin), doc.to_string())).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let service = r.body["service_id"].as_str().unwrap().to_string();
        let r = call(&app, upload("kinda", Some(&karin), inventory_csv())).await;
        assert_eq!(r.body["rows"][1]["outcome"], "already_registered", "{}", r.text);
        assert_eq!(r.body["rows"][1]["service_id"], service.as_str());
        assert_eq!(drafts(&app, "kinda").len(), 2);

        // Files that are no inventory: a clear error, and nothing changes.
        let before = app.digest();
        for (bytes, status, code) in [
            (b"PK\x03\x04garbage".to_vec(), 422, "invalid_import"),
            ("Leverantör;Fas\r\nAcme;Pilot\r\n".as_bytes().to_vec(), 422, "invalid_import"),
            (Vec::new(), 422, "invalid_import"),
            (vec![b'a'; 6 * 1024 * 1024], 413, "payload_too_large"),
        ] {
            let r = call(&app, upload("kinda", Some(&karin), bytes)).await;
            assert_envelope(&r, status, code);
        }
        let r = call(&app, upload("kinda", Some(&karin), "Tjänstens namn\r\nA\r\n".into())).await;
        assert_eq!(r.status, 200);
        assert_ne!(app.digest(), before, "a good file does change something (the check above means something)");

        // Who may import where.
        let auditor = app.token("kinda", "Agnes", &[Role::Auditor]);
        let before = app.digest();
        assert_envelope(&call(&app, upload("kinda", Some(&auditor), inventory_csv())).await, 403, "forbidden");
        assert_envelope(&call(&app, upload("ydre", Some(&karin), inventory_csv())).await, 403, "forbidden");
        assert_envelope(
            &call(&app, upload("nowhere", Some(&karin), inventory_csv())).await,
            404,
            "unknown_organisation",
        );
        assert_eq!(call(&app, upload("kinda", None, inventory_csv())).await.status, 401);
        // Who asks is checked before a byte of the file is read.
        let big = vec![b'a'; 6 * 1024 * 1024];
        assert_envelope(&call(&app, upload("kinda", Some(&auditor), big.clone())).await, 403, "forbidden");
        assert_eq!(call(&app, upload("kinda", None, big)).await.status, 401);
        assert_eq!(app.digest(), before);
    }
}

#[actix_web::test]
async fn the_template_is_an_excel_file_that_imports_once_filled_in() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let karin = app.token("kinda", "Karin", &[Role::Coordinator]);
    let r = call(&app, get("/api/v1/import-template.xlsx", None)).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.headers.get("content-type").unwrap(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let header = &xlsx_rows(&r.bytes)[0];
    assert_eq!(header[0], "Tjänstens namn");
    assert!(header.iter().any(|h| h == "Leverantör"));
    let r = call(&app, get("/api/v1/import-template.xlsx?lang=en", None)).await;
    assert_eq!(xlsx_rows(&r.bytes)[0][0], "Name of the service");

    // Filled in as a coordinator would: the template's own columns, a row of values.
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (i, name) in header.iter().enumerate() {
        sheet.write_string(0, i as u16, name).unwrap();
    }
    let column = |name: &str| header.iter().position(|h| h == name).unwrap() as u16;
    sheet.write_string(1, column("Tjänstens namn"), "Protokollskrivaren").unwrap();
    sheet.write_string(1, column("Fas"), "I bruk").unwrap();
    sheet.write_number(1, column("Lagringstid för frågor och svar (dagar)"), 30.0).unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    let r = call(&app, upload("kinda", Some(&karin), bytes)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["created"], 1);
    let draft = &drafts(&app, "kinda")[0];
    let doc: serde_json::Value = serde_json::from_str(&draft.document).unwrap();
    assert_eq!(doc["service"]["phase"], "in_use");
    assert_eq!(doc["data"]["retention"]["prompts_and_outputs_days"], 30, "a number cell is a whole number");
}

fn multipart(csrf: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----tillit-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\n\
         Content-Disposition: form-data; name=\"file\"; filename=\"förteckning.csv\"\r\nContent-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn post_upload(session: &str, csrf: &str, file: &[u8]) -> TestRequest {
    let (content_type, body) = multipart(csrf, file);
    TestRequest::post()
        .uri("/import")
        .insert_header(("content-type", content_type))
        .insert_header(("accept", "text/html"))
        .insert_header(("sec-fetch-site", "same-origin"))
        .cookie(actix_web::cookie::Cookie::new(SESSION, session.to_string()))
        .set_payload(body)
}

#[actix_web::test]
async fn a_coordinator_imports_on_the_page_and_reads_the_report() {
    for backend in backends() {
        let app = TestApp::new(backend);
        app.token("kinda", "Karin", &[Role::Coordinator]);
        set_password(&app, "kinda", "Karin", "karin");
        let karin = sign_in(&app, "kinda", "karin").await;
        let r = call(&app, page("/start", Some(&karin))).await;
        assert!(r.text.contains("href=\"/import?lang=sv\""), "the start page links the import");
        let r = call(&app, page("/import", Some(&karin))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("enctype=\"multipart/form-data\""));
        assert!(r.text.contains("/api/v1/import-template.xlsx?lang=sv"));
        let csrf = hidden(&r.text, "csrf");

        let r = call(&app, post_upload(&karin, &csrf, &inventory_csv())).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("2 nya utkast, 0 uppdaterade, 2 rader hoppades över."), "{}", r.text);
        assert!(r.text.contains("Nytt utkast"));
        assert!(r.text.contains("Hoppades över: samma namn som rad 2"));
        assert!(r.text.contains("Kolumnen ”Fas”: värdet ”inte en fas” känns inte igen och lästes inte."));
        assert!(r.text.contains("Kort beskrivning"), "what remains is named as the form names it");
        assert!(r.text.contains("uppgifter återstår</summary>"), "what remains is counted first, listed on request");
        assert!(!r.text.contains("/service/"), "no pointers shown to a person");
        // The imported draft opens judged: what is missing shows at once.
        let link = r.text.split("href=\"/drafts/").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
        let r = call(&app, page(&format!("/drafts/{link}"), Some(&karin))).await;
        assert_eq!(r.status, 200);
        assert!(r.text.contains("class=\"error-summary\""), "{}", r.text);

        // A file that is no inventory: the form again, with the reason.
        let r = call(&app, post_upload(&karin, &csrf, b"Leverant\xf6r\r\nAcme\r\n")).await;
        assert_eq!(r.status, 200);
        assert!(r.text.contains("Filen saknar kolumnen ”Tjänstens namn”"), "{}", r.text);
        // Without a session: to the sign-in page, before the file is read.
        let r = call(&app, post_upload("not-a-session", "x", &vec![b'a'; 6 * 1024 * 1024])).await;
        assert_eq!(r.status, 303);
        // Without the form's token: refused, nothing imported.
        let before = app.digest();
        let r = call(&app, post_upload(&karin, "wrong", &inventory_csv())).await;
        assert_eq!(r.status, 403);
        assert_eq!(app.digest(), before);

        // Someone who does not describe services is not offered the page.
        app.token("kinda", "Agnes", &[Role::Auditor]);
        set_password(&app, "kinda", "Agnes", "agnes");
        let agnes = sign_in(&app, "kinda", "agnes").await;
        assert_eq!(call(&app, page("/import", Some(&agnes))).await.status, 403);
    }
}

#[test]
fn tillit_import_on_the_command_line_reports_in_swedish() {
    for backend in backends() {
        let app = TestApp::new(backend);
        app.token("kinda", "Karin", &[Role::Coordinator]);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("förteckning.csv");
        std::fs::write(&file, inventory_csv()).unwrap();
        let run = |extra: &[&str]| {
            std::process::Command::new(env!("CARGO_BIN_EXE_tillit"))
                .arg("import")
                .arg(&file)
                .args(["--org", "kinda", "--database", &app.db.url_string()])
                .args(extra)
                .output()
                .unwrap()
        };
        let out = run(&["--as", "Karin"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.starts_with("2 nya utkast, 0 uppdaterade, 2 rader hoppades över."), "{stdout}");
        assert!(stdout.contains("Rad 2: Tolken  Nytt utkast"), "{stdout}");
        // Again, without --as (Karin is the only coordinator), as JSON.
        let out = run(&["--format", "json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["updated"], 2);
        assert_eq!(drafts(&app, "kinda").len(), 2);
        // Someone unknown: a clear error and a failing exit.
        let out = run(&["--as", "Okänd"]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("Det finns ingen aktiv person som heter ”Okänd”"));
    }
}

#[actix_web::test]
async fn the_template_comes_in_swedish_or_english_and_nothing_else() {
    let app = TestApp::new(tillit::db::Backend::Sqlite);
    let r = call(&app, get("/api/v1/import-template.xlsx?lang=%C2%84", None)).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = call(&app, get("/api/v1/import-template.xlsx?lang=sv", None)).await;
    assert_eq!(r.status, 200);
}
