//! The form as the draft page shows it: each field with its value, help and
//! the problems found in it, one message per mistake.

use super::*;

/// A message shown next to a field.
pub(super) struct Problem {
    message: String,
    /// "R1.1" for a failing check (or "R1.1, R5.1" for checks that fail on
    /// the same answer); empty for a schema error no check repeats.
    check: String,
    /// Where in the document the mistake is.
    pointer: String,
    /// Found by the schema (the answer itself is missing or malformed).
    from_schema: bool,
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
                    let label = t(&format!("field-{}", text_key(field.pointer)));
                    for p in &found {
                        summary.push(json!({"href": format!("#{}", html_id(field.pointer)), "label": label, "check": p.check, "message": p.message}));
                    }
                    let mut context = field_context(doc, field, &label, &found, rows_wanted(field.pointer), texts);
                    if let Some(map) = context.as_object_mut() {
                        map.insert("answer_first".into(), json!(answer_first.remove(field.pointer).unwrap_or_default()));
                        // Words that must stay (DPIA, SCC, …) link to the glossary.
                        map.insert("glossary".into(), json!(crate::submissions::pages::glossary::entry_for(field.pointer)));
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
                "title": t(&format!("section-{}", section.id)),
                "intro": t(&format!("section-{}-intro", section.id)),
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

pub(super) fn option_list(options: &[&str], chosen: &[String], texts: &Texts<'_>) -> Vec<Value> {
    options
        .iter()
        .map(|o| {
            json!({"value": o, "label": (texts.text)(&format!("value-{o}")), "selected": chosen.iter().any(|c| c == o)})
        })
        .collect()
}

pub(super) fn country_options(chosen: &str, texts: &Texts<'_>) -> Vec<Value> {
    texts
        .countries
        .iter()
        .map(|(code, name)| json!({"value": code, "label": name, "selected": code == chosen}))
        .collect()
}

pub(super) fn input_type(kind: Kind) -> &'static str {
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
pub(super) fn field_context(
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
        "help": t(&format!("help-{key}")),
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
                .map(|c| json!({"label": t(&format!("field-{key}-{}", c.key)), "optional": c.nullable}))
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
                                "label": format!("{} {}, {}", t("form_row"), i + 1, t(&format!("field-{key}-{}", c.key))),
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
pub(super) fn row_part(pointer: &str, text: &dyn Fn(&str) -> String) -> Option<String> {
    let field = owner_field(pointer)?;
    let Kind::Table(_) = field.kind else { return None };
    let rest: Vec<&str> = pointer.strip_prefix(field.pointer)?.split('/').filter(|t| !t.is_empty()).collect();
    let row = rest.first()?.parse::<usize>().ok()? + 1;
    let key = text_key(field.pointer);
    Some(match rest.get(1) {
        Some(column) => format!("{} {row}, {}", text("form_row"), text(&format!("field-{key}-{column}"))),
        None => format!("{} {row}", text("form_row")),
    })
}
