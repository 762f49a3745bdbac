//! `tillit serve --demo`: realistic demo services and people, so that a
//! newcomer sees a working registry at once. The documents live in
//! `demo/services/` and go through the same code paths as real submissions.

use diesel::prelude::*;
use include_dir::{Dir, include_dir};

use crate::auth::Role;
use crate::auth::service::create_token;
use crate::db::DbConnection;
use crate::db::schema::services;
use serde_json::json;

use crate::approvals::dto::{DecisionRequest, DelegationRequest};
use crate::error::AppError;
use crate::policy::PolicySet;
use crate::submissions::model::ParsedDocument;

static DEMO_SERVICES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/demo/services");

/// Demo people: organisation, name, roles.
const PEOPLE: &[(&str, &str, &[Role], &str)] = &[
    ("itsam", "Ida Samordnare (demo)", &[Role::Coordinator], "ida"),
    ("itsam", "Isak Beslutare (demo)", &[Role::Approver], "isak"),
    ("itsam", "Irene Revisor (demo)", &[Role::Auditor], "irene"),
    ("kinda", "Karin Samordnare (demo)", &[Role::Coordinator], "karin"),
    ("kinda", "Kalle Beslutare (demo)", &[Role::Approver], "kalle"),
    ("kinda", "Kerstin Admin (demo)", &[Role::Admin], "kerstin"),
    ("boxholm", "Bo Samordnare (demo)", &[Role::Coordinator], "bo"),
    ("boxholm", "Bodil Admin (demo)", &[Role::Admin], "bodil"),
];

/// Which organisation's coordinator submits which demo document.
const OWNERS: &[(&str, &str)] = &[
    ("01-copilot-chat.json", "itsam"),
    ("02-chatgpt-free.json", "kinda"),
    ("03-resident-chatbot.json", "itsam"),
    ("04-decision-support.json", "itsam"),
    ("05-local-transcription.json", "itsam"),
    ("06-image-generator.json", "boxholm"),
];

#[derive(Debug)]
pub struct DemoLogin {
    pub org: &'static str,
    pub name: &'static str,
    pub roles: &'static [Role],
    pub token: String,
    /// The user name for the web pages; the password is shared by every
    /// demo person and new at every start.
    pub username: &'static str,
    pub password: String,
}

