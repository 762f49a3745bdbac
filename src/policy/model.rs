//! The evaluation outcome: the object `tillit check --format json` prints and
//! `POST /api/v1/evaluate` returns.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, diesel::AsExpression, diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    Invalid,
}

crate::db::text_enum!(Verdict);

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Invalid => "invalid",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        match s {
            "pass" => Some(Verdict::Pass),
            "fail" => Some(Verdict::Fail),
            "invalid" => Some(Verdict::Invalid),
            _ => None,
        }
    }

    /// The exit code of `tillit check`.
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Pass => 0,
            Verdict::Fail => 1,
            Verdict::Invalid => 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Blocking,
    Advisory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleOutcome {
    Pass,
    NotApplicable,
    Warn,
    Fail,
}

impl RuleOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleOutcome::Pass => "pass",
            RuleOutcome::Fail => "fail",
            RuleOutcome::Warn => "warn",
            RuleOutcome::NotApplicable => "not_applicable",
        }
    }

    /// The inverse of `as_str`.
    pub fn parse(s: &str) -> Option<RuleOutcome> {
        match s {
            "pass" => Some(RuleOutcome::Pass),
            "fail" => Some(RuleOutcome::Fail),
            "warn" => Some(RuleOutcome::Warn),
            "not_applicable" => Some(RuleOutcome::NotApplicable),
            _ => None,
        }
    }
}

/// One failed check at one place in the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Violation {
    #[schema(value_type = String, example = "R1.1")]
    pub check: Arc<str>,
    /// JSON pointer of the field at fault.
    #[schema(example = "/vendor/dpa_signed")]
    pub pointer: String,
    #[schema(value_type = String)]
    pub message_sv: Arc<str>,
    #[schema(value_type = String)]
    pub message_en: Arc<str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RuleResult {
    #[schema(value_type = String, example = "R1")]
    pub rule: Arc<str>,
    /// Swedish title.
    #[schema(value_type = String)]
    pub title: Arc<str>,
    #[schema(value_type = String)]
    pub title_en: Arc<str>,
    pub severity: Severity,
    pub outcome: RuleOutcome,
    pub violations: Vec<Violation>,
}

/// The outcome of evaluating one document against the rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Evaluation {
    pub verdict: Verdict,
    #[schema(value_type = String, example = "2026.1+3f9a2c1b7d0e")]
    pub rule_set_version: Arc<str>,
    /// Empty when the document is invalid.
    pub rules: Vec<RuleResult>,
    /// Schema errors; empty when the document is valid.
    pub errors: Vec<FieldError>,
}

/// One violation in the lean stored form: its check and its place. The
/// check's messages are in the rule set's files.
#[derive(Serialize)]
struct LeanViolation<'a> {
    check: &'a str,
    pointer: &'a str,
}

/// A rule that reported violations, in the lean stored form.
#[derive(Serialize)]
struct LeanRule<'a> {
    rule: &'a str,
    violations: Vec<LeanViolation<'a>>,
}

/// The lean stored form: only what neither the evaluation's row (its
/// verdict and rule-set version, `RowSummary`) nor its rule set's files
/// (titles, severities and check messages, kept in `rule_sets`) say: each
/// rule's outcome in the compact list form (`R1=pass,R2=warn,…`), the
/// violations of the rules that reported any, and schema errors. The row's
/// digest covers all of it.
#[derive(Serialize)]
struct LeanForm<'a> {
    outcomes: &'a str,
    rules: Vec<LeanRule<'a>>,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

/// What an evaluation's row says besides its stored outcome.
#[derive(Debug, Clone, Copy)]
pub struct RowSummary<'a> {
    pub rule_set_version: &'a str,
    /// `pass` or `fail`.
    pub verdict: &'a str,
}

/// A stored violation: with its messages (the full and compact forms) or
/// without (the lean form).
#[derive(Debug, Deserialize)]
struct StoredViolation {
    check: Arc<str>,
    pointer: String,
    message_sv: Option<Arc<str>>,
    message_en: Option<Arc<str>>,
}

