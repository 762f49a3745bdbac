//! `tillit seed --synthetic N --seed S`: fills a database deterministically
//! with N realistic services for load tests and benchmarks. The same N and S
//! always give the same services, names, documents and decisions.
//!
//! Every service has a valid submission document (evaluated against the rule
//! set in force, about a quarter failing a rule), a submitted revision, and
//! decisions in one to eight organisations with a mix of outcomes and
//! histories (approvals, conditions, rejections, revocations, expired
//! approvals, decisions under delegation). The rows are written in large
//! batches, with one audit event per service and per decision, so that
//! `tillit audit verify` holds afterwards.

use chrono::{Duration, NaiveDate};
use include_dir::{Dir, include_dir};
use serde_json::{Value, json};

use crate::approvals::model::{Condition, DecisionKind, InformationClass};
use crate::approvals::store::{DecisionRow, DelegationRow};
use crate::audit::{AuditAction, NewEvent, SealedEvent};
use crate::auth::Role;
use crate::auth::store::UserRow;
use crate::db::{self, DbConnection};
use crate::error::AppError;
use crate::organisations::model::DEFAULT_ORGANISATIONS;
use crate::policy::{PolicySet, Verdict};
use crate::submissions::store::{EvaluationRow, OutcomeForm, RevisionRow, ServiceRow};

mod names;

use names::*;

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/demo/services");

/// Demo documents that pass every rule; the seed varies them.
const TEMPLATE_FILES: &[&str] =
    &["01-copilot-chat.json", "03-resident-chatbot.json", "04-decision-support.json", "05-local-transcription.json"];

/// Municipalities that delegate to Itsam in the synthetic registry.
const DELEGATING: &[&str] = &["kinda", "ydre", "odeshog", "vimmerby"];

const BATCH: usize = 5_000;

/// Changes that make a document fail a rule (and one that only warns).
fn failing_mutation(rng: &mut Rng, doc: &mut Value) {
    let set = |doc: &mut Value, pointer: &str, value: Value| {
        if let Some((parent, key)) = pointer.rsplit_once('/') {
            if let Some(Value::Object(map)) = doc.pointer_mut(parent) {
                map.insert(key.to_string(), value);
            }
        }
    };
    match rng.below(6) {
        0 => {
            set(doc, "/vendor/dpa_signed", json!(false));
            set(doc, "/data/personal_data_processed", json!(true));
            set(doc, "/service/service_type", json!("saas"));
        }
        1 => set(doc, "/assessments/security/risk_assessment_done", json!(false)),
        2 => set(doc, "/governance/review/interval_months", json!(36)),
        3 => set(doc, "/data/vendor_training_on_customer_data/status", json!("yes")),
        4 => set(doc, "/assessments/ai_act/risk_class", json!("prohibited")),
        _ => set(doc, "/purpose/benefits/kpis", json!([])),
    }
}

pub struct SeedReport {
    pub services: usize,
    pub decisions: usize,
    pub failing: usize,
    pub seconds: f64,
}

/// Seeds `n` services. The organisations must exist (they are seeded on
/// every start). Synthetic people are created once.
pub fn synthetic(
    conn: &mut DbConnection,
    policies: &PolicySet,
    n: usize,
    seed: u64,
    mut progress: impl FnMut(usize),
) -> Result<SeedReport, AppError> {
    let started = std::time::Instant::now();
    let mut rng = Rng::new(seed);
    let templates: Vec<Value> = TEMPLATE_FILES
        .iter()
        .map(|f| {
            let file = TEMPLATES.get_file(f).ok_or_else(|| AppError::internal(format!("template {f} missing")))?;
            Ok(serde_json::from_slice(file.contents())?)
        })
        .collect::<Result<_, AppError>>()?;
    let orgs: Vec<&str> = DEFAULT_ORGANISATIONS.iter().map(|o| o.0).collect();
    db::tune_for_bulk(conn, 128)?;
    // On record first, so that the evaluations are stored in the lean form
    // (as a running server stores them).
    crate::policy::reevaluate::register_rule_set(conn, policies)?;
    let (coordinators, approvers, delegations) = db::write(conn, |conn| setup(conn, &orgs))?;
    let mut vendor_rng = Rng::new(seed.wrapping_add(1));
    let vendors: Vec<String> =
        (0..5_000).map(|_| format!("{} {}", stem(&mut vendor_rng), vendor_rng.pick(COMPANY_FORMS))).collect();
    let today = crate::swedish::today();
    let mut report = SeedReport { services: 0, decisions: 0, failing: 0, seconds: 0.0 };
    let context = Context {
        policies,
        templates: &templates,
        orgs: &orgs,
        vendors: &vendors,
        coordinators: &coordinators,
        approvers: &approvers,
        delegations: &delegations,
        today,
    };
    // One thread generates (documents, evaluations, digests) while this one
    // writes the previous batch.
    std::thread::scope(|scope| -> Result<(), AppError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Batch, AppError>>(1);
        let context = &context;
        scope.spawn(move || {
            let mut start = 0;
            while start < n {
                let end = (start + BATCH).min(n);
                let batch = generate(context, &mut rng, start, end);
                let failed = batch.is_err();
                if tx.send(batch).is_err() || failed {
                    return;
                }
                start = end;
            }
        });
        let mut done = 0;
        for batch in rx {
            let batch = batch?;
            report.services += batch.services.len();
            report.decisions += batch.decisions.len();
            report.failing += batch.failing;
            done += batch.services.len();
            write_batch(conn, batch)?;
            progress(done);
        }
        Ok(())
    })?;
    // Everything was evaluated with the rule set in force as it was written.
    crate::policy::reevaluate::mark_done_if_complete(conn, policies)?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

