//! How the rules in force relate to those of an earlier rule set, so that a
//! re-evaluation can carry over what an earlier evaluation of the same
//! stored revision already showed. A rule is a pure function of its policy
//! file and the document, and a stored revision never changes, so:
//!
//! - a rule of identical text has the same outcome as before;
//! - a rule whose applicability condition is the same and whose checks are
//!   partly the same (a check added, changed or removed) has, where it passed
//!   before, held every check it shares with the earlier rule; only its other
//!   checks need to run. Where it did not apply before, it does not apply now.
//!
//! Checks and conditions are compared as text, each with every definition of
//! the file it refers to, so that a change to a shared definition (such as
//! `nonEmptyText`) counts as a change to every check that uses it. Anything
//! that cannot be compared that way (a `$ref` that leaves `$defs`, an `$id`
//! or an anchor) counts as changed.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::PolicySet;
use super::model::{RuleOutcome, Violation};
use super::source::PolicySource;

/// What is known of a rule's outcome on a document before it runs, from an
/// earlier evaluation of the same document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prior {
    /// Nothing: the rule runs.
    Unknown,
    /// The outcome, one that carries no violations (pass or not applicable).
    Known(RuleOutcome),
    /// The outcome of a rule of the same text (fail or warn), with the
    /// violations the earlier evaluation reported: the same rule on the same
    /// document reports the same ones.
    Repeated(RuleOutcome, Vec<Violation>),
    /// The rule applies and every check it shares with the earlier rule
    /// held: only the checks in this set run (bit `i` for `checks[i]`).
    Held(u64),
}

impl Prior {
    /// The prior that leaves the least to run.
    pub fn or_better(self, other: Prior) -> Prior {
        let work = |p: &Prior| match p {
            Prior::Known(_) | Prior::Repeated(..) => 0,
            Prior::Held(mask) => 1 + mask.count_ones(),
            Prior::Unknown => u32::MAX,
        };
        if work(&other) < work(&self) { other } else { self }
    }
}

/// How a rule in force relates to the rule of the same id in an earlier set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The same text: the earlier outcome stands.
    Same,
    /// The same applicability condition; the checks in this set (bit `i` for
    /// `checks[i]`) are new or changed, the others are the same.
    Kept(u64),
    /// Nothing carries over.
    Different,
}

/// The relation of every rule in force (by position) to one earlier rule set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lineage {
    relations: Vec<Relation>,
}

impl Lineage {
    /// Relates the rules in force to an earlier set's rules, given by rule
    /// id with each file's text and parsed document (`catalog::rules_in`).
    pub fn between(current: &PolicySet, earlier: &HashMap<String, (String, Value)>) -> Lineage {
        let relations = current
            .rules()
            .iter()
            .map(|rule| {
                let source = current.sources().iter().find(|s| s.file_name == rule.file);
                let (Some(source), Some((old_text, old_doc))) = (source, earlier.get(&*rule.id)) else {
                    return Relation::Different;
                };
                if &source.text == old_text {
                    return Relation::Same;
                }
                let Ok(doc) = serde_json::from_str::<Value>(&source.text) else {
                    return Relation::Different;
                };
                let (Some(now), Some(then)) = (RuleShape::of(&doc), RuleShape::of(old_doc)) else {
                    return Relation::Different;
                };
                if now.applies.is_none() || now.applies != then.applies || rule.checks.len() > 64 {
                    return Relation::Different;
                }
                let mut fresh = 0u64;
                for (i, check) in rule.checks.iter().enumerate() {
                    let text = now.checks.get(&*check.id);
                    if text.is_none() || then.checks.get(&*check.id) != text {
                        fresh |= 1 << i;
                    }
                }
                Relation::Kept(fresh)
            })
            .collect();
        Lineage { relations }
    }

    /// The relation of the rule in force at position `rule`.
    pub fn relation(&self, rule: usize) -> Relation {
        self.relations.get(rule).copied().unwrap_or(Relation::Different)
    }

