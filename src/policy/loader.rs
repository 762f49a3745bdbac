//! Loading policy files: read, parse strictly, meta-validate, check the Tillit
//! conventions, compute the rule-set version, and compile every validator.
//! Any problem stops startup with an error naming the file and the place.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::engine::{CompiledCheck, CompiledRule, PolicySet};
use super::model::Severity;
use super::source::{MANIFEST, err};
pub use super::source::{PolicyError, PolicyOrigin, PolicySource, read_sources, rule_set_version};
use crate::json;

/// The submission schema, fixed for this build.
pub const SUBMISSION_SCHEMA: &str = include_str!("../../schemas/submission.schema.json");

const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// Compile options shared by the submission schema and every policy: draft
/// 2020-12, formats asserted, a linear-time regex engine, and no retrieval of
/// any remote or file `$ref`.
fn options() -> jsonschema::ValidationOptions<'static> {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .with_pattern_options(jsonschema::PatternOptions::regex())
        .offline()
}

pub fn compile_submission_schema() -> Result<jsonschema::Validator, PolicyError> {
    let file = "schemas/submission.schema.json";
    let schema = json::parse_strict(SUBMISSION_SCHEMA.as_bytes()).map_err(|e| err(file, "", e.to_string()))?;
    meta_validate(file, &schema)?;
    options().build(&schema).map_err(|e| err(file, &e.instance_path().to_string(), e.to_string()))
}

fn meta_validate(file: &str, schema: &Value) -> Result<(), PolicyError> {
    jsonschema::meta::validate(schema)
        .map_err(|e| err(file, &e.instance_path().to_string(), format!("not a valid JSON Schema: {}", e.masked())))
}

/// Loads, checks and compiles a whole rule set.
pub fn load(dir: Option<&Path>) -> Result<PolicySet, PolicyError> {
    let (sources, origin) = read_sources(dir)?;
    compile(sources, origin)
}

pub fn compile(sources: Vec<PolicySource>, origin: PolicyOrigin) -> Result<PolicySet, PolicyError> {
    let manifest = sources
        .iter()
        .find(|s| s.file_name == MANIFEST)
        .ok_or_else(|| err(MANIFEST, "", "missing: the rule set needs a ruleset.json with its name"))?;
    let manifest_json = json::parse_strict(manifest.text.as_bytes()).map_err(|e| err(MANIFEST, "", e.to_string()))?;
    let name = manifest_json
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty() && n.len() <= 40 && !n.contains('+'))
        .ok_or_else(|| err(MANIFEST, "/name", "a name such as \"2026.1\" is required (no '+', at most 40 characters)"))?
        .to_string();

    let mut rules = Vec::new();
    for source in sources.iter().filter(|s| s.file_name != MANIFEST) {
        rules.push(compile_rule(source)?);
    }
    if rules.is_empty() {
        return Err(err(MANIFEST, "", "the rule set has no *.policy.json files"));
    }
    rules.sort_by_key(|r| r.number);
    for pair in rules.windows(2) {
        if pair[0].id == pair[1].id {
            return Err(err(&pair[1].file, "/x-tillit-rule/id", format!("rule {} is defined twice", pair[1].id)));
        }
    }
    let version = rule_set_version(&name, &sources);
    let submission = compile_submission_schema()?;
    Ok(PolicySet::new(name, version.into(), origin, sources, submission, rules))
}

fn str_at<'a>(value: &'a Value, file: &str, pointer: &str) -> Result<&'a str, PolicyError> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| err(file, pointer, "a non-empty string is required here"))
}

const TOP_LEVEL_KEYS: &[&str] =
    &["$schema", "$id", "$comment", "title", "description", "x-tillit-rule", "$defs", "allOf", "if", "then"];