struct Context<'a> {
    policies: &'a PolicySet,
    templates: &'a [Value],
    orgs: &'a [&'a str],
    vendors: &'a [String],
    coordinators: &'a Ids,
    approvers: &'a Ids,
    delegations: &'a Ids,
    today: NaiveDate,
}

struct Batch {
    services: Vec<ServiceRow>,
    revisions: Vec<RevisionRow>,
    evaluations: Vec<EvaluationRow>,
    decisions: Vec<DecisionRow>,
    events: Vec<SealedEvent>,
    failing: usize,
}

fn write_batch(conn: &mut DbConnection, batch: Batch) -> Result<(), AppError> {
    db::write(conn, |conn| {
        use crate::db::schema::{decisions as d, evaluations as e, revisions as r, services as s};
        use diesel::RunQueryDsl;
        for chunk in batch.services.chunks(1_000) {
            crate::on_backend!(&mut *conn, |c| diesel::insert_into(s::table).values(chunk).execute(c))?;
        }
        for chunk in batch.revisions.chunks(500) {
            crate::on_backend!(&mut *conn, |c| diesel::insert_into(r::table).values(chunk).execute(c))?;
        }
        for chunk in batch.evaluations.chunks(1_000) {
            crate::on_backend!(&mut *conn, |c| diesel::insert_into(e::table).values(chunk).execute(c))?;
        }
        for chunk in batch.decisions.chunks(500) {
            crate::on_backend!(&mut *conn, |c| diesel::insert_into(d::table).values(chunk).execute(c))?;
        }
        crate::audit::store::append_many(conn, &batch.events)
    })
}

