//! The submission form: every field of the submission document, grouped by
//! the rule it serves, turned into HTML inputs and back into a document.
//!
//! A field's name in the form is its JSON pointer in the document
//! (`/service/name`, `/service/models/0/provider`), so the evaluation's
//! pointers lead straight back to the field at fault. The form may be saved
//! half-filled: empty required fields are left out of the draft (and
//! reported as missing), empty optional ones become `null`, and a value that
//! is not what the field expects (a word in a number field) is kept as typed
//! so that the coordinator sees it next to the message.

use serde_json::{Map, Value, json};

use super::Lang;
use crate::error::FieldError;
use crate::policy::model::{RuleOutcome, RuleResult};

/// What a field holds and how it is shown.
#[derive(Clone, Copy)]
pub enum Kind {
    /// One line of text.
    Text,
    /// Several lines of text.
    LongText,
    Email,
    /// An https address.
    Url,
    Date,
    Integer,
    /// Yes or no.
    Bool,
    /// One of the values.
    Choice(&'static [&'static str]),
    /// Any number of the values.
    Multi(&'static [&'static str]),
    /// A list of texts, one per line.
    Lines,
    /// A list of host names, one per line; a pasted web address gives its host.
    Hosts,
    /// An ISO 3166-1 alpha-2 country code.
    Country,
    /// ISO 639-1 language codes, separated by commas or spaces.
    Languages,
    /// A list of objects: one row per object, one column per key.
    Table(&'static [Column]),
}

pub struct Column {
    pub key: &'static str,
    pub kind: Kind,
    pub nullable: bool,
}

pub struct Field {
    pub pointer: &'static str,
    pub kind: Kind,
    /// Empty means `null` rather than missing.
    pub nullable: bool,
    /// The key may be left out of the document altogether.
    pub optional: bool,
}

pub struct Section {
    pub id: &'static str,
    /// The rule this section's questions serve, if one.
    pub rule: Option<&'static str>,
    pub fields: &'static [Field],
}

const fn f(pointer: &'static str, kind: Kind) -> Field {
    Field { pointer, kind, nullable: false, optional: false }
}

const fn nullable(pointer: &'static str, kind: Kind) -> Field {
    Field { pointer, kind, nullable: true, optional: false }
}

const fn col(key: &'static str, kind: Kind) -> Column {
    Column { key, kind, nullable: false }
}

const fn col_nullable(key: &'static str, kind: Kind) -> Column {
    Column { key, kind, nullable: true }
}

const SERVICE_TYPES: &[&str] = &["saas", "on_premises", "embedded_feature", "in_house"];
const AI_CLASSES: &[&str] = &["generative_ai", "machine_learning", "rule_based", "other"];
const CAPABILITIES: &[&str] = &[
    "text_generation",
    "image_generation",
    "audio_generation",
    "video_generation",
    "code_generation",
    "speech_to_text",
    "text_to_speech",
    "translation",
    "summarisation",
    "classification",
    "prediction",
    "recommendation",
    "search",
    "chatbot",
    "image_recognition",
    "other",
];
const PHASES: &[&str] = &["planned", "pilot", "in_use", "retired"];
const AI_ACT_ROLES: &[&str] = &["provider", "distributor", "importer", "unknown"];
const DECISION_IMPACTS: &[&str] =
    &["no_decision_about_individuals", "supports_decisions_about_individuals", "automated_decisions_about_individuals"];
const AFFECTED_GROUPS: &[&str] =
    &["employees", "residents", "children", "students", "patients", "job_applicants", "businesses", "other"];
const INFORMATION_CLASSES: &[&str] = &["public", "internal", "confidential", "strictly_confidential"];
const LOCATIONS: &[&str] = &["sweden", "eu_eea", "third_country", "unknown"];
const TRANSFER_MECHANISMS: &[&str] = &["not_applicable", "none", "adequacy", "eu_us_dpf", "scc", "bcr", "other"];
const TRAINING: &[&str] = &["no", "opted_out", "opt_out_available", "yes", "unknown"];
const ASSESSMENT_STATES: &[&str] = &["not_started", "in_progress", "completed", "not_required"];
const RISK_CLASSES: &[&str] = &["prohibited", "high_risk", "limited_transparency", "minimal", "not_ai_system"];
const MUNICIPALITY_ROLES: &[&str] = &["deployer", "provider", "both"];
const BIAS_RESULTS: &[&str] = &["acceptable", "acceptable_with_mitigations", "not_acceptable", "not_assessed"];
const DISCLOSED_TO: &[&str] = &["employees", "residents", "meeting_participants", "students", "other"];
const PUBLICATIONS: &[&str] = &["published", "internal_only", "withheld"];
const OVERSIGHT: &[&str] = &["human_in_the_loop", "human_on_the_loop", "human_in_command", "none"];
const CONFORMANCE: &[&str] = &["full", "partial", "none", "unknown", "not_applicable"];
const ATTACHMENT_KINDS: &[&str] = &["dpia", "fria", "dpa", "vendor_evidence", "other"];