fn compile_rule(source: &PolicySource) -> Result<CompiledRule, PolicyError> {
    let file = source.file_name.as_str();
    let doc = json::parse_strict(source.text.as_bytes()).map_err(|e| err(file, "", format!("not valid JSON: {e}")))?;
    let top = doc.as_object().ok_or_else(|| err(file, "", "a policy must be a JSON object"))?;
    if top.get("$schema").and_then(Value::as_str) != Some(DRAFT_2020_12) {
        return Err(err(file, "/$schema", format!("must be \"{DRAFT_2020_12}\"")));
    }
    meta_validate(file, &doc)?;
    for key in top.keys() {
        if !TOP_LEVEL_KEYS.contains(&key.as_str()) {
            return Err(err(
                file,
                &format!("/{}", json::escape_pointer_token(key)),
                "unexpected keyword at the top level: put every assertion inside a check in $defs",
            ));
        }
    }

    let id = str_at(&doc, file, "/x-tillit-rule/id")?.to_string();
    let number: u32 = id
        .strip_prefix('R')
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| err(file, "/x-tillit-rule/id", "the rule id must look like R1, R2, …"))?;
    let title_sv = str_at(&doc, file, "/x-tillit-rule/title/sv")?.to_string();
    let title_en = str_at(&doc, file, "/x-tillit-rule/title/en")?.to_string();
    let severity = match str_at(&doc, file, "/x-tillit-rule/severity")? {
        "blocking" => Severity::Blocking,
        "advisory" => Severity::Advisory,
        _ => {
            return Err(err(file, "/x-tillit-rule/severity", "must be \"blocking\" or \"advisory\""));
        }
    };
    let conditional = match str_at(&doc, file, "/x-tillit-rule/applies")? {
        "always" => false,
        "#/$defs/applies" => true,
        _ => {
            return Err(err(file, "/x-tillit-rule/applies", "must be \"always\" or \"#/$defs/applies\""));
        }
    };

    // The checks: every $defs entry that carries x-tillit-check.
    let defs =
        doc.get("$defs").and_then(Value::as_object).ok_or_else(|| err(file, "/$defs", "the checks belong in $defs"))?;
    let mut check_ids = Vec::new();
    for (key, def) in defs {
        let Some(meta) = def.get("x-tillit-check") else {
            continue;
        };
        let base = format!("/$defs/{}/x-tillit-check", json::escape_pointer_token(key));
        let check_id = meta.get("id").and_then(Value::as_str).unwrap_or_default();
        if check_id != key {
            return Err(err(file, &format!("{base}/id"), format!("must equal the $defs key \"{key}\"")));
        }
        let suffix = check_id.strip_prefix(&format!("{id}.")).unwrap_or_default();
        if suffix.is_empty() || !suffix.chars().all(|c| c.is_ascii_digit()) {
            return Err(err(
                file,
                &format!("{base}/id"),
                format!("a check of rule {id} must be named {id}.1, {id}.2, …"),
            ));
        }
        str_at(&doc, file, &format!("{base}/message/sv"))?;
        str_at(&doc, file, &format!("{base}/message/en"))?;
        check_ids.push(key.clone());
    }
    if check_ids.is_empty() {
        return Err(err(file, "/$defs", "the rule has no checks (a $defs entry with x-tillit-check)"));
    }
    check_ids.sort_by_key(|c| c.rsplit('.').next().and_then(|n| n.parse::<u32>().ok()).unwrap_or(u32::MAX));

    // The top level must compose exactly these checks, so that "the whole file
    // is valid" means "every check holds": the engine relies on that.
    let expected_refs: Vec<Value> =
        check_ids.iter().map(|c| serde_json::json!({ "$ref": format!("#/$defs/{c}") })).collect();
    let same_checks = |all_of: Option<&Value>| -> bool {
        let Some(items) = all_of.and_then(Value::as_array) else {
            return false;
        };
        items.len() == expected_refs.len() && expected_refs.iter().all(|r| items.contains(r))
    };
    if conditional {
        if !defs.contains_key("applies") {
            return Err(err(file, "/$defs", "x-tillit-rule.applies names #/$defs/applies, which is missing"));
        }
        if doc.get("if") != Some(&serde_json::json!({"$ref": "#/$defs/applies"})) {
            return Err(err(file, "/if", "must be {\"$ref\": \"#/$defs/applies\"}"));
        }
        let then = doc.get("then").and_then(Value::as_object);
        if then.map(|t| t.len()) != Some(1) || !same_checks(then.and_then(|t| t.get("allOf"))) {
            return Err(err(file, "/then", "must be {\"allOf\": [a $ref to every check]}"));
        }
        if top.contains_key("allOf") {
            return Err(err(file, "/allOf", "a conditional rule lists its checks under then.allOf"));
        }
    } else {
        if top.contains_key("if") || top.contains_key("then") {
            return Err(err(file, "/if", "a rule that always applies has no if/then; list its checks in allOf"));
        }
        if !same_checks(doc.get("allOf")) {
            return Err(err(file, "/allOf", "must hold a $ref to every check in $defs, and nothing else"));
        }
    }

    let map = options().build_map(&doc).map_err(|e| err(file, &e.instance_path().to_string(), e.to_string()))?;
    let validator_at = |pointer: &str| -> Result<jsonschema::Validator, PolicyError> {
        map.get(&format!("#{pointer}"))
            .cloned()
            .ok_or_else(|| err(file, pointer, "could not be compiled as a subschema"))
    };
    let whole = validator_at("")?;
    let applies = if conditional { Some(validator_at("/$defs/applies")?) } else { None };
    // A conditional rule's applicability is a condition of each of its
    // checks: while it is unanswered, no check of the rule can be judged.
    let applies_condition: Vec<String> =
        defs.get("applies").filter(|_| conditional).map(|a| condition_pointers(a, defs).into_vec()).unwrap_or_default();
    let mut checks = Vec::new();
    for check_id in &check_ids {
        let base = format!("/$defs/{}", json::escape_pointer_token(check_id));
        checks.push(CompiledCheck {
            id: Arc::from(check_id.as_str()),
            reads: defs.get(check_id).and_then(|def| schema_root_keys(def, false, Some(defs))),
            message_sv: Arc::from(str_at(&doc, file, &format!("{base}/x-tillit-check/message/sv"))?),
            message_en: Arc::from(str_at(&doc, file, &format!("{base}/x-tillit-check/message/en"))?),
            validator: validator_at(&base)?,
            condition: applies_condition
                .iter()
                .cloned()
                .chain(
                    defs.get(check_id)
                        .and_then(|def| def.get("if"))
                        .map(|c| condition_pointers(c, defs).into_vec())
                        .unwrap_or_default(),
                )
                .collect(),
            // What a check requires: its `then`, or the whole check when it
            // has no condition of its own.
            judges: defs
                .get(check_id)
                .map(|def| condition_pointers(def.get("then").unwrap_or(def), defs))
                .unwrap_or_default(),
        });
    }
    Ok(CompiledRule {
        id: Arc::from(id.as_str()),
        number,
        file: file.to_string(),
        reads: root_keys(&doc),
        title_sv: Arc::from(title_sv.as_str()),
        title_en: Arc::from(title_en.as_str()),
        severity,
        whole,
        applies,
        checks,
    })
}

