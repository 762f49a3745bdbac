//! The evaluation outcome: the object `tillit check --format json` prints and
//! `POST /api/v1/evaluate` returns.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    Invalid,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Invalid => "invalid",
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
mod tests {
    use super::super::catalog::RuleCatalog;
    use super::*;

    fn evaluations() -> (crate::policy::PolicySet, Vec<Evaluation>) {
        let policies = crate::policy::load(None).unwrap();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/examples");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            if name.ends_with(".json") && !name.ends_with(".expected.json") {
                let (_, evaluation) = policies.evaluate_bytes(&std::fs::read(&path).unwrap()).unwrap();
                out.push(evaluation);
            }
        }
        (policies, out)
    }

    /// The compact form, which re-evaluations stored before the lean one:
    /// the full form without titles and severities. Rows in it stay.
    fn compact(evaluation: &Evaluation) -> String {
        let mut value = serde_json::to_value(evaluation).unwrap();
        for rule in value["rules"].as_array_mut().unwrap() {
            let rule = rule.as_object_mut().unwrap();
            for key in ["title", "title_en", "severity"] {
                rule.remove(key);
            }
            if rule["violations"].as_array().unwrap().is_empty() {
                rule.remove("violations");
            }
        }
        if value["errors"].as_array().unwrap().is_empty() {
            value.as_object_mut().unwrap().remove("errors");
        }
        serde_json::to_string(&value).unwrap()
    }

    fn row_of(evaluation: &Evaluation) -> RowSummary<'_> {
        RowSummary { rule_set_version: &evaluation.rule_set_version, verdict: evaluation.verdict.as_str() }
    }

    #[test]
    fn the_lean_form_reads_back_whole_with_its_row_and_rule_set() {
        let (policies, evaluations) = evaluations();
        assert!(evaluations.iter().any(|e| e.verdict == Verdict::Fail) && evaluations.len() >= 5);
        assert!(evaluations.iter().any(|e| e.rules.iter().any(|r| !r.violations.is_empty())));
        let catalog = RuleCatalog::of(&policies);
        for evaluation in &evaluations {
            let lean = evaluation.to_lean().unwrap();
            assert!(lean.len() < compact(evaluation).len(), "{lean}");
            for repeated in ["title", "message", "rule_set_version", "verdict", "\"outcome\""] {
                assert!(!lean.contains(repeated), "{repeated} in {lean}");
            }
            assert!(lean.contains(&format!("\"outcomes\":\"{}\"", evaluation.rule_outcomes())), "{lean}");
            if evaluation.rules.iter().all(|r| r.violations.is_empty()) && evaluation.errors.is_empty() {
                assert_eq!(lean, format!(r#"{{"outcomes":"{}","rules":[]}}"#, evaluation.rule_outcomes()));
            }
            let stored = StoredOutcome::parse(&lean, row_of(evaluation)).unwrap();
            assert!(stored.needs_rule_set() || evaluation.rules.is_empty());
            assert_eq!(&stored.complete(&catalog), evaluation);
        }
    }

    #[test]
    fn the_compact_form_reads_back_whole_with_the_rule_sets_titles() {
        let (policies, evaluations) = evaluations();
        let catalog = RuleCatalog::of(&policies);
        for evaluation in &evaluations {
            let compact = compact(evaluation);
            assert!(!compact.contains("title"));
            // Its row is not read: the compact form says it all but titles.
            let other_row = RowSummary { rule_set_version: "another", verdict: "invalid" };
            let stored = StoredOutcome::parse(&compact, other_row).unwrap();
            assert!(stored.needs_rule_set() || evaluation.rules.is_empty());
            assert_eq!(&stored.complete(&catalog), evaluation);
        }
    }

    #[test]
    fn the_rule_outcomes_list_each_rule_with_its_outcome_in_order() {
        let (_, evaluations) = evaluations();
        for evaluation in &evaluations {
            let expected: Vec<String> =
                evaluation.rules.iter().map(|r| format!("{}={}", r.rule, r.outcome.as_str())).collect();
            assert_eq!(evaluation.rule_outcomes(), expected.join(","));
        }
        let failing = evaluations.iter().find(|e| e.verdict == Verdict::Fail).unwrap();
        assert!(failing.rule_outcomes().starts_with("R1="), "{}", failing.rule_outcomes());
        assert!(failing.rule_outcomes().contains("=fail"), "{}", failing.rule_outcomes());
    }

    #[test]
    fn the_full_form_reads_back_without_the_rule_set() {
        let (_, evaluations) = evaluations();
        for evaluation in &evaluations {
            let full = serde_json::to_string(evaluation).unwrap();
            let stored = StoredOutcome::parse(&full, row_of(evaluation)).unwrap();
            assert!(!stored.needs_rule_set());
            // An empty catalogue: anything taken from it would show ids.
            assert_eq!(&stored.complete(&RuleCatalog::default()), evaluation);
        }
    }

    #[test]
    fn the_rules_read_one_at_a_time_are_those_of_the_whole_evaluation() {
        let (policies, evaluations) = evaluations();
        let catalog = RuleCatalog::of(&policies);
        let message = |check: &str| catalog.message(policies.version(), check);
        assert!(evaluations.iter().any(|e| e.rules.iter().any(|r| !r.violations.is_empty())));
        for evaluation in &evaluations {
            let forms =
                [evaluation.to_lean().unwrap(), compact(evaluation), serde_json::to_string(evaluation).unwrap()];
            for text in forms {
                let rules = StoredRules::parse(&text).unwrap();
                for rule in &evaluation.rules {
                    assert_eq!(rules.rule(&rule.rule, rule.outcome, message), Some(rule.violations.clone()), "{text}");
                    // Without the messages, a lean form's violations do not read.
                    let none = rules.rule(&rule.rule, rule.outcome, |_| None);
                    if text.starts_with("{\"outcomes\"") && !rule.violations.is_empty() {
                        assert_eq!(none, None, "{text}");
                    } else {
                        assert_eq!(none, Some(rule.violations.clone()), "{text}");
                    }
                }
                if !text.starts_with("{\"outcomes\"") {
                    assert_eq!(rules.rule("R99", RuleOutcome::Fail, message), None);
                    // The stored outcome must be the one the row records.
                    if let Some(rule) = evaluation.rules.iter().find(|r| r.outcome == RuleOutcome::Fail) {
                        assert_eq!(rules.rule(&rule.rule, RuleOutcome::Warn, message), None, "{text}");
                    }
                }
            }
        }
        let without = r#"{"verdict":"pass","rule_set_version":"v1","rules":[{"rule":"R1","outcome":"pass"}]}"#;
        assert_eq!(StoredRules::parse(without).unwrap().rule("R1", RuleOutcome::Pass, message), Some(Vec::new()));
        for unreadable in [
            r#"{"rules":[]}"#,
            r#"{"verdict":"maybe","rule_set_version":"v1","rules":[]}"#,
            r#"{"verdict":"pass","rule_set_version":"v1","outcomes":"R1=pass","rules":[]}"#,
            r#"{"verdict":"pass","rule_set_version":"v1","rules":[{"rule":"R1"}]}"#,
            "[]",
        ] {
            assert!(StoredRules::parse(unreadable).is_err(), "{unreadable}");
        }
    }

    #[test]
    fn a_stored_outcome_that_does_not_read_is_an_error() {
        let row = RowSummary { rule_set_version: "v1", verdict: "fail" };
        for unreadable in [
            r#"{"rules":[]}"#,
            r#"{"outcomes":"R1=maybe","rules":[]}"#,
            r#"{"outcomes":"R1=fail","rules":[{"rule":"R2","violations":[{"check":"R2.1","pointer":""}]}]}"#,
            r#"{"verdict":"fail","rule_set_version":"v1","rules":[{"rule":"R1"}]}"#,
            r#"{"verdict":"fail","outcomes":"R1=fail","rules":[]}"#,
        ] {
            assert!(StoredOutcome::parse(unreadable, row).is_err(), "{unreadable}");
        }
        let lean = r#"{"outcomes":"R1=fail","rules":[]}"#;
        assert!(StoredOutcome::parse(lean, RowSummary { rule_set_version: "v1", verdict: "maybe" }).is_err());
    }

    #[test]
    fn a_rule_or_check_the_rule_set_does_not_know_shows_its_id() {
        let row = RowSummary { rule_set_version: "v1", verdict: "fail" };
        let stored = StoredOutcome::parse(
            r#"{"verdict":"fail","rule_set_version":"v1","rules":[{"rule":"R9","outcome":"fail"}]}"#,
            row,
        )
        .unwrap();
        let evaluation = stored.complete(&RuleCatalog::default());
        assert_eq!(&*evaluation.rules[0].title, "R9");
        assert_eq!(evaluation.rules[0].severity, Severity::Blocking);
        assert_eq!(evaluation.rules[0].outcome, RuleOutcome::Fail);
        assert!(evaluation.errors.is_empty());
        let lean = r#"{"outcomes":"R9=fail","rules":[{"rule":"R9","violations":[{"check":"R9.1","pointer":"/x"}]}]}"#;
        let evaluation = StoredOutcome::parse(lean, row).unwrap().complete(&RuleCatalog::default());
        assert_eq!(evaluation.verdict, Verdict::Fail);
        assert_eq!(&*evaluation.rule_set_version, "v1");
        let violation = &evaluation.rules[0].violations[0];
        assert_eq!((&*violation.check, violation.pointer.as_str()), ("R9.1", "/x"));
        assert_eq!((&*violation.message_sv, &*violation.message_en), ("R9.1", "R9.1"));
    }

    #[test]
    fn the_catalogue_gives_each_checks_messages_and_a_rules_title_for_a_violation_named_after_it() {
        let policies = crate::policy::load(None).unwrap();
        let catalog = RuleCatalog::of(&policies);
        let version = policies.version();
        for rule in policies.rules() {
            for check in &rule.checks {
                assert_eq!(
                    catalog.message(version, &check.id),
                    Some((check.message_sv.clone(), check.message_en.clone()))
                );
            }
            assert_eq!(catalog.message(version, &rule.id), Some((rule.title_sv.clone(), rule.title_en.clone())));
        }
        assert_eq!(catalog.message(version, "R99.1"), None);
        assert_eq!(catalog.message("another", "R1.1"), None);
    }
}
