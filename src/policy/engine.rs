//! Evaluation: schema validation first, then every rule on the same parsed
//! document. Every violation is reported, never just the first.

use std::sync::Arc;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use super::lineage::Prior;
use super::model::{Evaluation, RuleOutcome, RuleResult, Severity, Verdict, Violation};
use super::source::{PolicyOrigin, PolicySource};
use crate::error::FieldError;
use crate::i18n::Message;
use crate::json;

pub struct CompiledCheck {
    pub id: Arc<str>,
    /// The top-level fields of a submission the check reads (None: it may
    /// read the whole document).
    pub reads: Option<Box<[String]>>,
    pub message_sv: Arc<str>,
    pub message_en: Arc<str>,
    pub validator: jsonschema::Validator,
    /// The document fields its `if` condition (and, in a rule that applies
    /// only sometimes, the rule's condition) asks about: while one of them is
    /// unanswered, the check cannot be judged (a half-filled draft).
    pub condition: Box<[String]>,
    /// The fields it requires something of when its condition holds (its
    /// `then`, or the whole check in a rule that applies only sometimes).
    pub judges: Box<[String]>,
}

pub struct CompiledRule {
    pub id: Arc<str>,
    pub number: u32,
    pub file: String,
    /// The top-level fields of a submission the rule reads (None: it may
    /// read the whole document); see `loader::root_keys`.
    pub reads: Option<Box<[String]>>,
    pub title_sv: Arc<str>,
    pub title_en: Arc<str>,
    pub severity: Severity,
    /// The whole policy file: valid exactly when the rule passes or does not apply.
    pub whole: jsonschema::Validator,
    /// The applicability condition; None when the rule always applies.
    pub applies: Option<jsonschema::Validator>,
    pub checks: Vec<CompiledCheck>,
}

/// The compiled rule set, immutable once built and shared by every request.
/// A check of a draft that cannot be judged yet: its condition asks about a
/// field with no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub rule: Arc<str>,
    pub check: Arc<str>,
    /// The field the check would judge.
    pub pointer: String,
    /// The unanswered field its condition asks about.
    pub answer_first: String,
}

pub struct PolicySet {
    name: String,
    version: Arc<str>,
    origin: PolicyOrigin,
    sources: Vec<PolicySource>,
    submission: jsonschema::Validator,
    rules: Vec<CompiledRule>,
}

impl std::fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicySet").field("version", &self.version).field("rules", &self.rules.len()).finish()
    }
}