impl StoredViolation {
    /// Its Swedish and English messages, when it was stored with them.
    fn stored_messages(&self) -> Option<(Arc<str>, Arc<str>)> {
        Some((self.message_sv.clone()?, self.message_en.clone()?))
    }
}

/// A stored rule result: whole (the full form), without title and severity
/// (the compact form), or only its violations (the lean form).
#[derive(Debug, Deserialize)]
struct StoredRule {
    rule: Arc<str>,
    outcome: Option<RuleOutcome>,
    #[serde(default)]
    violations: Vec<StoredViolation>,
    title: Option<Arc<str>>,
    title_en: Option<Arc<str>>,
    severity: Option<Severity>,
}

#[derive(Debug, Deserialize)]
struct StoredForm {
    verdict: Option<Verdict>,
    rule_set_version: Option<Arc<str>>,
    /// The lean form's rule outcomes (`R1=pass,…`).
    outcomes: Option<String>,
    rules: Vec<StoredRule>,
    #[serde(default)]
    errors: Vec<FieldError>,
}

/// A stored evaluation as read back, in any of its three forms: the full one
/// (every field of `Evaluation`), the compact one (no titles and severities;
/// re-evaluations stored it until the lean one) and the lean one
/// (`LeanForm`). Every rule has its outcome.
#[derive(Debug)]
pub struct StoredOutcome {
    verdict: Verdict,
    rule_set_version: Arc<str>,
    rules: Vec<StoredRule>,
    errors: Vec<FieldError>,
}

fn unreadable(why: &str) -> serde_json::Error {
    <serde_json::Error as serde::de::Error>::custom(why)
}

impl StoredOutcome {
    /// Reads a stored evaluation in any form; the lean one takes its verdict
    /// and rule-set version from its row.
    pub fn parse(text: &str, row: RowSummary<'_>) -> Result<StoredOutcome, serde_json::Error> {
        let form: StoredForm = serde_json::from_str(text)?;
        match (form.verdict, form.rule_set_version, form.outcomes) {
            (Some(verdict), Some(rule_set_version), None) => {
                if form.rules.iter().any(|r| r.outcome.is_none()) {
                    return Err(unreadable("a stored rule result has no outcome"));
                }
                Ok(StoredOutcome { verdict, rule_set_version, rules: form.rules, errors: form.errors })
            }
            (None, None, Some(outcomes)) => {
                let verdict = match row.verdict {
                    "pass" => Verdict::Pass,
                    "fail" => Verdict::Fail,
                    "invalid" => Verdict::Invalid,
                    _ => return Err(unreadable("the evaluation's verdict does not read")),
                };
                let mut reported = form.rules;
                let mut rules = Vec::new();
                for (id, outcome) in compact_outcomes(&outcomes) {
                    let outcome = outcome.ok_or_else(|| unreadable("a stored rule outcome does not read"))?;
                    let violations = match reported.iter().position(|r| &*r.rule == id) {
                        Some(i) => reported.swap_remove(i).violations,
                        None => Vec::new(),
                    };
                    rules.push(StoredRule {
                        rule: Arc::from(id),
                        outcome: Some(outcome),
                        violations,
                        title: None,
                        title_en: None,
                        severity: None,
                    });
                }
                if !reported.is_empty() {
                    return Err(unreadable("violations of a rule without a stored outcome"));
                }
                Ok(StoredOutcome {
                    verdict,
                    rule_set_version: Arc::from(row.rule_set_version),
                    rules,
                    errors: form.errors,
                })
            }
            _ => Err(unreadable("not a stored evaluation in any of its forms")),
        }
    }

    pub fn rule_set_version(&self) -> &str {
        &self.rule_set_version
    }

    /// Whether its rule set's titles, severities or messages are needed
    /// (the compact and lean forms).
    pub fn needs_rule_set(&self) -> bool {
        self.rules.iter().any(|r| {
            r.title.is_none()
                || r.title_en.is_none()
                || r.severity.is_none()
                || r.violations.iter().any(|v| v.message_sv.is_none() || v.message_en.is_none())
        })
    }