/// Every field of the submission document, in the order the form asks.
pub const SECTIONS: &[Section] = &[
    Section {
        id: "service",
        rule: None,
        fields: &[
            f("/service/name", Kind::Text),
            f("/service/aliases", Kind::Lines),
            f("/service/domains", Kind::Hosts),
            f("/service/short_description", Kind::LongText),
            f("/service/service_type", Kind::Choice(SERVICE_TYPES)),
            f("/service/ai_classification", Kind::Choice(AI_CLASSES)),
            f("/service/capabilities", Kind::Multi(CAPABILITIES)),
            f(
                "/service/models",
                Kind::Table(&[
                    col("name", Kind::Text),
                    col_nullable("version", Kind::Text),
                    col("provider", Kind::Text),
                ]),
            ),
            nullable("/service/product_url", Kind::Url),
            f("/service/phase", Kind::Choice(PHASES)),
            f("/service/interacts_directly_with_residents", Kind::Bool),
            f("/vendor/name", Kind::Text),
            f("/vendor/country", Kind::Country),
            nullable("/vendor/parent_jurisdiction", Kind::Country),
            f("/vendor/ai_act_role", Kind::Choice(AI_ACT_ROLES)),
            f("/vendor/certifications", Kind::Lines),
            nullable("/vendor/contract_reference", Kind::Text),
        ],
    },
    Section {
        id: "purpose",
        rule: None,
        fields: &[
            f("/purpose/intended_use", Kind::LongText),
            f("/purpose/out_of_scope_uses", Kind::Lines),
            f("/purpose/decision_impact", Kind::Choice(DECISION_IMPACTS)),
            f("/purpose/affected_groups", Kind::Multi(AFFECTED_GROUPS)),
            f("/purpose/legal_basis", Kind::Lines),
        ],
    },
    Section {
        id: "r1",
        rule: Some("R1"),
        fields: &[
            f("/data/personal_data_processed", Kind::Bool),
            f("/data/data_subject_categories", Kind::Lines),
            f("/vendor/dpa_signed", Kind::Bool),
            f(
                "/vendor/sub_processors",
                Kind::Table(&[col("name", Kind::Text), col("country", Kind::Country), col("purpose", Kind::Text)]),
            ),
            f("/data/special_categories_art9/processed", Kind::Bool),
            f("/data/special_categories_art9/categories", Kind::Lines),
            nullable("/data/special_categories_art9/art9_2_exception", Kind::Text),
            f("/data/criminal_offence_data_art10", Kind::Bool),
            f("/data/children_data", Kind::Bool),
            f("/data/secrecy_osl/may_be_entered", Kind::Bool),
            nullable("/data/secrecy_osl/assessment_summary", Kind::LongText),
            f("/data/permitted_information_classes", Kind::Multi(INFORMATION_CLASSES)),
            f("/data/data_location/storage", Kind::Choice(LOCATIONS)),
            f("/data/data_location/processing", Kind::Choice(LOCATIONS)),
            f("/data/data_location/support_access", Kind::Choice(LOCATIONS)),
            f("/data/data_location/transfer_mechanism", Kind::Choice(TRANSFER_MECHANISMS)),
            nullable("/data/retention/prompts_and_outputs_days", Kind::Integer),
            nullable("/data/retention/logs_days", Kind::Integer),
            f("/data/vendor_training_on_customer_data/status", Kind::Choice(TRAINING)),
            nullable("/data/vendor_training_on_customer_data/evidence", Kind::Text),
            f("/assessments/dpia/status", Kind::Choice(ASSESSMENT_STATES)),
            nullable("/assessments/dpia/completed_on", Kind::Date),
            nullable("/assessments/dpia/summary", Kind::LongText),
            f("/assessments/security/risk_assessment_done", Kind::Bool),
            f("/assessments/security/information_classification_done", Kind::Bool),
        ],
    },
    Section {
        id: "r2",
        rule: Some("R2"),
        fields: &[
            f("/transparency/ai_use_disclosed_to", Kind::Multi(DISCLOSED_TO)),
            f(
                "/transparency/disclosure_measures",
                Kind::Table(&[col("channel", Kind::Text), col("text_sv", Kind::Text)]),
            ),
            f("/transparency/ai_generated_content_labelled", Kind::Bool),
            nullable("/transparency/how_ai_affects_decisions", Kind::LongText),
            f("/transparency/explanation_available_on_request", Kind::Bool),
            f("/transparency/public_register_publication", Kind::Choice(PUBLICATIONS)),
            nullable("/transparency/withholding_reason", Kind::LongText),
        ],
    },
    Section {
        id: "r3",
        rule: Some("R3"),
        fields: &[
            f("/bias_and_non_discrimination/assessed", Kind::Bool),
            nullable("/bias_and_non_discrimination/method", Kind::LongText),
            f("/bias_and_non_discrimination/grounds_considered", Kind::Lines),
            nullable("/bias_and_non_discrimination/known_limitations", Kind::LongText),
            f("/bias_and_non_discrimination/mitigations", Kind::Lines),
            nullable("/bias_and_non_discrimination/monitoring", Kind::LongText),
            f("/bias_and_non_discrimination/result", Kind::Choice(BIAS_RESULTS)),
        ],
    },
    Section {
        id: "r4",
        rule: Some("R4"),
        fields: &[
            f("/governance/responsible_owner/name", Kind::Text),
            f("/governance/responsible_owner/role", Kind::Text),
            f("/governance/responsible_owner/organisation", Kind::Text),
            f("/governance/public_contact_email", Kind::Email),
            f("/governance/review/interval_months", Kind::Integer),
            f("/assessments/ai_act/risk_class", Kind::Choice(RISK_CLASSES)),
            f("/assessments/ai_act/municipality_role", Kind::Choice(MUNICIPALITY_ROLES)),
            nullable("/assessments/ai_act/annex_iii_area", Kind::Text),
            f("/assessments/ai_act/eu_database_registration_required", Kind::Bool),
            f("/assessments/ai_act/classification_rationale", Kind::LongText),
            f("/assessments/fria/status", Kind::Choice(ASSESSMENT_STATES)),
            nullable("/assessments/fria/completed_on", Kind::Date),
            nullable("/assessments/fria/summary", Kind::LongText),
            f("/human_oversight/model", Kind::Choice(OVERSIGHT)),
            nullable("/human_oversight/description", Kind::LongText),
            nullable("/appeals_and_complaints/process", Kind::LongText),
            nullable("/appeals_and_complaints/contact", Kind::Text),
            f("/ai_literacy/training_required", Kind::Bool),
            nullable("/ai_literacy/training_material_url", Kind::Url),
        ],
    },
    Section {
        id: "r5",
        rule: Some("R5"),
        fields: &[
            f("/purpose/benefits/expected", Kind::LongText),
            f(
                "/purpose/benefits/kpis",
                Kind::Table(&[
                    col("name", Kind::Text),
                    col_nullable("baseline", Kind::Text),
                    col_nullable("target", Kind::Text),
                ]),
            ),
        ],
    },
    Section {
        id: "r6",
        rule: Some("R6"),
        fields: &[
            f("/accessibility/conformance", Kind::Choice(CONFORMANCE)),
            nullable("/accessibility/accessibility_statement_url", Kind::Url),
            f("/accessibility/languages_supported", Kind::Languages),
        ],
    },
    Section {
        id: "attachments",
        rule: None,
        fields: &[Field {
            pointer: "/attachments",
            kind: Kind::Table(&[
                col("kind", Kind::Choice(ATTACHMENT_KINDS)),
                col("title", Kind::Text),
                col("sha256", Kind::Text),
            ]),
            nullable: false,
            optional: true,
        }],
    },
];

