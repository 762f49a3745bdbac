//! The text form of an evaluation: what a person reads in a terminal. One line
//! per rule, and under each failing rule its checks and messages.

use std::fmt::Write;

use super::model::{Evaluation, RuleOutcome, Severity, Verdict};
use crate::i18n::catalogue;

pub use crate::lang::Lang;

fn outcome_label(outcome: RuleOutcome, lang: Lang) -> String {
    catalogue().text(
        lang,
        match outcome {
            RuleOutcome::Pass => "cli-outcome-pass",
            RuleOutcome::Fail => "cli-outcome-fail",
            RuleOutcome::Warn => "cli-outcome-warn",
            RuleOutcome::NotApplicable => "cli-outcome-not_applicable",
        },
    )
}

fn severity_label(severity: Severity, lang: Lang) -> String {
    catalogue().text(
        lang,
        match severity {
            Severity::Blocking => "cli-severity-blocking",
            Severity::Advisory => "cli-severity-advisory",
        },
    )
}

/// Renders the evaluation of `source` (a file name, or "-" for stdin).
pub fn render(source: &str, evaluation: &Evaluation, lang: Lang) -> String {
    let mut out = String::new();
    let sv = lang == Lang::Sv;
    // Words about the rules, not a decision: only an approver decides.
    let verdict = match evaluation.verdict {
        Verdict::Pass => "cli-verdict-pass",
        Verdict::Fail => "cli-verdict-fail",
        Verdict::Invalid => "cli-verdict-invalid",
    };
    let version: &str = &evaluation.rule_set_version;
    let source = if source == "-" { catalogue().text(lang, "cli-stdin") } else { source.to_string() };
    let _ = writeln!(out, "{source}: {}", catalogue().text(lang, verdict));
    let _ = writeln!(out, "{}", catalogue().format(lang, "cli-rule_set", &[("version", version.into())]));
    if evaluation.verdict == Verdict::Invalid {
        let _ = writeln!(out);
        for error in &evaluation.errors {
            let pointer = if error.pointer.is_empty() { "/" } else { error.pointer.as_str() };
            let message = if sv { &error.message_sv } else { &error.message };
            let _ = writeln!(out, "  {pointer}");
            let _ = writeln!(out, "      {message}");
        }
        return out;
    }
    let width = evaluation.rules.iter().map(|r| title(r, sv).chars().count()).max().unwrap_or(0);
    let _ = writeln!(out);
    for rule in &evaluation.rules {
        let name = title(rule, sv);
        let pad = width.saturating_sub(name.chars().count());
        let _ = writeln!(
            out,
            "  {:<4} {name}{:pad$}  {:<14} ({})",
            rule.rule,
            "",
            outcome_label(rule.outcome, lang),
            severity_label(rule.severity, lang),
        );
        for violation in &rule.violations {
            let pointer = if violation.pointer.is_empty() { "/" } else { violation.pointer.as_str() };
            let message = if sv { &violation.message_sv } else { &violation.message_en };
            let _ = writeln!(out, "       {:<5} {pointer}", violation.check);
            let _ = writeln!(out, "             {message}");
        }
    }
    out
}

fn title(rule: &super::model::RuleResult, sv: bool) -> &str {
    if sv { &rule.title } else { &rule.title_en }
}