impl PolicySet {
    pub(super) fn new(
        name: String,
        version: Arc<str>,
        origin: PolicyOrigin,
        sources: Vec<PolicySource>,
        submission: jsonschema::Validator,
        rules: Vec<CompiledRule>,
    ) -> Self {
        PolicySet { name, version, origin, sources, submission, rules }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn origin(&self) -> &PolicyOrigin {
        &self.origin
    }

    pub fn sources(&self) -> &[PolicySource] {
        &self.sources
    }

    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// Parses the bytes strictly and evaluates them. A body that is not JSON
    /// at all is an error of its own (it has no pointer to report).
    pub fn evaluate_bytes(&self, bytes: &[u8]) -> Result<(Value, Evaluation), serde_json::Error> {
        let doc = json::parse_strict(bytes)?;
        let evaluation = self.evaluate(&doc);
        Ok((doc, evaluation))
    }

    /// Validates against the submission schema, then runs every rule.
    pub fn evaluate(&self, doc: &Value) -> Evaluation {
        let errors = self.schema_errors(doc);
        if !errors.is_empty() {
            return Evaluation {
                verdict: Verdict::Invalid,
                rule_set_version: self.version.clone(),
                rules: Vec::new(),
                errors,
            };
        }
        self.evaluate_stored(doc)
    }

    /// Every rule on a stored revision, which passed the submission schema
    /// (and the text checks) when it was stored and cannot change since: a
    /// re-evaluation after a rule change runs the rules only. The verdict is
    /// decided exactly as in `evaluate`.
    pub fn evaluate_stored(&self, doc: &Value) -> Evaluation {
        let rules = self.evaluate_rules(doc);
        let verdict = if rules.iter().any(|r| r.outcome == RuleOutcome::Fail) { Verdict::Fail } else { Verdict::Pass };
        Evaluation { verdict, rule_set_version: self.version.clone(), rules, errors: Vec::new() }
    }

    /// `evaluate_stored` when something of the rules' outcomes is already
    /// known, for a re-evaluation: `priors[i]` is what an earlier evaluation of
    /// this same document says of `rules()[i]` (see `lineage`). A known pass
    /// or not-applicable, and a repeated fail or warn with its violations, is
    /// reported as it is without running the rule again;
    /// a rule whose shared checks all held runs only its other checks; every
    /// other rule runs whole. `doc` needs to hold only the fields that this
    /// reads (`fields_read`).
    pub fn evaluate_stored_knowing(&self, doc: &Value, priors: &[Prior]) -> Evaluation {
        let rules: Vec<RuleResult> = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, rule)| match priors.get(i).unwrap_or(&Prior::Unknown) {
                Prior::Known(outcome) if reusable(*outcome) => result(rule, *outcome, Vec::new()),
                Prior::Repeated(outcome, violations) => result(rule, *outcome, violations.clone()),
                Prior::Held(fresh) => evaluate_checks(rule, doc, *fresh),
                _ => evaluate_rule(rule, doc),
            })
            .collect();
        let verdict = if rules.iter().any(|r| r.outcome == RuleOutcome::Fail) { Verdict::Fail } else { Verdict::Pass };
        Evaluation { verdict, rule_set_version: self.version.clone(), rules, errors: Vec::new() }
    }

    /// The top-level fields that `evaluate_stored_knowing` reads with these
    /// priors, or None when it needs the whole document.
    pub fn fields_read(&self, priors: &[Prior]) -> Option<Vec<&str>> {
        let mut fields: Vec<&str> = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            match priors.get(i).unwrap_or(&Prior::Unknown) {
                Prior::Known(outcome) if reusable(*outcome) => {}
                Prior::Repeated(..) => {}
                Prior::Held(fresh) => {
                    for (_, check) in rule.checks.iter().enumerate().filter(|(j, _)| in_set(*fresh, *j)) {
                        fields.extend(check.reads.as_deref()?.iter().map(String::as_str));
                    }
                }
                _ => fields.extend(rule.reads.as_deref()?.iter().map(String::as_str)),
            }
        }
        fields.sort_unstable();
        fields.dedup();
        Some(fields)
    }

    /// A draft's rules, judged only on answered facts: a violation of a check
    /// whose condition asks about a field not answered yet is taken out of
    /// its rule and returned as waiting for that answer. A rule left with
    /// only such checks is not judged yet (its outcome says `Fail` still, and
    /// the caller shows it as "cannot be judged yet").
    pub fn evaluate_answered(&self, doc: &Value) -> (Vec<RuleResult>, Vec<Waiting>) {
        let mut results = self.evaluate_rules(doc);
        let mut waiting = Vec::new();
        let unanswered = |pointer: &str| doc.pointer(pointer).is_none_or(Value::is_null);
        for result in &mut results {
            let Some(rule) = self.rules.iter().find(|r| r.id == result.rule) else { continue };
            result.violations.retain(|v| {
                let condition = rule.checks.iter().find(|c| c.id == v.check).map(|c| &c.condition[..]).unwrap_or(&[]);
                match condition.iter().find(|p| unanswered(p)) {
                    Some(first) => {
                        waiting.push(Waiting {
                            rule: result.rule.clone(),
                            check: v.check.clone(),
                            pointer: v.pointer.clone(),
                            answer_first: first.clone(),
                        });
                        false
                    }
                    None => true,
                }
            });
        }
        (results, waiting)
    }

    /// The fields whose answers decide whether the field at `pointer` is
    /// required: the conditions of the checks that require something of it
    /// (empty when no conditional check does).
    pub fn required_when(&self, pointer: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for check in self.rules.iter().flat_map(|r| r.checks.iter()) {
            let judged = check.judges.iter().any(|j| j == pointer || j.starts_with(&format!("{pointer}/")));
            if judged && !check.condition.is_empty() {
                for c in check.condition.iter().filter(|c| *c != pointer) {
                    if !out.contains(c) {
                        out.push(c.clone());
                    }
                }
            }
        }
        out
    }

    /// Every rule, without the schema's gate: for a draft that is not
    /// complete yet, so that a coordinator sees early which rules fail. The
    /// outcome is preliminary; only `evaluate` decides.
    pub fn evaluate_rules(&self, doc: &Value) -> Vec<RuleResult> {
        self.rules.iter().map(|rule| evaluate_rule(rule, doc)).collect()
    }

    /// Every schema error, plus every string holding a forbidden control or
    /// bidi character, with its pointer and a plain message.
    pub fn schema_errors(&self, doc: &Value) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if !self.submission.is_valid(doc) {
            for error in self.submission.iter_errors(doc) {
                describe_schema_error(&error, &mut errors);
            }
        }
        // JSON Schema counts 12.0 as an integer; Tillit stores and reads
        // whole numbers as integers, so a whole number written with a
        // fraction or an exponent is refused here, with its pointer.
        let mut decimals = Vec::new();
        whole_numbers_with_decimals(doc, String::new(), &mut decimals);
        for pointer in decimals {
            if !errors.iter().any(|e| e.pointer == pointer) {
                errors.push(FieldError::of(pointer, Message::new("error-whole_number")));
            }
        }
        for pointer in json::forbidden_text_pointers(doc) {
            if errors.iter().any(|e| e.pointer == pointer) {
                continue;
            }
            errors.push(FieldError::of(pointer, Message::new("error-control_character")));
        }
        errors
    }
}