/// At most this many rows of one table are read from a form.
const MAX_ROWS: usize = 200;

/// The pointer's tokens (the catalogue's pointers need no escaping).
fn tokens(pointer: &str) -> impl Iterator<Item = &str> {
    pointer.split('/').skip(1)
}

/// Sets `value` at `pointer`, creating the objects on the way.
fn set(doc: &mut Value, pointer: &str, value: Value) {
    let parts: Vec<&str> = tokens(pointer).collect();
    let mut node = doc;
    for (i, part) in parts.iter().enumerate() {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Some(map) = node.as_object_mut() else { return };
        if i + 1 == parts.len() {
            map.insert((*part).to_string(), value);
            return;
        }
        node = map.entry((*part).to_string()).or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Makes sure the objects that hold `pointer` exist, so that a missing
/// answer is reported at the field and not at its parent.
fn ensure_parents(doc: &mut Value, pointer: &str) {
    let parts: Vec<&str> = tokens(pointer).collect();
    let mut node = doc;
    for part in &parts[..parts.len().saturating_sub(1)] {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Some(map) = node.as_object_mut() else { return };
        node = map.entry((*part).to_string()).or_insert_with(|| Value::Object(Map::new()));
    }
}

fn lines(text: &str) -> Vec<Value> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(|l| Value::String(l.to_string())).collect()
}

/// The host of a pasted web address, or the text as it is.
fn host_of(text: &str) -> String {
    let rest = text.split_once("://").map_or(text, |(_, rest)| rest);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// The value of one scalar input, or `None` when it is empty.
fn scalar(kind: Kind, raw: &str) -> Option<Value> {
    let text = raw.trim();
    if text.is_empty() {
        return None;
    }
    Some(match kind {
        Kind::Integer => match text.parse::<i64>() {
            Ok(n) => json!(n),
            Err(_) => json!(text),
        },
        Kind::Bool => match text {
            "true" => json!(true),
            "false" => json!(false),
            _ => json!(text),
        },
        Kind::Country => json!(text.to_ascii_uppercase()),
        // Long texts keep their line breaks; the rest is one line.
        Kind::LongText => json!(raw.trim().replace("\r\n", "\n")),
        _ => json!(text),
    })
}

fn value_of<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Reads the form into a submission document (possibly incomplete).
pub fn document_from_form(fields: &[(String, String)]) -> Value {
    let mut doc = json!({"schema_version": "1.0"});
    for section in SECTIONS {
        for field in section.fields {
            let name = field.pointer;
            match field.kind {
                Kind::Multi(options) => {
                    // In the order posted; only the field's own values, once each.
                    let mut chosen: Vec<Value> = Vec::new();
                    for (_, v) in fields.iter().filter(|(k, v)| k == name && options.contains(&v.as_str())) {
                        if !chosen.iter().any(|c| c == v.as_str()) {
                            chosen.push(json!(v));
                        }
                    }
                    set(&mut doc, name, Value::Array(chosen));
                }
                Kind::Lines => set(&mut doc, name, Value::Array(lines(value_of(fields, name).unwrap_or("")))),
                Kind::Hosts => {
                    let hosts: Vec<Value> = lines(value_of(fields, name).unwrap_or(""))
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|l| json!(host_of(l)))
                        .collect();
                    set(&mut doc, name, Value::Array(hosts));
                }
                Kind::Languages => {
                    let codes: Vec<Value> = value_of(fields, name)
                        .unwrap_or("")
                        .split([',', ' ', ';', '\n', '\r', '\t'])
                        .filter(|c| !c.is_empty())
                        .map(|c| json!(c.to_ascii_lowercase()))
                        .collect();
                    set(&mut doc, name, Value::Array(codes));
                }
                Kind::Table(columns) => {
                    let rows = table_rows(fields, name, columns);
                    if rows.is_empty() && field.optional {
                        continue;
                    }
                    set(&mut doc, name, Value::Array(rows));
                }
                kind => match value_of(fields, name).and_then(|raw| scalar(kind, raw)) {
                    Some(value) => set(&mut doc, name, value),
                    None if field.nullable => set(&mut doc, name, Value::Null),
                    None => ensure_parents(&mut doc, name),
                },
            }
        }
    }
    doc
}

/// The non-empty rows of a table, in order.
fn table_rows(fields: &[(String, String)], name: &str, columns: &[Column]) -> Vec<Value> {
    let mut rows = Vec::new();
    for i in 0..MAX_ROWS {
        let cell = |key: &str| value_of(fields, &format!("{name}/{i}/{key}"));
        if columns.iter().all(|c| cell(c.key).is_none()) {
            break;
        }
        let mut row = Map::new();
        let mut any = false;
        for column in columns {
            match cell(column.key).and_then(|raw| scalar(column.kind, raw)) {
                Some(value) => {
                    any = true;
                    row.insert(column.key.to_string(), value);
                }
                None if column.nullable => {
                    row.insert(column.key.to_string(), Value::Null);
                }
                None => {}
            }
        }
        if any {
            rows.push(Value::Object(row));
        }
    }
    rows
}

/// The fields a browser posts for a document filled in on the form: the
/// inverse of `document_from_form` (for tests and tools that fill the form).
pub fn fields_for(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for section in SECTIONS {
        for field in section.fields {
            let name = field.pointer.to_string();
            let value = doc.pointer(field.pointer);
            let items = || value.and_then(Value::as_array).cloned().unwrap_or_default();
            match field.kind {
                Kind::Multi(_) => {
                    out.extend(items().iter().map(|v| (name.clone(), shown(Some(v)))));
                }
                Kind::Languages => {
                    let codes: Vec<String> = items().iter().map(|v| shown(Some(v))).collect();
                    out.push((name, codes.join(", ")));
                }
                Kind::Table(columns) => {
                    for (i, row) in items().iter().enumerate() {
                        for c in columns {
                            out.push((format!("{name}/{i}/{}", c.key), shown(row.get(c.key))));
                        }
                    }
                }
                _ => out.push((name, shown(value))),
            }
        }
    }
    out
}

// ------------------------------------------------------------- rendering --

/// A message shown next to a field.
struct Problem {
    message: String,
    /// "R1.1" for a failing check (or "R1.1, R5.1" for checks that fail on
    /// the same answer); empty for a schema error no check repeats.
    check: String,
    /// Where in the document the mistake is.
    pointer: String,
    /// Found by the schema (the answer itself is missing or malformed).
    from_schema: bool,
}

/// The text of a value as an input shows it.
fn shown(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join("\n"),
        Some(other) => other.to_string(),
    }
}

