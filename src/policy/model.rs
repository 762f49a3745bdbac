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

/// One rule's result in the compact stored form: what the rule set itself
/// does not say. Its title and severity are in the rule set's files, kept in
/// `rule_sets`, so they are not repeated in every stored evaluation (they were
/// about three quarters of each one).
#[derive(Serialize)]
struct CompactRule<'a> {
    rule: &'a str,
    outcome: RuleOutcome,
    #[serde(skip_serializing_if = "<[Violation]>::is_empty")]
    violations: &'a [Violation],
}

#[derive(Serialize)]
struct CompactForm<'a> {
    verdict: Verdict,
    rule_set_version: &'a str,
    rules: Vec<CompactRule<'a>>,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

/// A stored evaluation as read back: in the full form (every field of
/// `Evaluation`) or in the compact one (no titles and severities).
#[derive(Debug, Deserialize)]
struct StoredRule {
    rule: Arc<str>,
    outcome: RuleOutcome,
    #[serde(default)]
    violations: Vec<Violation>,
    title: Option<Arc<str>>,
    title_en: Option<Arc<str>>,
    severity: Option<Severity>,
}

#[derive(Debug, Deserialize)]
pub struct StoredOutcome {
    verdict: Verdict,
    rule_set_version: Arc<str>,
    rules: Vec<StoredRule>,
    #[serde(default)]
    errors: Vec<FieldError>,
}

impl StoredOutcome {
    /// Reads a stored evaluation in either form.
    pub fn parse(text: &str) -> Result<StoredOutcome, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn rule_set_version(&self) -> &str {
        &self.rule_set_version
    }

    /// Whether it is in the compact form (its rule set's titles are needed).
    pub fn is_compact(&self) -> bool {
        self.rules.iter().any(|r| r.title.is_none() || r.title_en.is_none() || r.severity.is_none())
    }

    /// The whole evaluation. `meta` gives what its rule set says of a rule
    /// (for the compact form); a rule it does not know keeps its id as
    /// title and counts as blocking, and is logged.
    pub fn complete(self, meta: impl Fn(&str, &str) -> Option<RuleMeta>) -> Evaluation {
        let version = self.rule_set_version;
        let rules = self
            .rules
            .into_iter()
            .map(|r| {
                let (title, title_en, severity) = match (r.title, r.title_en, r.severity) {
                    (Some(title), Some(title_en), Some(severity)) => (title, title_en, severity),
                    _ => match meta(&version, &r.rule) {
                        Some(m) => (m.title, m.title_en, m.severity),
                        None => {
                            log::warn!("rule set {version} has no rule {} on record; showing its id", r.rule);
                            (r.rule.clone(), r.rule.clone(), Severity::Blocking)
                        }
                    },
                };
                RuleResult { rule: r.rule, title, title_en, severity, outcome: r.outcome, violations: r.violations }
            })
            .collect();
        Evaluation { verdict: self.verdict, rule_set_version: version, rules, errors: self.errors }
    }
}

/// The rules of a stored evaluation (either form) with each rule's
/// violations left as text, for a re-evaluation that repeats the violations
/// of a few rules: only theirs are read.
#[derive(Debug, Deserialize)]
pub struct StoredRules<'a> {
    // Read so that a stored evaluation without them does not read, as
    // with `StoredOutcome`.
    #[serde(rename = "verdict")]
    _verdict: Verdict,
    #[serde(rename = "rule_set_version", borrow)]
    _rule_set_version: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    rules: Vec<RawRule<'a>>,
}

#[derive(Debug, Deserialize)]
struct RawRule<'a> {
    #[serde(borrow)]
    rule: std::borrow::Cow<'a, str>,
    outcome: RuleOutcome,
    #[serde(borrow, default)]
    violations: Option<&'a serde_json::value::RawValue>,
}

impl<'a> StoredRules<'a> {
    pub fn parse(text: &'a str) -> Result<StoredRules<'a>, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// A rule's outcome and violations, as the whole stored evaluation
    /// gives them (None when it has no result for the rule, or its
    /// violations do not read).
    pub fn rule(&self, rule: &str) -> Option<(RuleOutcome, Vec<Violation>)> {
        let found = self.rules.iter().find(|r| r.rule == rule)?;
        let violations = match found.violations {
            Some(text) => serde_json::from_str(text.get()).ok()?,
            None => Vec::new(),
        };
        Some((found.outcome, violations))
    }
}

/// What a rule set says of one of its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMeta {
    pub title: Arc<str>,
    pub title_en: Arc<str>,
    pub severity: Severity,
}