/// The top-level fields of a submission that a rule can read, or None when
/// its schema may look at the document as a whole. Only `properties` and
/// `required` at the document's root, and the applicators and local `$ref`s
/// that keep to the root, are understood; anything else (such as
/// `additionalProperties` or a nested `$id`) answers None. A rule evaluated on
/// the document cut down to these fields gives exactly the result it gives on
/// the whole document, which lets a re-evaluation parse only what a changed
/// rule reads.
pub(super) fn root_keys(policy: &Value) -> Option<Box<[String]>> {
    let defs = policy.get("$defs").and_then(Value::as_object);
    schema_root_keys(policy, true, defs)
}

/// `root_keys` of a schema: the whole policy (`top`), or one of its
/// definitions (a check), with the policy's definitions for its `$ref`s.
fn schema_root_keys(schema: &Value, top: bool, defs: Option<&serde_json::Map<String, Value>>) -> Option<Box<[String]>> {
    let mut keys = std::collections::BTreeSet::new();
    let mut followed = std::collections::HashSet::new();
    keys_at_root(schema, top, defs, &mut keys, &mut followed).then(|| keys.into_iter().collect())
}

fn keys_at_root<'a>(
    schema: &'a Value,
    top: bool,
    defs: Option<&'a serde_json::Map<String, Value>>,
    keys: &mut std::collections::BTreeSet<String>,
    followed: &mut std::collections::HashSet<&'a str>,
) -> bool {
    let Some(object) = schema.as_object() else {
        return schema.is_boolean();
    };
    object.iter().all(|(keyword, value)| match keyword.as_str() {
        // Each applies to one named field, whatever it reads inside it.
        "properties" => value.as_object().map(|p| keys.extend(p.keys().cloned())).is_some(),
        "required" => value
            .as_array()
            .is_some_and(|names| names.iter().all(|n| n.as_str().map(|n| keys.insert(n.to_string())).is_some())),
        "allOf" | "anyOf" | "oneOf" => {
            value.as_array().is_some_and(|all| all.iter().all(|s| keys_at_root(s, false, defs, keys, followed)))
        }
        "not" | "if" | "then" | "else" => keys_at_root(value, false, defs, keys, followed),
        "$ref" => {
            let Some(name) = value.as_str().and_then(|r| r.strip_prefix("#/$defs/")) else {
                return false;
            };
            if name.contains(['/', '~', '%']) {
                return false;
            }
            if !followed.insert(name) {
                return true;
            }
            defs.and_then(|d| d.get(name)).is_some_and(|target| keys_at_root(target, false, defs, keys, followed))
        }
        // The root object stays an object when cut down.
        "type" => value == "object",
        "$defs" | "$schema" | "$id" if top => true,
        "$comment" | "title" | "description" | "x-tillit-rule" | "x-tillit-check" => true,
        _ => false,
    })
}

/// The document fields an `if` condition asks about: each property chain
/// that ends in a constraint on a value (`const`, `enum`, `not`, ...).
/// Local `$ref`s to `$defs` are followed once.
fn condition_pointers(schema: &Value, defs: &serde_json::Map<String, Value>) -> Box<[String]> {
    fn walk(schema: &Value, at: &str, defs: &serde_json::Map<String, Value>, depth: u8, out: &mut Vec<String>) {
        let Some(map) = schema.as_object() else { return };
        if depth > 8 {
            return;
        }
        if let Some(target) = map.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
            if let Some(def) = defs.get(target) {
                walk(def, at, defs, depth + 1, out);
            }
        }
        let constrains = ["const", "enum", "not", "type", "pattern", "minimum", "maximum", "minItems", "contains"]
            .iter()
            .any(|k| map.contains_key(*k));
        if constrains && !at.is_empty() && !out.iter().any(|p| p == at) {
            out.push(at.to_string());
        }
        if let Some(props) = map.get("properties").and_then(Value::as_object) {
            for (key, sub) in props {
                walk(sub, &format!("{at}/{}", json::escape_pointer_token(key)), defs, depth + 1, out);
            }
        }
        for list in ["allOf", "anyOf", "oneOf"] {
            for sub in map.get(list).and_then(Value::as_array).into_iter().flatten() {
                walk(sub, at, defs, depth + 1, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(schema, "", defs, 0, &mut out);
    out.into_boxed_slice()
}