fn generate(cx: &Context<'_>, rng: &mut Rng, start: usize, end: usize) -> Result<Batch, AppError> {
    let (orgs, today) = (cx.orgs, cx.today);
    let mut batch = Batch {
        services: Vec::with_capacity(end - start),
        revisions: Vec::with_capacity(end - start),
        evaluations: Vec::with_capacity(end - start),
        decisions: Vec::new(),
        events: Vec::with_capacity((end - start) * 5),
        failing: 0,
    };
    for i in start..end {
        let owner = *rng.pick(orgs);
        let names = names(rng, i, cx.vendors);
        let mut doc = rng.pick(cx.templates).clone();
        if let Some(service) = doc.get_mut("service").and_then(Value::as_object_mut) {
            service.insert("name".into(), json!(names.name));
            service.insert("aliases".into(), json!(names.aliases));
            service.insert("domains".into(), json!(names.domains));
            service.insert(
                "short_description".into(),
                json!(format!("Syntetisk tjänst {i} för last- och prestandatester.")),
            );
        }
        if let Some(vendor) = doc.get_mut("vendor").and_then(Value::as_object_mut) {
            vendor.insert("name".into(), json!(names.vendor));
        }
        let publication = match rng.below(100) {
            0..=89 => "published",
            90..=96 => "internal_only",
            _ => "withheld",
        };
        if let Some(t) = doc.get_mut("transparency").and_then(Value::as_object_mut) {
            t.insert("public_register_publication".into(), json!(publication));
            if publication == "withheld" {
                t.insert("withholding_reason".into(), json!("Säkerhetsskäl"));
            }
        }
        if rng.chance(25) {
            failing_mutation(rng, &mut doc);
        }
        let raw = serde_json::to_string(&doc)?;
        let parsed = crate::submissions::model::ParsedDocument::parse(cx.policies, raw.as_bytes())?;
        if parsed.evaluation.verdict == Verdict::Fail {
            batch.failing += 1;
        }
        let created_at = db::now();
        let coordinator =
            cx.coordinators.iter().find(|(o, _)| o == owner).map(|(_, id)| id.clone()).unwrap_or_default();
        let service = ServiceRow {
            id: synthetic_id(rng),
            org_slug: owner.to_string(),
            created_by: coordinator.clone(),
            created_at,
        };
        let mut revision = RevisionRow::draft(synthetic_id(rng), &service.id, 1, &parsed, &coordinator, created_at)?;
        revision.state = crate::submissions::model::RevisionState::Submitted;
        revision.submitted_by = Some(coordinator.clone());
        revision.submitted_at = Some(created_at);
        let evaluation =
            EvaluationRow::new(synthetic_id(rng), &revision.id, &parsed.evaluation, created_at, OutcomeForm::Lean)?;
        batch.events.push(
            NewEvent::new(AuditAction::ServiceCreated, Some(&coordinator), Some(owner))
                .subject(&service)
                .subject(&revision)
                .subject(&evaluation)
                .seal()?,
        );
        // Decisions in one to eight organisations.
        let mut chosen: Vec<&str> = orgs.to_vec();
        for k in (1..chosen.len()).rev() {
            let j = rng.below(k + 1);
            chosen.swap(k, j);
        }
        chosen.truncate(1 + rng.below(orgs.len()));
        let pass = parsed.evaluation.verdict == Verdict::Pass;
        for org in chosen {
            let delegated = DELEGATING.contains(&org) && rng.chance(50);
            let deciding = if delegated { "itsam" } else { org };
            let decided_by =
                cx.approvers.iter().find(|(o, _)| o == deciding).map(|(_, id)| id.clone()).unwrap_or_default();
            let via =
                if delegated { cx.delegations.iter().find(|(o, _)| o == org).map(|(_, id)| id.clone()) } else { None };
            let roll = rng.below(100);
            let outcome = match (pass, roll) {
                (true, 0..=39) => Some(("approved", false, false)),
                (true, 40..=64) => Some(("approved_with_conditions", false, false)),
                (true, 65..=74) => Some(("rejected", false, false)),
                (true, 75..=79) => Some(("approved", true, false)),
                (true, 80..=89) => Some(("approved", false, true)),
                (false, 0..=69) => Some(("rejected", false, false)),
                _ => None,
            };
            let Some((kind, revoked, expired)) = outcome else { continue };
            let decide = |rng: &mut Rng, kind: &str| {
                decision_row(
                    rng,
                    &service,
                    &revision,
                    &evaluation,
                    org,
                    deciding,
                    &decided_by,
                    via.clone(),
                    kind,
                    today,
                )
            };
            let revoke = |row: &mut DecisionRow, reason: &str| {
                row.revoked_at = Some(created_at);
                row.revoked_by = Some(decided_by.clone());
                row.revocation_reason = Some(reason.into());
            };
            let recorded = |row: &DecisionRow| {
                NewEvent::new(AuditAction::DecisionRecorded, Some(&decided_by), Some(org))
                    .via_delegation(via.as_deref())
                    .subject(row)
                    .seal()
            };
            // Some pairs have a history: an earlier decision, revoked.
            if rng.chance(10) && kind != "rejected" {
                let mut earlier = decide(rng, "approved");
                revoke(&mut earlier, "Ersatt av nytt beslut");
                earlier.decided_at -= Duration::days(400);
                batch.events.push(recorded(&earlier)?);
                batch.decisions.push(earlier);
            }
            let mut row = decide(rng, kind);
            if expired {
                row.decided_at -= Duration::days(800);
                row.valid_until = Some(today - Duration::days(1 + rng.below(300) as i64));
            }
            if revoked {
                revoke(&mut row, "Villkoren följs inte");
            }
            batch.events.push(recorded(&row)?);
            batch.decisions.push(row);
        }
        batch.services.push(service);
        batch.revisions.push(revision);
        batch.evaluations.push(evaluation);
    }
    Ok(batch)
}

/// Start of the synthetic ids' clock: 2025-01-01T00:00:00Z in milliseconds.
const SYNTHETIC_EPOCH_MS: u64 = 1_735_689_600_000;

