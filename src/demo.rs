//! `tillit serve --demo`: realistic demo services and people, so that a
//! newcomer sees a working registry at once. The documents live in
//! `demo/services/` and go through the same code paths as real submissions.

use diesel::prelude::*;
use include_dir::{Dir, include_dir};

use crate::auth::service::create_token;
use crate::auth::{Credentials, Role};
use crate::db::DbConnection;
use crate::db::schema::services;
use crate::error::AppError;
use crate::idempotency::{IdempotencyKey, Reply};
use crate::policy::PolicySet;
use crate::submissions::model::ParsedDocument;

static DEMO_SERVICES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/demo/services");

/// Demo people: organisation, name, roles.
const PEOPLE: &[(&str, &str, &[Role])] = &[
    ("itsam", "Ida Samordnare (demo)", &[Role::Coordinator]),
    ("itsam", "Isak Beslutare (demo)", &[Role::Approver]),
    ("itsam", "Irene Revisor (demo)", &[Role::Auditor]),
    ("kinda", "Karin Samordnare (demo)", &[Role::Coordinator]),
    ("kinda", "Kalle Beslutare (demo)", &[Role::Approver]),
    ("kinda", "Kerstin Admin (demo)", &[Role::Admin]),
    ("boxholm", "Bo Samordnare (demo)", &[Role::Coordinator]),
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
}

/// Issues fresh demo tokens (valid 7 days) and, on an empty registry,
/// creates the demo services.
pub fn seed(conn: &mut DbConnection, policies: &PolicySet) -> Result<Vec<DemoLogin>, AppError> {
    let mut logins = Vec::new();
    for (org, name, roles) in PEOPLE {
        let issued = create_token(conn, org, name, roles, "demo", 7)?;
        logins.push(DemoLogin { org, name, roles, token: issued.secret });
    }
    let existing: i64 = services::table.count().get_result(conn)?;
    if existing > 0 {
        return Ok(logins);
    }
    for (file, org) in OWNERS {
        let bytes = DEMO_SERVICES
            .get_file(file)
            .map(|f| f.contents())
            .ok_or_else(|| AppError::internal(format!("demo file {file} is missing")))?;
        let parsed = ParsedDocument::parse(policies, bytes)?;
        let coordinator = logins
            .iter()
            .find(|l| l.org == *org && l.roles.contains(&Role::Coordinator))
            .ok_or_else(|| AppError::internal(format!("no demo coordinator for {org}")))?;
        let creds = Credentials { token_hash: crate::auth::service::hash_token(&coordinator.token) };
        crate::idempotency::perform(conn, &creds, &IdempotencyKey(None), "", |conn, actor| {
            let created = crate::submissions::service::create_service(conn, actor, &parsed)?;
            Reply::new(actix_web::http::StatusCode::CREATED, &created)
        })?;
    }
    Ok(logins)
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
}
