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
        let forms = [evaluation.to_lean().unwrap(), compact(evaluation), serde_json::to_string(evaluation).unwrap()];
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
            assert_eq!(catalog.message(version, &check.id), Some((check.message_sv.clone(), check.message_en.clone())));
        }
        assert_eq!(catalog.message(version, &rule.id), Some((rule.title_sv.clone(), rule.title_en.clone())));
    }
    assert_eq!(catalog.message(version, "R99.1"), None);
    assert_eq!(catalog.message("another", "R1.1"), None);
}