    /// What the earlier outcome of the rule at position `rule` says of it now.
    /// A fail or warn of a rule of the same text stands with the violations
    /// reported then, which `violations` gives (read only in that case; None,
    /// or a different outcome, and the rule runs).
    pub fn prior(
        &self,
        rule: usize,
        earlier: Option<RuleOutcome>,
        violations: impl FnOnce() -> Option<(RuleOutcome, Vec<Violation>)>,
    ) -> Prior {
        match (self.relation(rule), earlier) {
            (Relation::Same, Some(outcome @ (RuleOutcome::Pass | RuleOutcome::NotApplicable))) => Prior::Known(outcome),
            (Relation::Same, Some(outcome @ (RuleOutcome::Fail | RuleOutcome::Warn))) => match violations() {
                Some((then, violations)) if then == outcome && !violations.is_empty() => {
                    Prior::Repeated(outcome, violations)
                }
                _ => Prior::Unknown,
            },
            (Relation::Kept(_), Some(RuleOutcome::NotApplicable)) => Prior::Known(RuleOutcome::NotApplicable),
            (Relation::Kept(0), Some(RuleOutcome::Pass)) => Prior::Known(RuleOutcome::Pass),
            (Relation::Kept(fresh), Some(RuleOutcome::Pass)) => Prior::Held(fresh),
            _ => Prior::Unknown,
        }
    }
}

/// The rules of a rule set's files, by rule id, with each file's text and
/// parsed document (the form `catalog::rules_in` reads from `rule_sets`).
pub fn rules_of(sources: &[PolicySource]) -> HashMap<String, (String, Value)> {
    let mut by_rule = HashMap::new();
    for source in sources {
        let Ok(doc) = serde_json::from_str::<Value>(&source.text) else { continue };
        if let Some(id) = doc.pointer("/x-tillit-rule/id").and_then(Value::as_str) {
            by_rule.insert(id.to_string(), (source.text.clone(), doc));
        }
    }
    by_rule
}

/// A rule's parts as comparable text.
struct RuleShape {
    /// `Some("")` for a rule that always applies, the condition's text for
    /// one that applies conditionally, None when it cannot be compared.
    applies: Option<String>,
    /// Each check that can be compared, by id.
    checks: HashMap<String, String>,
}

impl RuleShape {
    fn of(policy: &Value) -> Option<RuleShape> {
        let defs = policy.get("$defs")?.as_object()?;
        let applies = match policy.pointer("/x-tillit-rule/applies")?.as_str()? {
            "always" => Some(String::new()),
            "#/$defs/applies" => closed_text("applies", defs),
            _ => None,
        };
        let checks = defs
            .iter()
            .filter(|(_, def)| def.get("x-tillit-check").is_some())
            .filter_map(|(id, _)| Some((id.clone(), closed_text(id, defs)?)))
            .collect();
        Some(RuleShape { applies, checks })
    }
}

/// A definition with every definition it refers to, directly or not, as
/// text; None when it refers to anything outside `$defs` or names a scope.
fn closed_text(name: &str, defs: &Map<String, Value>) -> Option<String> {
    let mut names = BTreeSet::new();
    let mut pending = vec![name];
    while let Some(next) = pending.pop() {
        if names.insert(next) {
            refs_in(defs.get(next)?, &mut pending)?;
        }
    }
    let mut text = String::new();
    for name in names {
        text.push_str(name);
        text.push('\0');
        text.push_str(&serde_json::to_string(defs.get(name)?).ok()?);
        text.push('\0');
    }
    Some(text)
}

/// Collects the `$defs` names a schema refers to; None for a reference that
/// leaves `$defs` or a keyword that changes how references resolve.
fn refs_in<'a>(schema: &'a Value, out: &mut Vec<&'a str>) -> Option<()> {
    match schema {
        Value::Object(object) => {
            for (keyword, value) in object {
                match keyword.as_str() {
                    "$ref" => {
                        let name = value.as_str()?.strip_prefix("#/$defs/")?;
                        if name.contains(['/', '~', '%']) {
                            return None;
                        }
                        out.push(name);
                    }
                    "$id" | "$anchor" | "$dynamicRef" | "$dynamicAnchor" | "$recursiveRef" | "$recursiveAnchor" => {
                        return None;
                    }
                    _ => refs_in(value, out)?,
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                refs_in(item, out)?;
            }
        }
        _ => {}
    }
    Some(())
}