/// A UUID version 7 like the ones `new_id` makes, deterministic: its clock is
/// the number of ids made so far (one millisecond each from 2025-01-01), the
/// rest comes from the seeded generator. Ids made in order sort in order, so
/// seeding appends to every index instead of writing all over it.
fn synthetic_id(rng: &mut Rng) -> String {
    rng.ids += 1;
    let random: [u8; 16] = (u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64())).to_be_bytes();
    let mut tail = [0u8; 10];
    tail.copy_from_slice(&random[..10]);
    uuid::Builder::from_unix_timestamp_millis(SYNTHETIC_EPOCH_MS + rng.ids, &tail).into_uuid().to_string()
}

#[allow(clippy::too_many_arguments)]
fn decision_row(
    rng: &mut Rng,
    service: &ServiceRow,
    revision: &RevisionRow,
    evaluation: &EvaluationRow,
    org: &str,
    deciding: &str,
    decided_by: &str,
    via: Option<String>,
    kind: &str,
    today: NaiveDate,
) -> DecisionRow {
    let kind = DecisionKind::parse(kind).unwrap_or(DecisionKind::Rejected);
    let conditions: Vec<Condition> = match kind {
        DecisionKind::ApprovedWithConditions => {
            let mut list = vec![Condition::InformationClassMax(
                *rng.pick(&[InformationClass::Public, InformationClass::Internal]),
            )];
            if rng.chance(50) {
                list.push(Condition::NoPersonalData(Some(true)));
            }
            if rng.chance(20) {
                list.push(Condition::PermittedTasks(vec!["utkast".into(), "sammanfattningar".into()]));
            }
            list
        }
        _ => Vec::new(),
    };
    let decided_at = db::now() - Duration::days(rng.below(300) as i64);
    DecisionRow {
        id: synthetic_id(rng),
        service_id: service.id.clone(),
        revision_id: revision.id.clone(),
        revision: revision.revision,
        org_slug: org.to_string(),
        decision: kind,
        conditions: serde_json::to_string(&conditions).unwrap_or_else(|_| "[]".into()),
        reason: if kind == DecisionKind::Rejected { Some("Uppfyller inte AI-reglerna".into()) } else { None },
        valid_until: if kind.is_approval() { Some(today + Duration::days(30 + rng.below(700) as i64)) } else { None },
        decision_reference: Some(format!("Dnr {} {}/{}", org.to_uppercase(), 2025 + rng.below(2), 1 + rng.below(999))),
        decided_by: decided_by.to_string(),
        deciding_org_slug: deciding.to_string(),
        via_delegation_id: via,
        submitted_by: revision.submitted_by.clone().unwrap_or_default(),
        rule_set_version: evaluation.rule_set_version.clone(),
        verdict: evaluation.verdict,
        decided_at,
        revoked_at: None,
        revoked_by: None,
        revocation_reason: None,
        public_reason: None,
    }
}

type Ids = Vec<(String, String)>;

/// Synthetic people (a coordinator and an approver per organisation) and the
/// delegations, created once.
fn setup(conn: &mut DbConnection, orgs: &[&str]) -> Result<(Ids, Ids, Ids), AppError> {
    let mut coordinators = Vec::new();
    let mut approvers = Vec::new();
    for org in orgs {
        for (role, list) in [(Role::Coordinator, &mut coordinators), (Role::Approver, &mut approvers)] {
            let name = format!("Syntetisk {} ({org})", role.as_str());
            let (user, _): (UserRow, bool) = crate::auth::service::find_or_create_person(conn, org, &name, None)?;
            crate::auth::service::grant_roles(conn, &user, &[role], None)?;
            list.push((org.to_string(), user.id));
        }
    }
    let mut delegations = Vec::new();
    for org in DELEGATING {
        let existing = crate::approvals::store::delegation_in_force(conn, org, "itsam", crate::swedish::today())?;
        let row = match existing {
            Some(row) => row,
            None => {
                let admin = coordinators.iter().find(|(o, _)| o == org).map(|(_, id)| id.clone()).unwrap_or_default();
                let row = DelegationRow {
                    id: crate::ids::new_id(),
                    org_slug: org.to_string(),
                    delegate_slug: "itsam".into(),
                    decision_reference: format!("KS {org} 2025/1"),
                    valid_from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or(NaiveDate::MIN),
                    valid_until: None,
                    scope: "all".into(),
                    created_by: admin.clone(),
                    created_at: db::now(),
                    revoked_at: None,
                    revoked_by: None,
                    revocation_reason: None,
                };
                crate::approvals::store::insert_delegation(conn, &row)?;
                crate::audit::append(
                    conn,
                    NewEvent::new(AuditAction::DelegationCreated, Some(&admin), Some(org)).subject(&row),
                )?;
                row
            }
        };
        delegations.push((org.to_string(), row.id));
    }
    Ok((coordinators, approvers, delegations))
}

#[cfg(test)]
mod tests;