impl Evaluation {
    /// The compact stored form (see `CompactRule`); `StoredOutcome` reads it
    /// back with the rule set's titles and severities.
    pub fn to_compact(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&CompactForm {
            verdict: self.verdict,
            rule_set_version: &self.rule_set_version,
            rules: self
                .rules
                .iter()
                .map(|r| CompactRule { rule: &r.rule, outcome: r.outcome, violations: &r.violations })
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

#[cfg(test)]
mod tests {
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

    fn meta_of(policies: &crate::policy::PolicySet) -> impl Fn(&str, &str) -> Option<RuleMeta> + '_ {
        move |version, rule| {
            assert_eq!(version, policies.version());
            policies.rules().iter().find(|r| &*r.id == rule).map(|r| RuleMeta {
                title: r.title_sv.clone(),
                title_en: r.title_en.clone(),
                severity: r.severity,
            })
        }
    }

    #[test]
    fn the_compact_form_reads_back_whole_with_the_rule_sets_titles() {
        let (policies, evaluations) = evaluations();
        assert!(evaluations.iter().any(|e| e.verdict == Verdict::Fail) && evaluations.len() >= 5);
        for evaluation in &evaluations {
            let compact = evaluation.to_compact().unwrap();
            let full = serde_json::to_string(evaluation).unwrap();
            assert!(compact.len() < full.len(), "{compact}");
            if evaluation.verdict == Verdict::Pass {
                assert!(compact.len() * 3 < full.len(), "{compact}");
            }
            assert!(!compact.contains("title"));
            let stored = StoredOutcome::parse(&compact).unwrap();
            assert!(stored.is_compact());
            assert_eq!(&stored.complete(meta_of(&policies)), evaluation);
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
            let stored = StoredOutcome::parse(&serde_json::to_string(evaluation).unwrap()).unwrap();
            assert!(!stored.is_compact());
            assert_eq!(&stored.complete(|_, _| panic!("no rule set is needed")), evaluation);
        }
    }

    #[test]
    fn the_rules_read_one_at_a_time_are_those_of_the_whole_evaluation() {
        let (_, evaluations) = evaluations();
        assert!(evaluations.iter().any(|e| e.rules.iter().any(|r| !r.violations.is_empty())));
        for evaluation in &evaluations {
            for text in [evaluation.to_compact().unwrap(), serde_json::to_string(evaluation).unwrap()] {
                let rules = StoredRules::parse(&text).unwrap();
                for rule in &evaluation.rules {
                    assert_eq!(rules.rule(&rule.rule), Some((rule.outcome, rule.violations.clone())), "{text}");
                }
                assert_eq!(rules.rule("R99"), None);
            }
        }
        let without = r#"{"verdict":"pass","rule_set_version":"v1","rules":[{"rule":"R1","outcome":"pass"}]}"#;
        assert_eq!(StoredRules::parse(without).unwrap().rule("R1"), Some((RuleOutcome::Pass, Vec::new())));
        for unreadable in [r#"{"rules":[]}"#, r#"{"verdict":"maybe","rule_set_version":"v1","rules":[]}"#, "[]"] {
            assert!(StoredRules::parse(unreadable).is_err(), "{unreadable}");
        }
    }

    #[test]
    fn a_rule_the_rule_set_does_not_know_shows_its_id_and_counts_as_blocking() {
        let stored = StoredOutcome::parse(
            r#"{"verdict":"fail","rule_set_version":"v1","rules":[{"rule":"R9","outcome":"fail"}]}"#,
        )
        .unwrap();
        let evaluation = stored.complete(|_, _| None);
        assert_eq!(&*evaluation.rules[0].title, "R9");
        assert_eq!(evaluation.rules[0].severity, Severity::Blocking);
        assert_eq!(evaluation.rules[0].outcome, RuleOutcome::Fail);
        assert!(evaluation.errors.is_empty());
    }
}