/// Pointers of numbers that are whole but not written as integers (12.0, 1e1).
fn whole_numbers_with_decimals(value: &Value, pointer: String, out: &mut Vec<String>) {
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() && n.as_f64().is_some_and(|f| f.fract() == 0.0) => {
            out.push(pointer)
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                whole_numbers_with_decimals(item, format!("{pointer}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let key = key.replace('~', "~0").replace('/', "~1");
                whole_numbers_with_decimals(item, format!("{pointer}/{key}"), out);
            }
        }
        _ => {}
    }
}

/// Whether a known outcome can stand for running the rule: only those that
/// carry no violations.
fn reusable(outcome: RuleOutcome) -> bool {
    matches!(outcome, RuleOutcome::Pass | RuleOutcome::NotApplicable)
}

/// Whether bit `i` is in a set of checks.
fn in_set(set: u64, i: usize) -> bool {
    i < 64 && set >> i & 1 == 1
}

fn evaluate_rule(rule: &CompiledRule, doc: &Value) -> RuleResult {
    let mut violations = Vec::new();
    let outcome = if rule.whole.is_valid(doc) {
        match &rule.applies {
            Some(applies) if !applies.is_valid(doc) => RuleOutcome::NotApplicable,
            _ => RuleOutcome::Pass,
        }
    } else {
        for check in &rule.checks {
            check_violations(check, doc, &mut violations);
        }
        failed(rule, &mut violations)
    };
    result(rule, outcome, violations)
}

/// A rule that applies and whose other checks are known to hold, with only
/// the checks in `fresh` run: the same result as `evaluate_rule` on the same
/// document, since the checks that held report nothing.
fn evaluate_checks(rule: &CompiledRule, doc: &Value, fresh: u64) -> RuleResult {
    let mut violations = Vec::new();
    let mut held = true;
    for (_, check) in rule.checks.iter().enumerate().filter(|(i, _)| in_set(fresh, *i)) {
        held &= check_violations(check, doc, &mut violations);
    }
    let outcome = if held { RuleOutcome::Pass } else { failed(rule, &mut violations) };
    result(rule, outcome, violations)
}

/// Adds a check's violations, one per place; returns whether it held.
fn check_violations(check: &CompiledCheck, doc: &Value, violations: &mut Vec<Violation>) -> bool {
    if check.validator.is_valid(doc) {
        return true;
    }
    let first = violations.len();
    for error in check.validator.iter_errors(doc) {
        let pointer = error.instance_path().to_string();
        if violations[first..].iter().any(|v: &Violation| v.pointer == pointer) {
            continue;
        }
        violations.push(Violation {
            check: check.id.clone(),
            pointer,
            message_sv: check.message_sv.clone(),
            message_en: check.message_en.clone(),
        });
    }
    false
}

/// The outcome of a rule that failed, by its severity.
fn failed(rule: &CompiledRule, violations: &mut Vec<Violation>) -> RuleOutcome {
    if violations.is_empty() {
        // The loader guarantees the file is exactly its checks; if that
        // ever fails, say so rather than pass a failing document.
        log::error!("rule {} failed as a whole but no single check failed", rule.id);
        violations.push(Violation {
            check: rule.id.clone(),
            pointer: String::new(),
            message_sv: rule.title_sv.clone(),
            message_en: rule.title_en.clone(),
        });
    }
    match rule.severity {
        Severity::Blocking => RuleOutcome::Fail,
        Severity::Advisory => RuleOutcome::Warn,
    }
}