fn html_id(pointer: &str) -> String {
    format!("f{}", pointer.replace('/', "-"))
}

/// The key of a field's label and help in the strings: `/service/models/0/name`
/// and `/service/models` columns share `service.models.name`.
fn text_key(pointer: &str) -> String {
    tokens(pointer).filter(|t| !t.chars().all(|c| c.is_ascii_digit())).collect::<Vec<_>>().join(".")
}

/// The catalogue's field that a pointer from the evaluation belongs to: the
/// deepest field at or above it, or else the first field below it.
fn owner_field(pointer: &str) -> Option<&'static Field> {
    let all = SECTIONS.iter().flat_map(|s| s.fields.iter());
    let above = all
        .clone()
        .filter(|f| pointer == f.pointer || pointer.starts_with(&format!("{}/", f.pointer)))
        .max_by_key(|f| f.pointer.len());
    if above.is_some() || pointer.is_empty() {
        return above;
    }
    all.clone().find(|f| f.pointer.starts_with(&format!("{pointer}/")))
}

/// The pointer of `owner_field`.
fn owner(pointer: &str) -> Option<&'static str> {
    owner_field(pointer).map(|f| f.pointer)
}

/// A rule's outcome as the pages say it: the text's key and a style class.
pub fn outcome_words(outcome: RuleOutcome) -> (&'static str, &'static str) {
    match outcome {
        RuleOutcome::Pass => ("outcome_pass", "ok"),
        RuleOutcome::NotApplicable => ("outcome_not_applicable", "ok"),
        RuleOutcome::Warn => ("outcome_warn", "warn"),
        RuleOutcome::Fail => ("outcome_fail", "error"),
    }
}

/// A draft rule's outcome as the pages say it: a failing rule whose every
/// remaining failure waits for an answer "cannot be judged yet".
pub fn draft_outcome_words(
    rule: &RuleResult,
    waiting: &[crate::policy::engine::Waiting],
) -> (&'static str, &'static str) {
    let only_waiting =
        rule.outcome == RuleOutcome::Fail && rule.violations.is_empty() && waiting.iter().any(|w| w.rule == rule.rule);
    if only_waiting { ("outcome_not_judged_yet", "warn") } else { outcome_words(rule.outcome) }
}

pub struct Texts<'a> {
    pub lang: Lang,
    pub text: &'a dyn Fn(&str) -> String,
    /// Every country as (code, name), in the language's alphabetical order:
    /// a country is chosen by its name, never typed as a code.
    pub countries: &'a [(String, String)],
}

/// Which fields a field's requirement depends on (`PolicySet::required_when`).
pub type RequiredWhen<'a> = &'a dyn Fn(&str) -> Vec<String>;

