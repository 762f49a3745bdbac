//! Compliance reports (formats, filters, point in time, permissions) and
//! rule-set changes (re-evaluation flags exactly the approvals that got worse).

use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};
use tillit::auth::Role;
use tillit::policy::reevaluate::JobState;

use crate::authz::submit;
use crate::common::*;
use crate::helpers::*;

struct World {
    app: TestApp,
    coordinator: String,
    approver: String,
    auditor: String,
}

impl World {
    fn new(backend: tillit::db::Backend) -> World {
        let app = TestApp::new(backend);
        World {
            coordinator: app.token("kinda", "Karin", &[Role::Coordinator]),
            approver: app.token("kinda", "Kalle Beslutare", &[Role::Approver]),
            auditor: app.token("itsam", "Irene", &[Role::Auditor]),
            app,
        }
    }

    async fn service(&self, doc: &Value) -> String {
        let r =
            call(&self.app, post_json("/api/v1/services", Some(&self.coordinator), serde_json::to_vec(doc).unwrap()))
                .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let id = r.body["service_id"].as_str().unwrap().to_string();
        submit(&self.app, &self.coordinator, &id, 1).await;
        id
    }

    /// Adds and submits revision `revision` of a service.
    async fn revise(&self, service: &str, doc: &Value, revision: i32) {
        let r = call(
            &self.app,
            post_json(
                &format!("/api/v1/services/{service}/revisions"),
                Some(&self.coordinator),
                serde_json::to_vec(doc).unwrap(),
            ),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        submit(&self.app, &self.coordinator, service, revision).await;
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

    async fn report(&self, query: &str) -> Response {
        call(&self.app, get(&format!("/api/v1/reports/compliance?{query}"), Some(&self.auditor))).await
    }
}

fn named(name: &str) -> Value {
    let mut d = example("internal-assistant-pass");
    set_pointer(&mut d, "/service/name", json!(name));
    d
}

fn rows(r: &Response) -> Vec<Value> {
    r.body["rows"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn every_format_and_filter_on_every_backend() {
    for backend in backends() {
        let w = World::new(backend);
        let a = w.service(&named("Alfa")).await;
        let b = w.service(&named("Beta")).await;
        let mut high = example("high-risk-decision-support-pass");
        set_pointer(&mut high, "/service/name", json!("Gamma"));
        let c = w.service(&high).await;
        let soon = (tillit::swedish::today() + Duration::days(20)).format("%Y-%m-%d").to_string();
        w.decide(
            &a,
            json!({"org": "kinda", "revision": 1, "decision": "approved_with_conditions", "decision_reference": "KS 1",
            "conditions": [{"type": "no_personal_data"}], "valid_until": soon}),
        )
        .await;
        w.decide(&b, json!({"org": "kinda", "revision": 1, "decision": "rejected", "reason": "Nej"})).await;
        let _ = c;

        // JSON: follows its schema, one row per service × organisation.
        let r = w.report("format=json").await;
        assert_eq!(r.status, 200, "{}", r.text);
        let schema: Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/compliance-report.schema.json"))
                .unwrap(),
        )
        .unwrap();
        let validator = jsonschema::options().should_validate_formats(true).build(&schema).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&r.body).map(|e| format!("{} {e}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(r.body["row_count"], 3);
        assert_eq!(
            r.body["audit_head_seq"].as_i64().unwrap(),
            tillit::audit::store::head(&mut w.app.state.db.get().unwrap()).unwrap().0
        );
        let alfa = rows(&r).into_iter().find(|x| x["service_name"] == "Alfa").unwrap();
        assert_eq!(alfa["status"], "allowed_with_conditions");
        assert_eq!(alfa["decided_by_name"], "Kalle Beslutare", "auditors see the person");
        assert_eq!(alfa["deciding_function"], "Kinda kommuns AI-funktion");
        assert_eq!(alfa["expiring_within_60_days"], true);
        assert_eq!(alfa["conditions"], json!(["utan personuppgifter"]));
        assert!(alfa["rule_outcomes_at_decision"].as_str().unwrap().starts_with("R1=pass,R2=pass"));
        assert_eq!(alfa["rule_set_version_at_decision"], alfa["rule_set_version_now"]);

        // Filters.
        assert_eq!(rows(&w.report("format=json&status=not_allowed").await).len(), 1);
        assert_eq!(rows(&w.report("format=json&status=not_assessed").await)[0]["service_name"], "Gamma");
        assert_eq!(rows(&w.report("format=json&risk_class=high_risk").await).len(), 1);
        assert_eq!(rows(&w.report("format=json&expiring_within_days=30").await).len(), 1);
        assert_eq!(rows(&w.report("format=json&expiring_within_days=10").await).len(), 0);
        assert_eq!(rows(&w.report("format=json&org=boxholm").await).len(), 0);

        // CSV for machines, and for Swedish Excel.
        let csv = w.report("format=csv").await;
        assert_eq!(csv.headers.get("content-type").unwrap(), "text/csv; charset=utf-8");
        let header = csv.text.lines().next().unwrap();
        assert!(header.starts_with("service_id,service_name,vendor"));
        // Swedish words beside the codes, after them.
        assert!(
            header.ends_with(",conditions,owner_org_name_sv,risk_class_sv,org_name_sv,status_sv,decision_sv"),
            "{header}"
        );
        let alfa = csv.text.lines().find(|l| l.contains("Alfa")).unwrap();
        assert!(
            alfa.contains(",allowed_with_conditions,") && alfa.ends_with(",Godkänd med villkor,Godkänd med villkor"),
            "{alfa}"
        );
        assert_eq!(csv.text.lines().count(), 4);
        let excel = w.report("format=csv-excel").await;
        assert!(excel.text.starts_with('\u{feff}'), "a byte-order mark for Excel");
        assert!(excel.text.contains("service_id;service_name;vendor"));
        assert!(excel.text.contains("\r\n"));
        // HTML: print-ready, with the filter, the time of export and the chain head.
        let html = w.report("format=html&status=allowed_with_conditions").await;
        assert_eq!(html.headers.get("content-type").unwrap(), "text/html; charset=utf-8");
        // In words: the status's label, the organisation's name, "–" for none.
        assert!(html.text.contains("<dt>Urval</dt><dd>Godkänd med villkor</dd>"), "{}", html.text);
        assert!(html.text.contains("<td>Kinda kommun</td>") || html.text.contains("<td>Kinda</td>"), "{}", html.text);
        assert!(!html.text.contains("allowed_with_conditions") && !html.text.contains(">kinda<"));
        let disposition = html.headers.get("content-disposition").unwrap().to_str().unwrap().to_string();
        assert!(disposition.contains(&format!("tillit-efterlevnad-alla-{}.html", tillit::swedish::today())));
        assert!(html.text.contains(r.body["audit_head_hash"].as_str().unwrap()));
        assert!(html.text.contains("/static/report.css") && !html.text.contains("<script"));
        assert!(html.text.contains("Alfa") && !html.text.contains("Beta"));

        // Excel for auditors: Swedish headers, labels and names, "–" for none.
        let x = w.report("format=xlsx&org=kinda").await;
        assert_eq!(x.status, 200);
        assert_eq!(
            x.headers.get("content-type").unwrap(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        let disposition = x.headers.get("content-disposition").unwrap().to_str().unwrap().to_string();
        assert!(disposition.contains(&format!("tillit-efterlevnad-kinda-{}.xlsx", tillit::swedish::today())));
        let sheet = xlsx_rows(&x.bytes);
        assert_eq!(sheet.len(), 4, "a header and three services");
        assert_eq!(&sheet[0][..3], ["Tjänst", "Leverantör", "Tjänstens id"]);
        let col = |header: &str| sheet[0].iter().position(|h| h == header).unwrap_or_else(|| panic!("{header}"));
        let alfa = sheet.iter().find(|r| r[0] == "Alfa").unwrap();
        assert_eq!(alfa[col("Status")], "Godkänd med villkor");
        assert_eq!(alfa[col("Beslut")], "Godkänd med villkor");
        assert_eq!(alfa[col("Diarienummer")], "KS 1");
        assert_eq!(alfa[col("Organisation")], alfa[col("Ägs av")]);
        assert!(!alfa[col("Organisation")].is_empty() && alfa[col("Organisation")] != "kinda");
        assert_eq!(alfa[col("Riskklass")], "Begränsad risk, krav på transparens");
        assert_eq!(alfa[col("Gäller till och med")], soon);
        assert_eq!(alfa[col("Går ut inom 60 dagar")], "Ja");
        assert!(alfa[col("AI-reglerna i dag")].starts_with("R1 uppfylls"), "{:?}", alfa);
        let beta = sheet.iter().find(|r| r[0] == "Beta").unwrap();
        assert_eq!(beta[col("Beslut")], "Avslag");
        assert_eq!(beta[col("Diarienummer")], "–");
        let gamma = sheet.iter().find(|r| r[0] == "Gamma").unwrap();
        assert_eq!(gamma[col("Beslut")], "–");
        assert_eq!(gamma[col("Status")], "Inte bedömd");
        assert_eq!(gamma[col("Riskklass")], "Hög risk");

        // Bad filters get clear answers.
        assert_envelope(&w.report("format=pdf").await, 422, "invalid_format");
        assert_envelope(&w.report("status=maybe").await, 422, "invalid_status");
        assert_envelope(&w.report("as_of=27/11/2026").await, 422, "invalid_date");
        assert_envelope(&w.report("org=stockholm").await, 404, "unknown_organisation");
        assert_envelope(&w.report("risk_class=scary").await, 422, "invalid_risk_class");
    }
}

#[actix_web::test]
async fn coordinators_and_the_public_cannot_export() {
    let w = World::new(tillit::db::Backend::Sqlite);
    let r = call(&w.app, get("/api/v1/reports/compliance", Some(&w.coordinator))).await;
    assert_envelope(&r, 403, "forbidden");
    let r = call(&w.app, get("/api/v1/reports/compliance", Some(&w.approver))).await;
    assert_envelope(&r, 403, "forbidden");
    let r = call(&w.app, get("/api/v1/reports/compliance", None)).await;
    assert_envelope(&r, 401, "unauthorized");
    let admin = w.app.token("kinda", "Admin", &[Role::Admin]);
    let r = call(&w.app, get("/api/v1/reports/compliance", Some(&admin))).await;
    assert_eq!(r.status, 200);
}

#[actix_web::test]
async fn as_of_rebuilds_each_day_from_the_history() {
    for backend in backends() {
        let w = World::new(backend);
        let s = w.service(&named("Historik")).await;
        let today = tillit::swedish::today();
        let day = |n: i64| today + Duration::days(n);
        // The history: approved on day 1, revoked on day 2, approved with
        // conditions on day 3, flagged nothing; written as the records are.
        let mut conn = w.app.state.db.get().unwrap();
        let revision = tillit::submissions::store::find_revision(&mut conn, &s, 1).unwrap().unwrap();
        let approver_id: String = {
            use diesel::prelude::*;
            tillit::db::schema::users::table
                .filter(tillit::db::schema::users::name.eq("Kalle Beslutare"))
                .select(tillit::db::schema::users::id)
                .first(&mut *conn)
                .unwrap()
        };
        let at = |d: NaiveDate| d.and_hms_opt(10, 0, 0).unwrap();
        let decision = |id: &str, kind: &str, on: NaiveDate, conditions: &str, revoked: Option<NaiveDate>| {
            tillit::approvals::store::DecisionRow {
                id: id.into(),
                service_id: s.clone(),
                revision_id: revision.id.clone(),
                revision: 1,
                org_slug: "kinda".into(),
                decision: tillit::approvals::model::DecisionKind::parse(kind).unwrap(),
                conditions: conditions.into(),
                reason: None,
                valid_until: Some(day(200)),
                decision_reference: Some(format!("KS {id}")),
                decided_by: approver_id.clone(),
                deciding_org_slug: "kinda".into(),
                via_delegation_id: None,
                submitted_by: revision.submitted_by.clone().unwrap(),
                rule_set_version: w.app.state.policies().version().into(),
                verdict: tillit::policy::Verdict::Pass,
                decided_at: at(on),
                revoked_at: revoked.map(at),
                revoked_by: revoked.map(|_| approver_id.clone()),
                revocation_reason: revoked.map(|_| "Brister".to_string()),
                public_reason: None,
            }
        };
        tillit::db::write(&mut conn, |conn| {
            for row in [
                decision("d1", "approved", day(1), "[]", Some(day(2))),
                decision(
                    "d2",
                    "approved_with_conditions",
                    day(3),
                    r#"[{"type":"no_personal_data","value":true}]"#,
                    None,
                ),
            ] {
                tillit::approvals::store::insert_decision(conn, &row)?;
                tillit::audit::append(
                    conn,
                    tillit::audit::NewEvent::new(
                        tillit::audit::AuditAction::DecisionRecorded,
                        Some(&approver_id),
                        Some("kinda"),
                    )
                    .subject(&row),
                )?;
            }
            Ok(())
        })
        .unwrap();
        drop(conn);
        let status_on = |n: i64| {
            let w = &w;
            async move {
                let r = w.report(&format!("format=json&org=kinda&as_of={}", day(n).format("%Y-%m-%d"))).await;
                assert_eq!(r.status, 200, "{}", r.text);
                let row = rows(&r).into_iter().find(|x| x["service_name"] == "Historik").unwrap();
                (row["status"].as_str().unwrap().to_string(), row["decision_reference"].clone())
            }
        };
        assert_eq!(status_on(0).await.0, "not_assessed", "{backend:?}");
        assert_eq!(status_on(1).await, ("allowed".to_string(), json!("KS d1")));
        assert_eq!(status_on(2).await.0, "not_allowed", "revoked on day 2");
        assert_eq!(status_on(3).await, ("allowed_with_conditions".to_string(), json!("KS d2")));
        assert_eq!(status_on(250).await.0, "expired", "past valid_until");
        // Before the service existed, it is not in the report at all.
        let r = w.report(&format!("format=json&as_of={}", day(-3).format("%Y-%m-%d"))).await;
        assert!(rows(&r).iter().all(|x| x["service_name"] != "Historik"));
    }
}

#[actix_web::test]
async fn a_rule_change_flags_exactly_the_approvals_that_got_worse() {
    for backend in backends() {
        let w = World::new(backend);
        let mut with_material = named("Med utbildning");
        set_pointer(
            &mut with_material,
            "/ai_literacy/training_material_url",
            json!("https://kommun.example.se/ai-utbildning"),
        );
        let keeps = w.service(&with_material).await;
        let worsens = w.service(&named("Utan utbildning")).await;
        let rejected = w.service(&named("Avslagen")).await;
        let revoked = w.service(&named("Återkallad")).await;
        // Failing before the change, not decided: R1 (unchanged, its
        // violations are repeated from the stored outcome) and R2 (changed,
        // run again).
        let no_dpa = w.service(&example("internal-assistant-no-dpa")).await;
        w.service(&example("resident-chatbot-undisclosed")).await;
        w.decide(&keeps, json!({"org": "kinda", "revision": 1, "decision": "approved"})).await;
        w.decide(&worsens, json!({"org": "kinda", "revision": 1, "decision": "approved"})).await;
        w.decide(&rejected, json!({"org": "kinda", "revision": 1, "decision": "rejected", "reason": "Nej"})).await;
        let d = w.decide(&revoked, json!({"org": "kinda", "revision": 1, "decision": "approved"})).await;
        let r =
            call(&w.app, post_json(&format!("/api/v1/decisions/{d}/revoke"), Some(&w.approver), "{\"reason\": \"x\"}"))
                .await;
        assert_eq!(r.status, 200);
        let old_version = w.app.state.policies().version().to_string();

        // The new rule set: training material is now required (a new check in R2).
        let (_dir, new_policies) = stricter_policies();
        let new_version = new_policies.version().to_string();
        assert_ne!(old_version, new_version);
        put_in_force(&w.app.state, new_policies);

        let mut conn = w.app.state.db.get().unwrap();
        let (mut pages, mut history) = (w.app.state.db.get().unwrap(), w.app.state.db.get().unwrap());
        let policies = w.app.state.policies();
        let job = tillit::policy::reevaluate::start_job(&mut conn, &policies).unwrap();
        let job =
            tillit::policy::reevaluate::run_job(&mut conn, [&mut pages, &mut history], &policies, job, |_| {}).unwrap();
        assert_eq!(job.status, JobState::Finished);
        assert_eq!(job.flagged, 1, "{backend:?}: only the approval that got worse");
        // Running again changes nothing: everything is already evaluated.
        assert_eq!(evaluations_as_full(&mut conn, &policies), 6, "{backend:?}");
        // R1 is unchanged: its violations are repeated from the stored outcome.
        let repeated: String = {
            use diesel::prelude::*;
            use tillit::db::schema::{evaluations, revisions};
            evaluations::table
                .inner_join(revisions::table)
                .filter(revisions::service_id.eq(&no_dpa))
                .filter(evaluations::rule_set_version.eq(policies.version()))
                .select(evaluations::outcome)
                .first(&mut conn)
                .unwrap()
        };
        let in_force = tillit::policy::catalog::RuleCatalog::of(&policies);
        let r1 = tillit::policy::model::StoredRules::parse(&repeated)
            .unwrap()
            .rule("R1", tillit::policy::RuleOutcome::Fail, |check| in_force.message(policies.version(), check))
            .unwrap();
        assert!(!r1.is_empty(), "{backend:?}");
        assert!(repeated.starts_with(r#"{"outcomes":"R1=fail,"#), "{backend:?}: R1 still fails: {repeated}");
        assert!(!repeated.contains("message"), "{backend:?}: stored lean: {repeated}");
        let again = tillit::policy::reevaluate::start_job(&mut conn, &policies).unwrap();
        let again =
            tillit::policy::reevaluate::run_job(&mut conn, [&mut pages, &mut history], &policies, again, |_| {})
                .unwrap();
        assert_eq!(again.flagged, 0);
        w.app.state.refresh_lookup(&mut conn);
        assert!(tillit::audit::verify::verify(&mut conn, &[]).unwrap().intact);
        // One audit event for the batch names every new evaluation and the flag
        // (verify above checks that each of those rows matches its digest).
        let batches: Vec<_> = tillit::audit::store::page(&mut conn, 0, 100_000)
            .unwrap()
            .into_iter()
            .map(|row| row.to_event().unwrap())
            .filter(|e| e.action == "revision.reevaluated")
            .collect();
        assert_eq!(batches.len(), 1, "{backend:?}");
        let named = |table: &str| batches[0].subjects.iter().filter(|s| s.t == table).count();
        // The flag is part of the new evaluation (its digest covers it): it
        // lists the version the approval was decided under; no flag rows.
        assert_eq!(named("re_reviews"), 0);
        // The versions, comma-joined (stored as a JSON array).
        let worse_than = |conn: &mut tillit::db::DbConnection, service: &str| -> String {
            use diesel::prelude::*;
            use tillit::db::schema::{evaluations, revisions};
            let stored: String = evaluations::table
                .inner_join(revisions::table)
                .filter(revisions::service_id.eq(service))
                .filter(evaluations::rule_set_version.eq(&new_version))
                .select(evaluations::worse_than)
                .first(conn)
                .unwrap();
            serde_json::from_str::<Vec<String>>(&stored).unwrap().join(",")
        };
        assert_eq!(worse_than(&mut conn, &worsens), old_version, "{backend:?}");
        assert_eq!(worse_than(&mut conn, &keeps), "", "{backend:?}");
        // Every service here has one revision, the latest, so every revision is re-evaluated.
        assert_eq!(named("evaluations") as i64, job.done, "{backend:?}");
        drop(conn);

        // The report, the service page and the lookup all say so.
        let report = w.report("format=json&org=kinda").await;
        let flagged: Vec<String> = rows(&report)
            .iter()
            .filter(|r| r["needs_re_review"] == true)
            .map(|r| r["service_name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(flagged, vec!["Utan utbildning"]);
        let row = rows(&report).into_iter().find(|r| r["service_name"] == "Utan utbildning").unwrap();
        assert_eq!(row["rule_set_version_at_decision"], old_version.as_str());
        assert_eq!(row["rule_set_version_now"], new_version.as_str());
        assert!(row["rule_outcomes_now"].as_str().unwrap().contains("R2=fail"));
        let page = call(&w.app, get(&format!("/api/v1/services/{worsens}"), Some(&w.coordinator))).await;
        assert_eq!(page.body["decisions"][0]["needs_re_review"], true);
        let lookup =
            tillit::lookup::service::lookup(&w.app.state.lookup, "Utan utbildning", Some("kinda"), false, 10).unwrap();
        let status = lookup.matches[0].status.as_ref().unwrap();
        assert!(status.needs_re_review);
        assert!(status.answer_sv.starts_with("Tillåten — omprövning pågår."), "{}", status.answer_sv);
        // The old evaluation is kept next to the new one.
        let revision =
            call(&w.app, get(&format!("/api/v1/services/{worsens}/revisions/1"), Some(&w.coordinator))).await;
        assert_eq!(revision.body["evaluations"].as_array().unwrap().len(), 2);
        // The new one is stored in the lean form and shown whole: with the
        // titles, severities and messages of its rule set, as a full
        // evaluation gives.
        let full = policies.evaluate_stored(&revision.body["document"]);
        assert_eq!(revision.body["evaluations"][1]["outcome"], serde_json::to_value(&full).unwrap(), "{backend:?}");
        assert_eq!(revision.body["evaluations"][1]["outcome"]["rules"][1]["title_en"], "Transparency");
        let page = call(&w.app, get(&format!("/api/v1/services/{worsens}"), Some(&w.coordinator))).await;
        assert_eq!(page.body["revisions"][0]["evaluation"]["outcome"], serde_json::to_value(&full).unwrap());
        // The old one, stored lean when the revision was created, is shown with
        // the titles and messages of its own rule set, no longer in force and
        // so read back from `rule_sets`.
        let then = tillit::policy::load(None).unwrap().evaluate(&revision.body["document"]);
        assert_eq!(&*then.rule_set_version, old_version.as_str());
        assert_eq!(revision.body["evaluations"][0]["outcome"], serde_json::to_value(&then).unwrap(), "{backend:?}");

        // The drift report lists what changed, per rule and per service.
        let drift = call(
            &w.app,
            get(
                &format!(
                    "/api/v1/policies/drift?from={}&to={}",
                    tillit::web::encode(&old_version),
                    tillit::web::encode(&new_version)
                ),
                Some(&w.auditor),
            ),
        )
        .await;
        assert_eq!(drift.status, 200, "{}", drift.text);
        let r2 = drift.body["rules"].as_array().unwrap().iter().find(|r| r["rule"] == "R2").unwrap().clone();
        assert!(r2["got_worse"].as_u64().unwrap() >= 1);
        let services: Vec<&str> =
            drift.body["services"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert!(services.contains(&"Utan utbildning") && !services.contains(&"Med utbildning"), "{services:?}");
        let jobs = call(&w.app, get("/api/v1/policies/jobs", None)).await;
        assert_eq!(jobs.body["jobs"][0]["status"], "finished");
    }
}

/// Checks that every evaluation stored with the rule set in force is what a
/// full evaluation of its revision gives, byte for byte (a re-evaluation
/// reuses the outcomes of unchanged rules and runs the rest on the fields
/// they read; it stores the lean form), and returns how many there are.
fn evaluations_as_full(conn: &mut tillit::db::DbConnection, policies: &tillit::policy::PolicySet) -> usize {
    use diesel::prelude::*;
    use tillit::db::schema::{evaluations, revisions};
    let rows: Vec<(String, String)> = evaluations::table
        .inner_join(revisions::table)
        .filter(evaluations::rule_set_version.eq(policies.version()))
        .select((revisions::document, evaluations::outcome))
        .load(conn)
        .unwrap();
    for (document, outcome) in &rows {
        let full = policies.evaluate_stored(&serde_json::from_str(document).unwrap());
        assert_eq!(outcome, &full.to_lean().unwrap());
    }
    rows.len()
}

/// Puts a new rule set in force as a restart with changed files does: the
/// rule set in force until then is on record (`tillit serve` records it at
/// start), so that what its evaluations showed carries over.
fn put_in_force(state: &tillit::state::AppState, policies: tillit::policy::PolicySet) {
    let mut conn = state.db.get().unwrap();
    tillit::policy::reevaluate::register_rule_set(&mut conn, &state.policies()).unwrap();
    state.replace_policies(policies);
}

/// The live approvals that need re-review, sorted: worked out here from the
/// stored rows (an evaluation of the approval's revision lists the rule-set
/// version the approval was decided under), not by the code under test.
fn live_flagged(conn: &mut tillit::db::DbConnection) -> Vec<String> {
    use diesel::prelude::*;
    use tillit::db::schema::{decisions, evaluations};
    let rows: Vec<(String, String, String)> = decisions::table
        .inner_join(evaluations::table.on(evaluations::revision_id.eq(decisions::revision_id)))
        .filter(decisions::revoked_at.is_null())
        .filter(decisions::decision.ne("rejected"))
        .select((decisions::id, decisions::rule_set_version, evaluations::worse_than))
        .load(conn)
        .unwrap();
    let mut flagged: Vec<String> = rows
        .into_iter()
        .filter(|(_, version, worse_than)| serde_json::from_str::<Vec<String>>(worse_than).unwrap().contains(version))
        .map(|(id, ..)| id)
        .collect();
    flagged.sort();
    flagged.dedup();
    flagged
}

#[actix_web::test]
async fn a_flag_recorded_before_flags_moved_to_the_evaluations_still_counts() {
    use diesel::prelude::*;
    use tillit::db::schema::re_reviews;
    for backend in backends() {
        let w = World::new(backend);
        let service = w.service(&named("Gammal flagga")).await;
        let decision = w.decide(&service, json!({"org": "kinda", "revision": 1, "decision": "approved"})).await;
        let before = w.report("format=json&org=kinda").await;
        let row = rows(&before).into_iter().find(|r| r["service_name"] == "Gammal flagga").unwrap();
        assert_eq!(row["needs_re_review"], false);
        // A flag row as re-evaluations wrote them before migration 000010.
        let mut conn = w.app.state.db.get().unwrap();
        let evaluation_id: String = tillit::db::schema::evaluations::table
            .select(tillit::db::schema::evaluations::id)
            .first(&mut conn)
            .unwrap();
        diesel::insert_into(re_reviews::table)
            .values(&tillit::policy::reevaluate::ReReviewRow {
                id: tillit::ids::new_id(),
                decision_id: decision.clone(),
                evaluation_id,
                flagged_at: tillit::db::now(),
            })
            .execute(&mut conn)
            .unwrap();
        drop(conn);
        let after = w.report("format=json&org=kinda").await;
        let row = rows(&after).into_iter().find(|r| r["service_name"] == "Gammal flagga").unwrap();
        assert_eq!(row["needs_re_review"], true, "{backend:?}");
        let page = call(&w.app, get(&format!("/api/v1/services/{service}"), Some(&w.coordinator))).await;
        assert_eq!(page.body["decisions"][0]["needs_re_review"], true, "{backend:?}");
        // The row has no audit event, so a running index does not see it;
        // an index built from the database (as at start) does.
        let index = tillit::lookup::service::SearchIndex::build(&mut w.app.state.db.get().unwrap(), None).unwrap();
        let lookup = tillit::lookup::service::lookup(&index, "Gammal flagga", Some("kinda"), false, 10).unwrap();
        assert!(lookup.matches[0].status.as_ref().unwrap().needs_re_review, "{backend:?}");
    }
}

#[actix_web::test]
async fn a_rule_change_re_evaluates_the_approved_and_the_latest_revisions_only() {
    use diesel::prelude::*;
    use tillit::db::schema::{evaluations, revisions};
    for backend in backends() {
        let w = World::new(backend);
        // Three revisions: 1 approved, 2 rejected, 3 the latest (undecided).
        let three = w.service(&named("Tre versioner")).await;
        w.decide(&three, json!({"org": "kinda", "revision": 1, "decision": "approved"})).await;
        for revision in [2, 3] {
            w.revise(&three, &named("Tre versioner"), revision).await;
            if revision == 2 {
                w.decide(&three, json!({"org": "kinda", "revision": 2, "decision": "rejected", "reason": "Nej"})).await;
            }
        }
        // Two revisions: 1 approved then revoked, 2 the latest.
        let two = w.service(&named("Två versioner")).await;
        let d = w.decide(&two, json!({"org": "kinda", "revision": 1, "decision": "approved"})).await;
        let r =
            call(&w.app, post_json(&format!("/api/v1/decisions/{d}/revoke"), Some(&w.approver), "{\"reason\": \"x\"}"))
                .await;
        assert_eq!(r.status, 200);
        w.revise(&two, &named("Två versioner"), 2).await;

        let (_dir, new_policies) = stricter_policies();
        let new_version = new_policies.version().to_string();
        put_in_force(&w.app.state, new_policies);
        let mut conn = w.app.state.db.get().unwrap();
        let (mut pages, mut history) = (w.app.state.db.get().unwrap(), w.app.state.db.get().unwrap());
        let policies = w.app.state.policies();
        let job = tillit::policy::reevaluate::start_job(&mut conn, &policies).unwrap();
        // Pages of two revisions, so that a page also ends inside a service.
        let job = tillit::policy::reevaluate::run_job_in_pages(
            &mut conn,
            [&mut pages, &mut history],
            &policies,
            job,
            2,
            |_| {},
        )
        .unwrap();
        assert_eq!(job.status, JobState::Finished);
        let mut taken: Vec<(String, i32)> = evaluations::table
            .inner_join(revisions::table)
            .filter(evaluations::rule_set_version.eq(&new_version))
            .select((revisions::service_id, revisions::revision))
            .load(&mut conn)
            .unwrap();
        taken.sort();
        let mut expected = vec![(three.clone(), 1), (three.clone(), 3), (two.clone(), 2)];
        expected.sort();
        assert_eq!(taken, expected, "{backend:?}");
        assert_eq!(job.flagged, 1, "{backend:?}: the one live approval got worse");
        assert_eq!(evaluations_as_full(&mut conn, &policies), 3, "{backend:?}");
    }
}

#[actix_web::test]
async fn an_approval_decided_while_its_page_is_evaluated_is_still_flagged() {
    use diesel::prelude::*;
    use tillit::db::schema::revisions;
    for backend in backends() {
        let w = World::new(backend);
        // Two services without training material, submitted and not yet decided.
        let first = w.service(&named("Först")).await;
        let second = w.service(&named("Sedan")).await;
        let (_dir, stricter) = stricter_policies();
        put_in_force(&w.app.state, stricter);
        let policies = w.app.state.policies();
        let mut conn = w.app.state.db.get().unwrap();
        let (mut pages, mut history) = (w.app.state.db.get().unwrap(), w.app.state.db.get().unwrap());
        // Pages of one revision, by id: page 2 is read while page 1 is
        // evaluated and written, so at the first progress call page 2 has
        // been read (or is being read), not written.
        let mut ids: Vec<(String, String)> = revisions::table
            .select((revisions::id, revisions::service_id))
            .order(revisions::id.asc())
            .load(&mut conn)
            .unwrap();
        assert_eq!(ids.len(), 2);
        let (_, late_service) = ids.pop().unwrap();
        assert!([&first, &second].contains(&&late_service));
        let approver = tillit::auth::service::authenticate(
            &mut w.app.state.db.get().unwrap(),
            &tillit::ids::hash_token(&w.approver),
        )
        .unwrap();
        let job = tillit::policy::reevaluate::start_job(&mut conn, &policies).unwrap();
        let mut decided = None;
        let job = tillit::policy::reevaluate::run_job_in_pages(
            &mut conn,
            [&mut pages, &mut history],
            &policies,
            job,
            1,
            |_| {
                if decided.is_none() {
                    // An approver decides on the old evaluation, the latest one stored.
                    let request: tillit::approvals::dto::DecisionRequest =
                        serde_json::from_value(json!({"org": "kinda", "revision": 1, "decision": "approved"})).unwrap();
                    let mut other = w.app.state.db.get().unwrap();
                    let made =
                        tillit::approvals::service::decide(&mut other, &approver, &late_service, &request).unwrap();
                    decided = Some(made.decision_id);
                }
            },
        )
        .unwrap();
        let decided = decided.expect("the job wrote at least one page");
        assert_eq!(job.flagged, 1, "{backend:?}: the late approval got worse and is flagged");
        let flagged = live_flagged(&mut conn);
        assert_eq!(flagged, vec![decided], "{backend:?}");
        assert!(tillit::audit::verify::verify(&mut conn, &[]).unwrap().intact, "{backend:?}");
    }
}

#[actix_web::test]
async fn an_interrupted_re_evaluation_resumes_where_it_stopped_and_ends_as_an_uninterrupted_one() {
    use diesel::prelude::*;
    use tillit::db::schema::evaluations;
    use tillit::policy::reevaluate::{run_job_in_pages, start_job};
    let counts = |conn: &mut tillit::db::DbConnection, version: &str| -> (i64, i64) {
        let evaluated = evaluations::table
            .filter(evaluations::rule_set_version.eq(version))
            .count()
            .get_result::<i64>(conn)
            .unwrap();
        (evaluated, live_flagged(conn).len() as i64)
    };
    for backend in backends() {
        // Two registries seeded alike; one run is stopped after two pages.
        let stopped_app = TestApp::new(backend);
        let whole_app = TestApp::new(backend);
        let mut results = Vec::new();
        for (app, stop) in [(&stopped_app, true), (&whole_app, false)] {
            let mut conn = app.state.db.get().unwrap();
            let (mut pages, mut history) = (app.state.db.get().unwrap(), app.state.db.get().unwrap());
            tillit::dev::seed::synthetic(&mut conn, &app.state.policies(), 60, 5, |_| {}).unwrap();
            let (_dir, stricter) = stricter_policies();
            let version = stricter.version().to_string();
            app.state.replace_policies(stricter);
            let policies = app.state.policies();
            let job = start_job(&mut conn, &policies).unwrap();
            assert_eq!(job.total, 60);
            let job = if stop {
                let mut written = 0;
                let stopped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run_job_in_pages(&mut conn, [&mut pages, &mut history], &policies, job.clone(), 10, |_| {
                        written += 1;
                        assert!(written < 2, "the process stops after its second page");
                    })
                }));
                assert!(stopped.is_err());
                let (evaluated, _) = counts(&mut conn, &version);
                assert!(evaluated > 0 && evaluated <= 20, "{backend:?}: two pages of ten were written: {evaluated}");
                let resumed = start_job(&mut conn, &policies).unwrap();
                assert_eq!(resumed.id, job.id, "{backend:?}: the same job goes on");
                assert_eq!(resumed.status, JobState::Running);
                assert_eq!(resumed.done, 0, "the pass counts anew");
                resumed
            } else {
                job
            };
            let done = run_job_in_pages(&mut conn, [&mut pages, &mut history], &policies, job, 10, |_| {}).unwrap();
            assert_eq!(done.status, JobState::Finished);
            assert_eq!(done.done, 60);
            let (evaluated, flags) = counts(&mut conn, &version);
            assert_eq!(flags, done.flagged, "{backend:?}: the job counts every flag once");
            assert!(tillit::audit::verify::verify(&mut conn, &[]).unwrap().intact);
            assert_eq!(evaluations_as_full(&mut conn, &policies), 60, "{backend:?}");
            results.push((evaluated, flags));
        }
        assert_eq!(results[0], results[1], "{backend:?}: stopped and resumed = never stopped");
        assert!(results[0].1 > 0, "the stricter rule flags some approvals");
    }
}

#[actix_web::test]
async fn a_re_evaluation_gives_the_same_results_whether_documents_have_field_offsets_or_not() {
    use diesel::prelude::*;
    use tillit::db::schema::{evaluations, revisions};
    use tillit::policy::reevaluate::{run_job_in_pages, start_job};
    for backend in backends() {
        let mut results = Vec::new();
        // Offsets as stored; none (revisions stored before they were kept);
        // and offsets that do not fit the documents (which are not used).
        for offsets in ["as stored", "none", "wrong"] {
            let app = TestApp::new(backend);
            let mut conn = app.state.db.get().unwrap();
            let (mut pages, mut history) = (app.state.db.get().unwrap(), app.state.db.get().unwrap());
            tillit::dev::seed::synthetic(&mut conn, &app.state.policies(), 60, 5, |_| {}).unwrap();
            let stored: Vec<Option<String>> =
                revisions::table.select(revisions::field_offsets).load(&mut conn).unwrap();
            assert_eq!(stored.iter().flatten().count(), 60, "{backend:?}: every revision has its offsets");
            match offsets {
                "none" => {
                    diesel::update(revisions::table)
                        .set(revisions::field_offsets.eq(None::<String>))
                        .execute(&mut conn)
                        .unwrap();
                }
                "wrong" => {
                    diesel::update(revisions::table)
                        .set(revisions::field_offsets.eq("ai_literacy:0:1,purpose:3:2,service:1:99999999"))
                        .execute(&mut conn)
                        .unwrap();
                }
                _ => {}
            }
            let (_dir, stricter) = stricter_policies();
            app.state.replace_policies(stricter);
            let policies = app.state.policies();
            let job = start_job(&mut conn, &policies).unwrap();
            let done = run_job_in_pages(&mut conn, [&mut pages, &mut history], &policies, job, 10, |_| {}).unwrap();
            assert_eq!(done.status, JobState::Finished);
            assert_eq!(evaluations_as_full(&mut conn, &policies), 60, "{backend:?}, offsets {offsets}");
            assert!(tillit::audit::verify::verify(&mut conn, &[]).unwrap().intact, "{backend:?}, offsets {offsets}");
            let mut stored: Vec<(String, String, String, String)> = evaluations::table
                .filter(evaluations::rule_set_version.eq(policies.version()))
                .select((
                    evaluations::revision_id,
                    evaluations::verdict,
                    evaluations::rule_outcomes,
                    evaluations::worse_than,
                ))
                .load(&mut conn)
                .unwrap();
            stored.sort();
            results.push((done.flagged, stored));
            // Offsets missing or not fitting were made again and stored.
            let documents: Vec<(String, Option<String>)> =
                revisions::table.select((revisions::document, revisions::field_offsets)).load(&mut conn).unwrap();
            for (document, field_offsets) in documents {
                assert_eq!(
                    field_offsets,
                    tillit::json::field_offsets(document.as_bytes()),
                    "{backend:?}, offsets {offsets}: offsets recorded"
                );
            }
        }
        assert!(results[0].0 > 0, "{backend:?}: the stricter rule flags some approvals");
        assert_eq!(results[0], results[1], "{backend:?}: with offsets = without");
        assert_eq!(results[0], results[2], "{backend:?}: with offsets = with offsets that do not fit");
    }
}
