//! The text form of an evaluation: what a person reads in a terminal. One line
//! per rule, and under each failing rule its checks and messages.

use std::fmt::Write;

use super::model::{Evaluation, RuleOutcome, Severity, Verdict};

pub use crate::lang::Lang;

fn outcome_label(outcome: RuleOutcome, lang: Lang) -> &'static str {
    match (outcome, lang) {
        (RuleOutcome::Pass, Lang::Sv) => "uppfyllt",
        (RuleOutcome::Fail, Lang::Sv) => "EJ UPPFYLLT",
        (RuleOutcome::Warn, Lang::Sv) => "varning",
        (RuleOutcome::NotApplicable, Lang::Sv) => "ej tillämplig",
        (RuleOutcome::Pass, Lang::En) => "pass",
        (RuleOutcome::Fail, Lang::En) => "FAIL",
        (RuleOutcome::Warn, Lang::En) => "warning",
        (RuleOutcome::NotApplicable, Lang::En) => "not applicable",
    }
}

fn severity_label(severity: Severity, lang: Lang) -> &'static str {
    match (severity, lang) {
        (Severity::Blocking, Lang::Sv) => "blockerande",
        (Severity::Advisory, Lang::Sv) => "rådgivande",
        (Severity::Blocking, Lang::En) => "blocking",
        (Severity::Advisory, Lang::En) => "advisory",
    }
}

/// Renders the evaluation of `source` (a file name, or "-" for stdin).
pub fn render(source: &str, evaluation: &Evaluation, lang: Lang) -> String {
    let mut out = String::new();
    let sv = lang == Lang::Sv;
    let (verdict, explanation) = match (evaluation.verdict, sv) {
        // Words about the rules, not a decision: only an approver decides.
        (Verdict::Pass, true) => ("uppfyller reglerna", "alla blockerande regler är uppfyllda"),
        (Verdict::Fail, true) => {
            ("uppfyller inte reglerna", "minst en blockerande regel är inte uppfylld; tjänsten kan inte godkännas")
        }
        (Verdict::Invalid, true) => {
            ("kan inte prövas", "dokumentet följer inte inlämningsschemat; inga regler har prövats")
        }
        (Verdict::Pass, false) => ("meets the rules", "every blocking rule holds"),
        (Verdict::Fail, false) => {
            ("does not meet the rules", "at least one blocking rule fails; the service cannot be approved")
        }
        (Verdict::Invalid, false) => {
            ("cannot be checked", "the document does not follow the submission schema; no rule was checked")
        }
    };
    let source = if source == "-" { if sv { "standard in" } else { "standard input" } } else { source };
    let _ = writeln!(out, "{source}: {verdict} ({explanation})");
    let _ = writeln!(out, "{} {}", if sv { "Regeluppsättning" } else { "Rule set" }, evaluation.rule_set_version);
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