fn result(rule: &CompiledRule, outcome: RuleOutcome, violations: Vec<Violation>) -> RuleResult {
    RuleResult {
        rule: rule.id.clone(),
        title: rule.title_sv.clone(),
        title_en: rule.title_en.clone(),
        severity: rule.severity,
        outcome,
        violations,
    }
}

/// Turns one schema error into messages a coordinator can act on.
fn describe_schema_error(error: &jsonschema::ValidationError<'_>, out: &mut Vec<FieldError>) {
    let pointer = error.instance_path().to_string();
    let field = pointer.rsplit('/').next().unwrap_or_default().to_string();
    let push = |out: &mut Vec<FieldError>, p: String, message: Message| out.push(FieldError::of(p, message));
    let m = Message::new;
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            for key in unexpected {
                let shown: String = key.chars().take(64).collect();
                let at = format!("{pointer}/{}", json::escape_pointer_token(key));
                push(out, at, m("schema-unknown_field").with("field", shown));
            }
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let at = format!("{pointer}/{}", json::escape_pointer_token(name));
            push(out, at, m("schema-required").with("field", name));
        }
        ValidationErrorKind::Type { kind } => {
            let kinds: Vec<&'static str> = match kind {
                TypeKind::Single(t) => vec![type_word(t)],
                TypeKind::Multiple(set) => set.iter().map(|t| type_word(&t)).collect(),
            };
            let (first, second) = (kinds.first().copied().unwrap_or("other"), kinds.get(1).copied().unwrap_or("none"));
            push(out, pointer, m("schema-type").with("kind", first).with("or", second));
        }
        ValidationErrorKind::Enum { options } => {
            let message = match options.as_array() {
                Some(list) if list.len() <= 16 => {
                    let names: Vec<String> =
                        list.iter().map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_string)).collect();
                    m("schema-enum").with("allowed", names.join(", "))
                }
                _ if pointer.contains("languages_supported") => m("schema-language_code"),
                _ => m("schema-country_code"),
            };
            push(out, pointer, message);
        }
        ValidationErrorKind::Constant { expected_value } => {
            push(out, pointer, m("schema-constant").with("value", expected_value.to_string()))
        }
        ValidationErrorKind::Format { format } => {
            let kind = match format.as_str() {
                "date" | "email" | "uri" | "hostname" => format.as_str().to_string(),
                _ => "other".to_string(),
            };
            push(out, pointer, m("schema-format").with("format", kind));
        }
        ValidationErrorKind::Pattern { pattern } => {
            let message = if pattern.starts_with("^[^\\u0000") {
                m("error-control_character")
            } else if pattern.starts_with("^https") {
                m("schema-https")
            } else if pattern.contains("{64}") {
                m("schema-sha256")
            } else {
                m("schema-pattern")
            };
            push(out, pointer, message);
        }
        ValidationErrorKind::MaxLength { limit } => push(out, pointer, m("schema-max_length").with("limit", *limit)),
        ValidationErrorKind::MinLength { limit } if *limit <= 1 => push(out, pointer, m("schema-empty")),
        ValidationErrorKind::MinLength { limit } => push(out, pointer, m("schema-min_length").with("limit", *limit)),
        ValidationErrorKind::MaxItems { limit } => push(out, pointer, m("schema-max_items").with("limit", *limit)),
        ValidationErrorKind::MinItems { limit } => push(out, pointer, m("schema-min_items").with("limit", *limit)),
        ValidationErrorKind::Minimum { limit } | ValidationErrorKind::ExclusiveMinimum { limit } => {
            push(out, pointer, m("schema-minimum").with("limit", limit.to_string()))
        }
        ValidationErrorKind::Maximum { limit } | ValidationErrorKind::ExclusiveMaximum { limit } => {
            push(out, pointer, m("schema-maximum").with("limit", limit.to_string()))
        }
        ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. } => {
            let message = match field.as_str() {
                "public_contact_email" => m("schema-email"),
                "parent_jurisdiction" => m("schema-country_or_null"),
                _ => m("schema-no_form"),
            };
            push(out, pointer, message);
        }
        _ => push(out, pointer, m("schema-other").with("keyword", error.kind().keyword())),
    }
}

/// A JSON type as the catalogue's `schema-type` names it.
fn type_word(t: &jsonschema::JsonType) -> &'static str {
    match t.to_string().as_str() {
        "string" => "string",
        "boolean" => "boolean",
        "integer" => "integer",
        "number" => "number",
        "array" => "array",
        "object" => "object",
        "null" => "null",
        _ => "other",
    }
}
