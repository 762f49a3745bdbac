//! Organisations: municipalities and the federation they may delegate to.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::audit::Audited;
use crate::db::schema::organisations;

/// What kind of organisation: a municipality decides for itself; a
/// federation (Itsam) may decide for the municipalities that delegate to it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    Municipality,
    Federation,
}

impl OrgKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Municipality => "municipality",
            OrgKind::Federation => "federation",
        }
    }

    pub fn parse(s: &str) -> Option<OrgKind> {
        match s {
            "municipality" => Some(OrgKind::Municipality),
            "federation" => Some(OrgKind::Federation),
            _ => None,
        }
    }
}

crate::db::text_enum!(OrgKind);

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = organisations)]
pub struct OrganisationRow {
    pub slug: String,
    pub name: String,
    pub kind: OrgKind,
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
pub const DEFAULT_ORGANISATIONS: &[(&str, &str, OrgKind, &str)] = &[
    ("itsam", "Kommunalförbundet Itsam", OrgKind::Federation, "Itsams AI-funktion"),
    ("atvidaberg", "Åtvidabergs kommun", OrgKind::Municipality, "Åtvidabergs kommuns AI-funktion"),
    ("boxholm", "Boxholms kommun", OrgKind::Municipality, "Boxholms kommuns AI-funktion"),
    ("kinda", "Kinda kommun", OrgKind::Municipality, "Kinda kommuns AI-funktion"),
    ("odeshog", "Ödeshögs kommun", OrgKind::Municipality, "Ödeshögs kommuns AI-funktion"),
    ("valdemarsvik", "Valdemarsviks kommun", OrgKind::Municipality, "Valdemarsviks kommuns AI-funktion"),
    ("vimmerby", "Vimmerby kommun", OrgKind::Municipality, "Vimmerby kommuns AI-funktion"),
    ("ydre", "Ydre kommun", OrgKind::Municipality, "Ydre kommuns AI-funktion"),
];

/// A slug as used in URLs and the API: 2–40 of a–z, 0–9 and '-'.
pub fn is_valid_slug(slug: &str) -> bool {
    (2..=40).contains(&slug.len()) && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}