/// Issues fresh demo tokens (valid 7 days) and, on an empty registry,
/// creates the demo services.
pub fn seed(conn: &mut DbConnection, policies: &PolicySet) -> Result<Vec<DemoLogin>, AppError> {
    let mut logins = Vec::new();
    let mut secret = [0u8; 6];
    getrandom::fill(&mut secret).map_err(|e| AppError::internal(format!("random: {e}")))?;
    let password = format!("demo-{}", hex::encode(secret));
    for (org, name, roles, username) in PEOPLE {
        let issued = create_token(conn, org, name, roles, "demo", 7)?;
        crate::auth::sessions::set_password(conn, org, name, username, &password)?;
        logins.push(DemoLogin { org, name, roles, token: issued.secret, username, password: password.clone() });
    }
    let existing: i64 = services::table.count().get_result(conn)?;
    if existing > 0 {
        return Ok(logins);
    }
    // On record before the examples are submitted, so that their
    // evaluations are stored in the lean form, as a running server's are.
    crate::policy::reevaluate::register_rule_set(conn, policies)?;
    let mut ids = Vec::new();
    for (file, org) in OWNERS {
        let bytes = DEMO_SERVICES
            .get_file(file)
            .map(|f| f.contents())
            .ok_or_else(|| AppError::internal(format!("demo file {file} is missing")))?;
        let parsed = ParsedDocument::parse(policies, bytes)?;
        let created = as_person(conn, &logins, org, Role::Coordinator, |conn, actor| {
            crate::submissions::service::create_service(conn, actor, &parsed, &[])
        })?;
        ids.push(created.service_id);
    }
    // Submit everything but the image generator, which stays a draft.
    for (i, (_, org)) in OWNERS.iter().enumerate().take(5) {
        as_person(conn, &logins, org, Role::Coordinator, |conn, actor| {
            crate::submissions::service::submit_revision(conn, actor, &ids[i], 1)
        })?;
    }
    // Boxholm delegates its decisions to Itsam.
    as_person(conn, &logins, "boxholm", Role::Admin, |conn, actor| {
        crate::approvals::service::create_delegation(
            conn,
            actor,
            &DelegationRequest {
                org: "boxholm".into(),
                delegate: "itsam".into(),
                decision_reference: "KS 2026/41".into(),
                valid_from: "2026-01-01".into(),
                valid_until: None,
                scope: "all".into(),
            },
        )
    })?;
    let decide = |conn: &mut DbConnection, approver_org: &str, service: &str, body: serde_json::Value| {
        let request: DecisionRequest = serde_json::from_value(body).map_err(|e| AppError::internal(e.to_string()))?;
        as_person(conn, &logins, approver_org, Role::Approver, |conn, actor| {
            crate::approvals::service::decide(conn, actor, service, &request)
        })
    };
    let internal_only =
        json!([{"type": "information_class_max", "value": "internal"}, {"type": "no_special_category_data"}]);
    decide(
        conn,
        "kinda",
        &ids[0],
        json!({"org": "kinda", "revision": 1, "decision": "approved_with_conditions",
        "conditions": internal_only, "reason": "Godkänd för allmänna och interna texter.", "decision_reference": "KS 2026/88"}),
    )?;
    decide(
        conn,
        "itsam",
        &ids[0],
        json!({"org": "boxholm", "revision": 1, "decision": "approved_with_conditions",
        "conditions": internal_only, "reason": "Beslutat av Itsam enligt delegation.", "decision_reference": "Itsam 2026/12"}),
    )?;
    decide(
        conn,
        "itsam",
        &ids[0],
        json!({"org": "itsam", "revision": 1, "decision": "approved", "decision_reference": "Itsam 2026/11"}),
    )?;
    decide(
        conn,
        "kinda",
        &ids[1],
        json!({"org": "kinda", "revision": 1, "decision": "rejected",
        "reason": "Konsumenttjänst utan personuppgiftsbiträdesavtal; leverantören kan träna på inmatad text.", "decision_reference": "KS 2026/89",
        "public_reason": "Leverantören får använda det du skriver för att träna sin AI, och det finns inget avtal om hur uppgifterna skyddas."}),
    )?;
    decide(
        conn,
        "itsam",
        &ids[2],
        json!({"org": "itsam", "revision": 1, "decision": "approved", "decision_reference": "Itsam 2026/14"}),
    )?;
    decide(
        conn,
        "itsam",
        &ids[3],
        json!({"org": "itsam", "revision": 1, "decision": "approved_with_conditions",
        "conditions": [{"type": "permitted_tasks", "value": ["prioritering av ärenden", "förslag på kontrollpunkter"]},
                       {"type": "other", "value": "Handläggaren fattar alltid beslutet och motiverar det själv."}],
        "decision_reference": "Itsam 2026/15"}),
    )?;
    Ok(logins)
}

/// Runs one write as the demo person of `org` with `role`, through the same
/// write path as the API (authenticated and authorized in the transaction).
fn as_person<T>(
    conn: &mut DbConnection,
    logins: &[DemoLogin],
    org: &str,
    role: Role,
    mut f: impl FnMut(&mut DbConnection, &crate::auth::Actor) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let login = logins
        .iter()
        .find(|l| l.org == org && l.roles.contains(&role))
        .ok_or_else(|| AppError::internal(format!("no demo {role} in {org}")))?;
    let token_hash = crate::ids::hash_token(&login.token);
    crate::db::write(conn, |conn| {
        let actor = crate::auth::service::authenticate(conn, &token_hash)?;
        f(conn, &actor)
    })
}

pub fn print_logins(logins: &[DemoLogin], bind: &str) {
    println!();
    println!("Tillit demo: http://{bind}/");
    println!("Demo tokens (valid 7 days); use them as  Authorization: Bearer <token>");
    for login in logins {
        let roles: Vec<&str> = login.roles.iter().map(|r| r.as_str()).collect();
        println!("  {:<10} {:<32} {:<12} {}", login.org, login.name, roles.join(","), login.token);
    }
    println!();
    if let Some(first) = logins.first() {
        // Browsers keep the Secure session cookie on plain HTTP only for localhost.
        let host = bind.replacen("127.0.0.1", "localhost", 1);
        println!("Web sign-in at http://{host}/login (password for every demo person: {})", first.password);
        for login in logins {
            let roles: Vec<&str> = login.roles.iter().map(|r| r.as_str()).collect();
            println!("  organisation {:<10} user name {:<10} {}", login.org, login.username, roles.join(","));
        }
        println!();
    }
}