    /// The whole evaluation, with what its rule set says from `catalog` where
    /// it was not stored. A rule the rule set does not know keeps its id as
    /// title and counts as blocking, a check it does not know has its id as
    /// message; both are logged.
    pub fn complete(self, catalog: &dyn RuleTexts) -> Evaluation {
        let version = self.rule_set_version;
        let rules = self
            .rules
            .into_iter()
            .map(|r| {
                let (title, title_en, severity) = match (r.title, r.title_en, r.severity) {
                    (Some(title), Some(title_en), Some(severity)) => (title, title_en, severity),
                    _ => match catalog.meta(&version, &r.rule) {
                        Some(m) => (m.title, m.title_en, m.severity),
                        None => {
                            log::warn!("rule set {version} has no rule {} on record; showing its id", r.rule);
                            (r.rule.clone(), r.rule.clone(), Severity::Blocking)
                        }
                    },
                };
                let violations = r
                    .violations
                    .into_iter()
                    .map(|v| {
                        let (message_sv, message_en) =
                            v.stored_messages().or_else(|| catalog.message(&version, &v.check)).unwrap_or_else(|| {
                                log::warn!("rule set {version} has no check {} on record; showing its id", v.check);
                                (v.check.clone(), v.check.clone())
                            });
                        Violation { check: v.check, pointer: v.pointer, message_sv, message_en }
                    })
                    .collect();
                // Every rule has its outcome once parsed (see `parse`).
                let outcome = r.outcome.unwrap_or(RuleOutcome::Fail);
                RuleResult { rule: r.rule, title, title_en, severity, outcome, violations }
            })
            .collect();
        Evaluation { verdict: self.verdict, rule_set_version: version, rules, errors: self.errors }
    }
}

/// The rules of a stored evaluation (any form) with each rule's violations
/// left as text, for a re-evaluation that repeats the violations of a few
/// rules: only theirs are read.
#[derive(Debug)]
pub struct StoredRules<'a> {
    rules: Vec<RawRule<'a>>,
    /// The lean form, which stores only the rules that reported violations.
    lean: bool,
}

#[derive(Debug, Deserialize)]
struct RawForm<'a> {
    verdict: Option<Verdict>,
    #[serde(borrow)]
    rule_set_version: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    outcomes: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    rules: Vec<RawRule<'a>>,
}

#[derive(Debug, Deserialize)]
struct RawRule<'a> {
    #[serde(borrow)]
    rule: std::borrow::Cow<'a, str>,
    outcome: Option<RuleOutcome>,
    #[serde(borrow, default)]
    violations: Option<&'a serde_json::value::RawValue>,
}