/// The form's context for the template: each section with its rule's
/// outcome, each field with its value, help, and the problems found in it.
pub fn render(
    doc: &Value,
    schema_errors: &[FieldError],
    rules: &[RuleResult],
    waiting: &[crate::policy::engine::Waiting],
    required_when: RequiredWhen<'_>,
    rows_wanted: &dyn Fn(&str) -> usize,
    texts: &Texts<'_>,
) -> (Vec<Value>, Vec<Value>) {
    let t = texts.text;
    let sv = texts.lang == Lang::Sv;
    let mut problems: std::collections::HashMap<&'static str, Vec<Problem>> = std::collections::HashMap::new();
    let mut unplaced: Vec<Problem> = Vec::new();
    // One message per mistake: one per answer the schema finds wrong (the
    // first, when several of its keywords say the same thing in different
    // words), and a failing check on an answer already found wrong adds its
    // number to that message instead of a second one.
    for error in schema_errors {
        let message = if sv { error.message_sv.clone() } else { error.message.clone() };
        let pointer = error.pointer.clone();
        match owner(&error.pointer) {
            Some(field) => {
                let missing = doc.pointer(&error.pointer).is_none();
                // A missing answer is named the way the form names it, never
                // by its key in the document ("Rad 1, Modell", not "name").
                let message = match (missing, error.pointer == field) {
                    (true, true) => t("form_required_missing"),
                    (true, false) => match row_part(&error.pointer, t) {
                        Some(part) => format!("{part}: {}", t("form_required_missing")),
                        None => t("form_required_missing"),
                    },
                    (false, _) => message,
                };
                let list = problems.entry(field).or_default();
                if !list.iter().any(|p| p.message == message || p.pointer == pointer) {
                    list.push(Problem { message, check: String::new(), pointer, from_schema: true });
                }
            }
            None => unplaced.push(Problem { message, check: String::new(), pointer, from_schema: true }),
        }
    }
    for rule in rules {
        for v in &rule.violations {
            let message = if sv { v.message_sv.to_string() } else { v.message_en.to_string() };
            let problem =
                Problem { message, check: v.check.to_string(), pointer: v.pointer.clone(), from_schema: false };
            match owner(&v.pointer) {
                Some(field) => {
                    let list = problems.entry(field).or_default();
                    // The same answer, already found wrong: one message, both numbers.
                    let same_answer =
                        |p: &Problem| p.from_schema && (p.pointer == problem.pointer || p.pointer == field);
                    if list.iter().any(|p| p.check.split(", ").any(|c| c == problem.check)) {
                        continue;
                    }
                    match list.iter_mut().find(|p| same_answer(p)) {
                        Some(existing) if existing.check.is_empty() => existing.check = problem.check,
                        Some(existing) => existing.check = format!("{}, {}", existing.check, problem.check),
                        None => list.push(problem),
                    }
                }
                None => unplaced.push(problem),
            }
        }
    }
    // Checks waiting for an answer: "Answer first: …" at the field they judge.
    let mut answer_first: std::collections::HashMap<&'static str, Vec<String>> = std::collections::HashMap::new();
    for w in waiting {
        if let Some(field) = owner(&w.pointer) {
            let question = describe_field(&w.answer_first, t).unwrap_or_else(|| w.answer_first.clone());
            let line = format!("{} {question}", t("form_answer_first"));
            let list = answer_first.entry(field).or_default();
            if !list.contains(&line) {
                list.push(line);
            }
        }
    }
    let mut summary = Vec::new();
    let sections = SECTIONS
        .iter()
        .map(|section| {
            let fields: Vec<Value> = section
                .fields
                .iter()
                .map(|field| {
                    let found = problems.remove(field.pointer).unwrap_or_default();
                    let label = t(&format!("field.{}", text_key(field.pointer)));
                    for p in &found {
                        summary.push(json!({"href": format!("#{}", html_id(field.pointer)), "label": label, "check": p.check, "message": p.message}));
                    }
                    let mut context = field_context(doc, field, &label, &found, rows_wanted(field.pointer), texts);
                    if let Some(map) = context.as_object_mut() {
                        map.insert("answer_first".into(), json!(answer_first.remove(field.pointer).unwrap_or_default()));
                        // Words that must stay (DPIA, SCC, …) link to the glossary.
                        map.insert("glossary".into(), json!(super::glossary::entry_for(field.pointer)));
                        // "(frivilligt)" only where no answer can make the field required;
                        // otherwise the field says what it depends on.
                        let depends: Vec<String> =
                            required_when(field.pointer).iter().filter_map(|p| describe_field(p, t)).collect();
                        if !depends.is_empty() {
                            map.insert("optional".into(), json!(false));
                            map.insert(
                                "required_when".into(),
                                json!(format!("{} {}.", t("form_required_when"), depends.join(", "))),
                            );
                        }
                    }
                    context
                })
                .collect();
            let rule = section.rule.and_then(|id| rules.iter().find(|r| &*r.rule == id));
            let (outcome, outcome_class) = match rule.map(|r| draft_outcome_words(r, waiting)) {
                Some((key, class)) => (t(key), class),
                None => (String::new(), ""),
            };
            json!({
                "id": section.id,
                "rule": section.rule,
                "title": t(&format!("section.{}", section.id)),
                "intro": t(&format!("section.{}.intro", section.id)),
                "outcome": outcome,
                "outcome_class": outcome_class,
                "fields": fields,
            })
        })
        .collect();
    for p in unplaced {
        summary.push(json!({"href": "#form-summary", "label": "", "check": p.check, "message": p.message}));
    }
    (sections, summary)
}

fn option_list(options: &[&str], chosen: &[String], texts: &Texts<'_>) -> Vec<Value> {
    options
        .iter()
        .map(|o| {
            json!({"value": o, "label": (texts.text)(&format!("value.{o}")), "selected": chosen.iter().any(|c| c == o)})
        })
        .collect()
}

fn country_options(chosen: &str, texts: &Texts<'_>) -> Vec<Value> {
    texts
        .countries
        .iter()
        .map(|(code, name)| json!({"value": code, "label": name, "selected": code == chosen}))
        .collect()
}

fn input_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Email => "email",
        Kind::Url => "url",
        Kind::Date => "date",
        Kind::Integer => "number",
        _ => "text",
    }
}

/// Whether the pointer is one of the form's tables.
pub fn is_table(pointer: &str) -> bool {
    SECTIONS.iter().flat_map(|s| s.fields.iter()).any(|f| f.pointer == pointer && matches!(f.kind, Kind::Table(_)))
}

