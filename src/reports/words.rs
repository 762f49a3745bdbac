//! The words of the report's people's formats (the print-ready page and
//! Excel) and of the CSV's label columns: labels for codes in the reader's
//! language, organisations' names, and "–" for none.

use std::collections::HashMap;

use super::query::ComplianceRow;
use crate::i18n::{FluentValue, catalogue};
use crate::lang::Lang;

/// What the formats meant for people need to speak without codes: the
/// words for codes in the reader's language and the organisations' names.
pub struct Readable {
    /// The reader's language code (`sv` or `en`), for the page's `lang`.
    pub lang: &'static str,
    language: Lang,
    /// Organisation names by slug.
    pub org_names: HashMap<String, String>,
    /// The words of the statuses, decisions and risk classes rows hold, by
    /// code: looked up once per report, not once per row.
    status: HashMap<&'static str, String>,
    decision: HashMap<&'static str, String>,
    risk_class: HashMap<&'static str, String>,
}

/// Shown in a cell that has nothing to show.
pub const NONE: &str = "–";

impl Readable {
    pub fn new(language: Lang, org_names: HashMap<String, String>) -> Readable {
        let words = |prefix: &str, codes: &[&'static str]| -> HashMap<&'static str, String> {
            codes.iter().map(|code| (*code, catalogue().text(language, &format!("{prefix}{code}")))).collect()
        };
        let statuses = ["allowed", "allowed_with_conditions", "not_allowed", "expired", "under_review", "not_assessed"];
        let status = words("status_", &statuses);
        let decision = words("decision_", &["approved", "approved_with_conditions", "rejected"]);
        let risk_class =
            words("value-", &["prohibited", "high_risk", "limited_transparency", "minimal", "not_ai_system"]);
        Readable { lang: language.as_str(), language, org_names, status, decision, risk_class }
    }

    pub fn text(&self, id: &str) -> String {
        catalogue().text(self.language, id)
    }

    /// A message with arguments (`report_rows` takes `rows`).
    pub fn format(&self, id: &str, args: &[(&str, FluentValue)]) -> String {
        catalogue().format(self.language, id, args)
    }

    pub(super) fn org(&self, slug: &str) -> String {
        self.org_names.get(slug).cloned().unwrap_or_else(|| slug.to_string())
    }

    pub(super) fn or_none(value: Option<&str>) -> String {
        match value {
            Some(v) if !v.trim().is_empty() => v.to_string(),
            _ => NONE.to_string(),
        }
    }

    pub(super) fn yes_no(&self, value: bool) -> String {
        self.text(if value { "form_yes" } else { "form_no" })
    }

    /// "R1=pass,R2=fail" as "R1 uppfylls, R2 uppfylls inte".
    pub(super) fn outcomes(&self, coded: Option<&str>) -> String {
        let Some(coded) = coded.filter(|c| !c.is_empty()) else { return NONE.to_string() };
        coded
            .split(',')
            .map(|pair| match pair.split_once('=') {
                Some((rule, outcome)) => format!("{rule} {}", self.text(&format!("outcome_{outcome}"))),
                None => pair.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A status's words (its code when it has none).
    pub(super) fn status<'a>(&'a self, code: &'a str) -> &'a str {
        self.status.get(code).map_or(code, String::as_str)
    }

    /// A decision's words (its code when it has none).
    pub(super) fn decision<'a>(&'a self, code: &'a str) -> &'a str {
        self.decision.get(code).map_or(code, String::as_str)
    }

    /// A risk class's words (its code when it has none).
    pub(super) fn risk_class<'a>(&'a self, code: &'a str) -> &'a str {
        self.risk_class.get(code).map_or(code, String::as_str)
    }

    /// The headers of the people's formats, in column order.
    pub(super) fn headers(&self) -> Vec<String> {
        READABLE_COLUMNS.iter().map(|key| self.text(&format!("report_col_{key}"))).collect()
    }

    /// One row in words, in the order of `READABLE_COLUMNS`.
    pub(super) fn cells(&self, row: &ComplianceRow) -> Vec<String> {
        let decided_by = match (&row.deciding_function, &row.decided_by_name) {
            (Some(f), Some(n)) => format!("{f} ({n})"),
            (Some(f), None) => f.clone(),
            (None, Some(n)) => n.clone(),
            (None, None) => NONE.to_string(),
        };
        vec![
            row.service_name.clone(),
            Self::or_none(Some(&row.vendor)),
            row.service_id.clone(),
            row.revision.to_string(),
            row.latest_revision.to_string(),
            self.org(&row.owner_org),
            self.risk_class(&row.risk_class).to_string(),
            self.org(&row.org),
            self.status(row.status.as_str()).to_string(),
            row.decision.as_deref().map_or_else(|| NONE.to_string(), |d| self.decision(d).to_string()),
            Self::or_none(row.decision_reference.as_deref()),
            Self::or_none(row.decided_on.as_deref()),
            decided_by,
            row.deciding_org.as_deref().map(|o| self.org(o)).unwrap_or_else(|| NONE.to_string()),
            self.yes_no(row.via_delegation),
            Self::or_none(row.delegation_reference.as_deref()),
            self.outcomes(row.rule_outcomes_at_decision.as_deref()),
            Self::or_none(row.rule_set_version_at_decision.as_deref()),
            self.outcomes(row.rule_outcomes_now.as_deref()),
            Self::or_none(row.rule_set_version_now.as_deref()),
            Self::or_none(row.valid_until.as_deref()),
            self.yes_no(row.expiring_within_60_days),
            self.yes_no(row.expired),
            self.yes_no(row.needs_re_review),
            if row.conditions.is_empty() { NONE.to_string() } else { row.conditions.join("; ") },
        ]
    }
}

/// The words beside the codes in the CSV formats, after the coded columns
/// (each header ends in the language: `status_sv`).
pub(super) const LABEL_COLUMNS: &[&str] = &["owner_org_name", "risk_class", "org_name", "status", "decision"];

/// The columns of the people's formats (their header keys are `report_col_*`).
pub(super) const READABLE_COLUMNS: &[&str] = &[
    "service",
    "vendor",
    "service_id",
    "revision",
    "latest_revision",
    "owner_org",
    "risk_class",
    "org",
    "status",
    "decision",
    "decision_reference",
    "decided_on",
    "decided_by",
    "deciding_org",
    "via_delegation",
    "delegation_reference",
    "rules_then",
    "rule_set_then",
    "rules_now",
    "rule_set_now",
    "valid_until",
    "expiring",
    "expired",
    "needs_re_review",
    "conditions",
];