impl<'a> StoredRules<'a> {
    pub fn parse(text: &'a str) -> Result<StoredRules<'a>, serde_json::Error> {
        let form: RawForm<'a> = serde_json::from_str(text)?;
        match (form.verdict, form.rule_set_version, form.outcomes) {
            (Some(_), Some(_), None) if form.rules.iter().all(|r| r.outcome.is_some()) => {
                Ok(StoredRules { rules: form.rules, lean: false })
            }
            (None, None, Some(_)) => Ok(StoredRules { rules: form.rules, lean: true }),
            _ => Err(unreadable("not a stored evaluation")),
        }
    }

    /// The violations of a rule whose outcome the evaluation's row gives as
    /// `recorded`, as the whole stored evaluation gives them; `message` gives
    /// a check's messages where they were not stored (the lean form). None
    /// when it has no result for the rule, a different outcome, or
    /// violations that do not read.
    pub fn rule(
        &self,
        rule: &str,
        recorded: RuleOutcome,
        message: impl Fn(&str) -> Option<(Arc<str>, Arc<str>)>,
    ) -> Option<Vec<Violation>> {
        let Some(found) = self.rules.iter().find(|r| r.rule == rule) else {
            return self.lean.then(Vec::new);
        };
        if found.outcome.is_some_and(|stored| stored != recorded) {
            return None;
        }
        let Some(text) = found.violations else { return Some(Vec::new()) };
        let stored: Vec<StoredViolation> = serde_json::from_str(text.get()).ok()?;
        stored
            .into_iter()
            .map(|v| {
                let (message_sv, message_en) = v.stored_messages().or_else(|| message(&v.check))?;
                Some(Violation { check: v.check, pointer: v.pointer, message_sv, message_en })
            })
            .collect()
    }
}

/// The rules of a compact outcome list (`R1=pass,R2=warn,…`) with each
/// outcome (None for one that does not read).
pub fn compact_outcomes(outcomes: &str) -> impl Iterator<Item = (&str, Option<RuleOutcome>)> {
    outcomes.split(',').filter_map(|pair| pair.split_once('=')).map(|(id, outcome)| (id, RuleOutcome::parse(outcome)))
}

/// Where a stored evaluation's missing words come from: the titles,
/// severities and messages of each rule-set version (`catalog::RuleCatalog`).
pub trait RuleTexts {
    fn meta(&self, version: &str, rule: &str) -> Option<RuleMeta>;
    fn message(&self, version: &str, check: &str) -> Option<(Arc<str>, Arc<str>)>;
}

/// What a rule set says of one of its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMeta {
    pub title: Arc<str>,
    pub title_en: Arc<str>,
    pub severity: Severity,
}

impl Evaluation {
    /// The lean stored form (see `LeanForm`); `StoredOutcome` reads it back
    /// with its row and its rule set.
    pub fn to_lean(&self) -> Result<String, serde_json::Error> {
        self.to_lean_with(&self.rule_outcomes())
    }

    /// `to_lean` for a writer that has made the rule outcomes already.
    pub fn to_lean_with(&self, rule_outcomes: &str) -> Result<String, serde_json::Error> {
        serde_json::to_string(&LeanForm {
            outcomes: rule_outcomes,
            rules: self
                .rules
                .iter()
                .filter(|r| !r.violations.is_empty())
                .map(|r| LeanRule {
                    rule: &r.rule,
                    violations: r
                        .violations
                        .iter()
                        .map(|v| LeanViolation { check: &v.check, pointer: &v.pointer })
                        .collect(),
                })
                .collect(),
            errors: &self.errors,
        })
    }

    /// The rule outcomes in a compact form: "R1=pass,R2=fail,…".
    pub fn rule_outcomes(&self) -> String {
        let mut out = String::with_capacity(self.rules.len() * 18);
        for (i, r) in self.rules.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&r.rule);
            out.push('=');
            out.push_str(r.outcome.as_str());
        }
        out
    }

    pub fn rule(&self, id: &str) -> Option<&RuleResult> {
        self.rules.iter().find(|r| &*r.rule == id)
    }
}

/// Rule-set versions: those an evaluation is worse than. Stored as a JSON
/// array of strings (`evaluations.worse_than`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionList(pub Vec<String>);

impl VersionList {
    /// The stored form of an empty list.
    pub const NONE: &'static str = "[]";

    /// The stored form read back; a value that is not a list of strings
    /// (which the column's constraint refuses) reads as empty.
    pub fn parse(stored: &str) -> VersionList {
        match serde_json::from_str(stored) {
            Ok(list) => VersionList(list),
            Err(e) => {
                log::warn!("a list of rule-set versions does not parse ({e}): {stored:.80}");
                VersionList::default()
            }
        }
    }

    pub fn stored(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| Self::NONE.to_string())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn lists(&self, version: &str) -> bool {
        self.0.iter().any(|listed| listed == version)
    }

    /// The form a row's digest covers: the versions comma-joined, as the
    /// audit chain has recorded them from the start.
    pub fn record(&self) -> String {
        self.0.join(",")
    }
}

#[cfg(test)]
mod tests;