/// A field's context; a table shows its rows and at least one empty row,
/// or `rows` rows when more were asked for ("Lägg till rad").
fn field_context(
    doc: &Value,
    field: &Field,
    label: &str,
    problems: &[Problem],
    rows: usize,
    texts: &Texts<'_>,
) -> Value {
    let t = texts.text;
    let key = text_key(field.pointer);
    let id = html_id(field.pointer);
    let value = doc.pointer(field.pointer);
    let errors: Vec<Value> = problems.iter().map(|p| json!({"check": p.check, "message": p.message})).collect();
    let mut context = json!({
        "id": id,
        "name": field.pointer,
        "label": label,
        "help": t(&format!("help.{key}")),
        "optional": field.nullable || field.optional,
        "errors": errors,
        "invalid": !problems.is_empty(),
        "value": shown(value),
        "input": false, "long": false, "choice": false, "multi": false, "bool": false, "lines": false, "table": false,
        "input_type": input_type(field.kind),
        "options": [], "columns": [], "rows": [],
        "yes": value == Some(&Value::Bool(true)),
        "no": value == Some(&Value::Bool(false)),
        "hint": "",
        "required_when": "",
    });
    let Some(map) = context.as_object_mut() else { return context };
    let flag = |map: &mut Map<String, Value>, name: &str| {
        map.insert(name.to_string(), Value::Bool(true));
    };
    match field.kind {
        Kind::Text | Kind::Email | Kind::Url | Kind::Date | Kind::Integer => flag(map, "input"),
        Kind::Country => {
            flag(map, "choice");
            let chosen = value.and_then(Value::as_str).unwrap_or_default();
            map.insert("options".into(), json!(country_options(chosen, texts)));
        }
        Kind::Languages => {
            flag(map, "input");
            let codes = value.and_then(Value::as_array).map(|a| {
                a.iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            map.insert("value".into(), json!(codes.unwrap_or_default()));
            map.insert("hint".into(), json!(t("form_hint_languages")));
        }
        Kind::LongText => flag(map, "long"),
        Kind::Lines | Kind::Hosts => {
            flag(map, "lines");
            map.insert("hint".into(), json!(t("form_hint_lines")));
        }
        Kind::Bool => flag(map, "bool"),
        Kind::Choice(options) => {
            flag(map, "choice");
            let chosen: Vec<String> = value.and_then(Value::as_str).map(|s| vec![s.to_string()]).unwrap_or_default();
            map.insert("options".into(), json!(option_list(options, &chosen, texts)));
        }
        Kind::Multi(options) => {
            flag(map, "multi");
            let chosen: Vec<String> = value
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default();
            let options: Vec<Value> = option_list(options, &chosen, texts)
                .into_iter()
                .enumerate()
                .map(|(i, mut o)| {
                    if let Some(m) = o.as_object_mut() {
                        m.insert("id".into(), json!(format!("{id}-{i}")));
                    }
                    o
                })
                .collect();
            map.insert("options".into(), json!(options));
        }
        Kind::Table(columns) => {
            flag(map, "table");
            map.insert("hint".into(), json!(t("form_hint_rows")));
            let existing: Vec<Value> = value.and_then(Value::as_array).cloned().unwrap_or_default();
            let column_labels: Vec<Value> = columns
                .iter()
                .map(|c| json!({"label": t(&format!("field.{key}.{}", c.key)), "optional": c.nullable}))
                .collect();
            map.insert("columns".into(), json!(column_labels));
            // The rows there are, and one empty row for the next (or as
            // many empty rows as were asked for).
            let row_count = rows.max(existing.len() + 1).min(MAX_ROWS);
            map.insert("add_row".into(), json!(format!("add_row:{}", field.pointer)));
            map.insert("can_add_row".into(), json!(row_count < MAX_ROWS));
            let rows: Vec<Value> = existing
                .iter()
                .chain(std::iter::repeat(&Value::Null))
                .take(row_count)
                .enumerate()
                .map(|(i, row)| {
                    let cells: Vec<Value> = columns
                        .iter()
                        .map(|c| {
                            let name = format!("{}/{i}/{}", field.pointer, c.key);
                            let cell_value = row.get(c.key);
                            let (choice, options) = match c.kind {
                                Kind::Choice(options) => {
                                    let chosen: Vec<String> =
                                        cell_value.and_then(Value::as_str).map(|s| vec![s.to_string()]).unwrap_or_default();
                                    (true, option_list(options, &chosen, texts))
                                }
                                Kind::Country => {
                                    (true, country_options(cell_value.and_then(Value::as_str).unwrap_or_default(), texts))
                                }
                                _ => (false, Vec::new()),
                            };
                            json!({
                                "name": name,
                                "id": html_id(&name),
                                "label": format!("{} {}, {}", t("form_row"), i + 1, t(&format!("field.{key}.{}", c.key))),
                                "value": shown(cell_value),
                                "choice": choice,
                                "options": options,
                            })
                        })
                        .collect();
                    json!({"number": i + 1, "cells": cells})
                })
                .collect();
            map.insert("rows".into(), json!(rows));
        }
    }
    context
}

/// The part of a table a pointer inside it names: "Rad 1, Modell" for
/// `/service/models/0/name`. `None` outside a table.
fn row_part(pointer: &str, text: &dyn Fn(&str) -> String) -> Option<String> {
    let field = owner_field(pointer)?;
    let Kind::Table(_) = field.kind else { return None };
    let rest: Vec<&str> = pointer.strip_prefix(field.pointer)?.split('/').filter(|t| !t.is_empty()).collect();
    let row = rest.first()?.parse::<usize>().ok()? + 1;
    let key = text_key(field.pointer);
    Some(match rest.get(1) {
        Some(column) => format!("{} {row}, {}", text("form_row"), text(&format!("field.{key}.{column}"))),
        None => format!("{} {row}", text("form_row")),
    })
}

/// A document field as the form names it, for a reader: "AI-modeller, rad 1:
/// Modellens leverantör" for `/service/models/0/provider`. `None` for a
/// pointer outside the form.
pub fn describe_field(pointer: &str, text: &dyn Fn(&str) -> String) -> Option<String> {
    let field = owner_field(pointer)?;
    let key = text_key(field.pointer);
    let label = text(&format!("field.{key}"));
    let rest: Vec<&str> =
        pointer.strip_prefix(field.pointer).unwrap_or("").split('/').filter(|t| !t.is_empty()).collect();
    let row = rest.first().and_then(|i| i.parse::<usize>().ok()).map(|i| i + 1);
    Some(match (field.kind, row, rest.get(1)) {
        (Kind::Table(_), Some(row), Some(column)) => {
            format!("{label}, {} {row}: {}", text("form_row").to_lowercase(), text(&format!("field.{key}.{column}")))
        }
        (_, Some(row), _) => format!("{label} ({row})"),
        _ => label,
    })
}

/// A value of a document field as a reader sees it: yes and no, and the
/// labels of choices, in the page's language.
pub fn describe_value(pointer: &str, value: &str, text: &dyn Fn(&str) -> String) -> String {
    let field = owner_field(pointer);
    let options: &[&str] = match field.map(|f| f.kind) {
        Some(Kind::Bool) => {
            return match value {
                "true" => text("form_yes"),
                "false" => text("form_no"),
                other => other.to_string(),
            };
        }
        Some(Kind::Choice(o) | Kind::Multi(o)) => o,
        Some(Kind::Table(columns)) => {
            let column = pointer.rsplit('/').next().unwrap_or("");
            match columns.iter().find(|c| c.key == column).map(|c| c.kind) {
                Some(Kind::Choice(o)) => o,
                _ => &[],
            }
        }
        _ => &[],
    };
    if options.contains(&value) { text(&format!("value.{value}")) } else { value.to_string() }
}

/// A value as a reader sees it on a read-only page: labels for choices, yes
/// and no, lists joined, and "–" for nothing.
fn reading(value: Option<&Value>, kind: Kind, text: &dyn Fn(&str) -> String) -> String {
    let none = || "–".to_string();
    let label = |options: &[&str], v: &str| {
        if options.contains(&v) { text(&format!("value.{v}")) } else { v.to_string() }
    };
    let plain = |v: &Value| match v {
        Value::String(s) if s.trim().is_empty() => none(),
        Value::String(s) => s.clone(),
        Value::Null => none(),
        other => other.to_string(),
    };
    let Some(value) = value else { return none() };
    match kind {
        Kind::Bool => match value {
            Value::Bool(true) => text("form_yes"),
            Value::Bool(false) => text("form_no"),
            other => plain(other),
        },
        Kind::Choice(options) => value.as_str().map_or_else(|| plain(value), |v| label(options, v)),
        Kind::Multi(options) => {
            let items: Vec<String> = value
                .as_array()
                .map(|a| a.iter().map(|v| v.as_str().map_or_else(|| plain(v), |v| label(options, v))).collect())
                .unwrap_or_default();
            if items.is_empty() { none() } else { items.join(", ") }
        }
        Kind::Lines | Kind::Hosts => {
            let items: Vec<String> = value.as_array().map(|a| a.iter().map(plain).collect()).unwrap_or_default();
            if items.is_empty() { none() } else { items.join(", ") }
        }
        // ISO codes read as the names of the countries and languages.
        Kind::Country => value.as_str().map_or_else(|| plain(value), |code| coded(code, text)),
        Kind::Languages => {
            let items: Vec<String> = value
                .as_array()
                .map(|a| a.iter().map(|v| v.as_str().map_or_else(|| plain(v), |code| coded(code, text))).collect())
                .unwrap_or_default();
            if items.is_empty() { none() } else { items.join(", ") }
        }
        Kind::Table(_) => plain(value),
        _ => plain(value),
    }
}

/// A code's name (`SE` → "Sverige"), or the code when it has none.
fn coded(code: &str, text: &dyn Fn(&str) -> String) -> String {
    let key = format!("value.{code}");
    let name = text(&key);
    if name == key { code.to_string() } else { name }
}

/// A submitted description as a reader sees it: each section of the form
/// with its rule's outcome and failing checks, each field with the form's
/// label and its value in words, and the fields in `changed` (pointers of
/// changed values) marked.
pub fn describe(doc: &Value, rules: &[RuleResult], changed: &[String], texts: &Texts<'_>) -> Vec<Value> {
    let t = texts.text;
    let sv = texts.lang == Lang::Sv;
    let is_changed = |pointer: &str| {
        changed.iter().any(|c| c == pointer || c.strip_prefix(pointer).is_some_and(|rest| rest.starts_with('/')))
    };
    SECTIONS
        .iter()
        .map(|section| {
            let fields: Vec<Value> = section
                .fields
                .iter()
                .map(|field| {
                    let key = text_key(field.pointer);
                    let value = doc.pointer(field.pointer);
                    let rows: Vec<Value> = match (field.kind, value.and_then(Value::as_array)) {
                        (Kind::Table(columns), Some(rows)) => rows
                            .iter()
                            .map(|row| {
                                let cells: Vec<Value> = columns
                                    .iter()
                                    .map(|c| {
                                        json!({
                                            "label": t(&format!("field.{key}.{}", c.key)),
                                            "value": reading(row.get(c.key), c.kind, t),
                                        })
                                    })
                                    .collect();
                                json!({"cells": cells})
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                    let is_table = matches!(field.kind, Kind::Table(_));
                    json!({
                        "label": t(&format!("field.{key}")),
                        "value": if is_table && !rows.is_empty() { String::new() } else { reading(value, field.kind, t) },
                        "rows": rows,
                        "changed": is_changed(field.pointer),
                    })
                })
                .collect();
            let rule = section.rule.and_then(|id| rules.iter().find(|r| &*r.rule == id));
            let (outcome, outcome_class) = match rule.map(|r| outcome_words(r.outcome)) {
                Some((key, class)) => (t(key), class),
                None => (String::new(), ""),
            };
            let failing: Vec<Value> = rule
                .map(|r| {
                    r.violations
                        .iter()
                        .map(|v| {
                            json!({
                                "field": describe_field(&v.pointer, t).unwrap_or_default(),
                                "message": if sv { v.message_sv.to_string() } else { v.message_en.to_string() },
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "id": section.id,
                "title": t(&format!("section.{}", section.id)),
                "outcome": outcome,
                "outcome_class": outcome_class,
                "failing": failing,
                "fields": fields,
                "changed": fields.iter().any(|f| f["changed"] == true),
            })
        })
        .collect()
}

/// Every key of the strings the form needs, for the test that each exists.
pub fn text_keys() -> Vec<String> {
    let mut keys = Vec::new();
    for section in SECTIONS {
        keys.push(format!("section.{}", section.id));
        keys.push(format!("section.{}.intro", section.id));
        for field in section.fields {
            let key = text_key(field.pointer);
            keys.push(format!("field.{key}"));
            keys.push(format!("help.{key}"));
            let options: &[&str] = match field.kind {
                Kind::Choice(o) | Kind::Multi(o) => o,
                _ => &[],
            };
            keys.extend(options.iter().map(|o| format!("value.{o}")));
            if let Kind::Table(columns) = field.kind {
                for c in columns {
                    keys.push(format!("field.{key}.{}", c.key));
                    if let Kind::Choice(o) = c.kind {
                        keys.extend(o.iter().map(|o| format!("value.{o}")));
                    }
                }
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Value {
        serde_json::from_str(include_str!("../../tests/fixtures/examples/internal-assistant-no-dpa.json")).unwrap()
    }

    #[test]
    fn a_complete_document_survives_the_form_unchanged() {
        let doc = example();
        let back = document_from_form(&fields_for(&doc));
        let (a, b) = (serde_json::to_string_pretty(&back).unwrap(), serde_json::to_string_pretty(&doc).unwrap());
        let differ: Vec<(&str, &str)> = a.lines().zip(b.lines()).filter(|(x, y)| x != y).take(5).collect();
        assert!(back == doc, "the form changed the document: {differ:?}");
    }

    #[test]
    fn the_catalogue_covers_every_leaf_of_the_example() {
        fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => m.iter().for_each(|(k, v)| leaves(v, format!("{at}/{k}"), out)),
                _ => out.push(at),
            }
        }
        let mut all = Vec::new();
        leaves(&example(), String::new(), &mut all);
        for pointer in all.iter().filter(|p| *p != "/schema_version") {
            assert!(owner(pointer) == Some(pointer.as_str()), "{pointer} has no field in the form");
        }
    }

    #[test]
    fn empty_answers_are_missing_or_null_and_typed_text_is_kept() {
        let doc = document_from_form(&[
            ("/service/name".into(), "  ".into()),
            ("/service/product_url".into(), String::new()),
            ("/governance/review/interval_months".into(), "tolv".into()),
            ("/service/domains".into(), "https://Chat.Example.com:443/c/123\n\nplain.example.org".into()),
            ("/service/models/0/name".into(), "GPT".into()),
            ("/service/models/0/version".into(), String::new()),
            ("/service/models/0/provider".into(), String::new()),
            ("/service/models/1/name".into(), String::new()),
        ]);
        assert!(doc.pointer("/service/name").is_none());
        assert_eq!(doc.pointer("/service/product_url"), Some(&Value::Null));
        assert_eq!(doc.pointer("/governance/review/interval_months"), Some(&json!("tolv")));
        assert_eq!(doc.pointer("/service/domains"), Some(&json!(["chat.example.com", "plain.example.org"])));
        assert_eq!(doc.pointer("/service/models"), Some(&json!([{"name": "GPT", "version": null}])));
        assert!(doc.pointer("/attachments").is_none());
        // Every object that holds a field exists, so errors land on fields.
        assert!(doc.pointer("/governance/responsible_owner").is_some_and(Value::is_object));
    }

    #[test]
    fn fields_and_values_are_described_in_words() {
        let text = |key: &str| key.to_string();
        assert_eq!(describe_field("/vendor/dpa_signed", &text).unwrap(), "field.vendor.dpa_signed");
        assert_eq!(
            describe_field("/service/models/0/provider", &text).unwrap(),
            "field.service.models, form_row 1: field.service.models.provider"
        );
        assert_eq!(describe_field("/service/aliases/1", &text).unwrap(), "field.service.aliases (2)");
        assert!(describe_field("/schema_version", &text).is_none());
        assert_eq!(describe_value("/vendor/dpa_signed", "true", &text), "form_yes");
        assert_eq!(describe_value("/service/capabilities/0", "translation", &text), "value.translation");
        assert_eq!(describe_value("/attachments/0/kind", "dpia", &text), "value.dpia");
        assert_eq!(describe_value("/service/name", "saas", &text), "saas", "free text is shown as it is");
    }

    #[test]
    fn evaluation_pointers_find_their_field() {
        assert_eq!(owner("/service/models/0/provider"), Some("/service/models"));
        assert_eq!(owner("/vendor/dpa_signed"), Some("/vendor/dpa_signed"));
        assert_eq!(owner("/data/data_location"), Some("/data/data_location/storage"));
        assert_eq!(owner(""), None);
    }
}
