//! Organisations: municipalities and the federation they may delegate to.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::audit::Audited;
use crate::db::schema::organisations;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = organisations)]
pub struct OrganisationRow {
    pub slug: String,
    pub name: String,
    pub kind: String,
    pub function_name: String,
    pub function_email: String,
    pub created_at: NaiveDateTime,
}

impl Audited for OrganisationRow {
    const TABLE: &'static str = "organisations";
    fn audit_id(&self) -> String {
        self.slug.clone()
    }
}

/// The default set: Itsam and its seven member municipalities. The slugs are
/// a fixed interface; names and function details can be edited later.
pub const DEFAULT_ORGANISATIONS: &[(&str, &str, &str, &str)] = &[
    ("itsam", "Kommunalförbundet Itsam", "federation", "Itsams AI-funktion"),
    ("atvidaberg", "Åtvidabergs kommun", "municipality", "Åtvidabergs kommuns AI-funktion"),
    ("boxholm", "Boxholms kommun", "municipality", "Boxholms kommuns AI-funktion"),
    ("kinda", "Kinda kommun", "municipality", "Kinda kommuns AI-funktion"),
    ("odeshog", "Ödeshögs kommun", "municipality", "Ödeshögs kommuns AI-funktion"),
    ("valdemarsvik", "Valdemarsviks kommun", "municipality", "Valdemarsviks kommuns AI-funktion"),
    ("vimmerby", "Vimmerby kommun", "municipality", "Vimmerby kommuns AI-funktion"),
    ("ydre", "Ydre kommun", "municipality", "Ydre kommuns AI-funktion"),
];

/// A slug as used in URLs and the API: 2–40 of a–z, 0–9 and '-'.
pub fn is_valid_slug(slug: &str) -> bool {
    (2..=40).contains(&slug.len()) && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}
