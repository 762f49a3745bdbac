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

impl Evaluation {
    /// The rule outcomes in a compact form: "R1=pass,R2=fail,…".
    pub fn rule_outcomes(&self) -> String {
        self.rules.iter().map(|r| format!("{}={}", r.rule, r.outcome.as_str())).collect::<Vec<_>>().join(",")
    }

    pub fn rule(&self, id: &str) -> Option<&RuleResult> {
        self.rules.iter().find(|r| &*r.rule == id)
    }
}
