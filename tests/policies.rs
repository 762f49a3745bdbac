//! The rule engine on its own: the shared examples, a fixture for every
//! check, the schema, and the loader's refusals.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::{Value, json};
use tillit::policy::catalog::RuleCatalog;
use tillit::policy::lineage::{Lineage, Prior, Relation};
use tillit::policy::model::StoredRules;
use tillit::policy::{self, PolicyError, RuleOutcome, Verdict};

fn outcomes(evaluation: &tillit::policy::Evaluation) -> BTreeMap<String, String> {
    evaluation.rules.iter().map(|r| (r.rule.to_string(), r.outcome.as_str().to_string())).collect()
}

#[test]
fn every_shared_example_gets_its_expected_outcome() {
    let policies = policy::load(None).unwrap();
    for name in example_names() {
        let evaluation = policies.evaluate(&example(&name));
        let expected = expected(&name);
        assert_eq!(evaluation.verdict.as_str(), expected["verdict"], "{name}");
        let want: BTreeMap<String, String> = serde_json::from_value(expected["rules"].clone()).unwrap();
        assert_eq!(outcomes(&evaluation), want, "{name}");
        assert_eq!(i64::from(evaluation.verdict.exit_code()), expected["exit"].as_i64().unwrap(), "{name}");
        assert!(evaluation.errors.is_empty());
    }
}

#[test]
fn tillit_check_cli_matches_every_expected_outcome_and_exit_code() {
    let bin = env!("CARGO_BIN_EXE_tillit");
    for name in example_names() {
        let path = fixtures().join("examples").join(format!("{name}.json"));
        let out = Command::new(bin).args(["check", "--format", "json"]).arg(&path).output().unwrap();
        let expected = expected(&name);
        assert_eq!(out.status.code().unwrap() as i64, expected["exit"].as_i64().unwrap(), "{name}");
        let got: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(got["verdict"], expected["verdict"], "{name}");
        for (rule, outcome) in expected["rules"].as_object().unwrap() {
            let found = got["rules"].as_array().unwrap().iter().find(|r| r["rule"] == *rule).unwrap();
            assert_eq!(found["outcome"], *outcome, "{name} {rule}");
        }
        assert_eq!(got["errors"], json!([]));
    }
}

#[test]
fn tillit_check_reads_stdin_and_prints_text() {
    use std::io::Write;
    let bin = env!("CARGO_BIN_EXE_tillit");
    let mut child = Command::new(bin)
        .args(["check", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&example_bytes("internal-assistant-no-dpa")).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("uppfyller inte reglerna"), "{text}");
    assert!(!text.contains("UNDERKÄND") && !text.contains("GODKÄND"), "no word that sounds like a decision");
    // One line per rule, and under the failing rule its check and message.
    for rule in ["R1", "R2", "R3", "R4", "R5", "R6"] {
        assert_eq!(lines.iter().filter(|l| l.trim_start().starts_with(&format!("{rule} "))).count(), 1, "{text}");
    }
    assert!(text.contains("R1.1  /vendor/dpa_signed"), "{text}");
    assert!(text.contains("Personuppgiftsbiträdesavtal saknas"), "{text}");
}

#[test]
fn tillit_check_exit_codes_for_invalid_and_unreadable_input() {
    let bin = env!("CARGO_BIN_EXE_tillit");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, br#"{"schema_version": "1.0", "surprise": true}"#).unwrap();
    let out = Command::new(bin).args(["check", "--format", "json"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["verdict"], "invalid");
    assert_eq!(got["rules"], json!([]));
    let errors = got["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["pointer"] == "/surprise"));
    assert!(errors.iter().any(|e| e["pointer"] == "/service"));

    let notjson = dir.path().join("notjson.json");
    std::fs::write(&notjson, b"this is not json").unwrap();
    let out = Command::new(bin).args(["check", "--format", "json"]).arg(&notjson).output().unwrap();
    assert_eq!(out.status.code(), Some(2));

    let out = Command::new(bin).args(["check"]).arg(dir.path().join("missing.json")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));

    let out = Command::new(bin).args(["check", "--lang", "en"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("cannot be checked") && text.contains("/surprise"), "{text}");
}

#[test]
fn every_check_holds_and_fails_as_the_fixtures_say() {
    let policies = policy::load(None).unwrap();
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("checks.json")).unwrap()).unwrap();
    let mut failing_checks = std::collections::BTreeSet::new();
    let mut holding_cases = 0;
    for case in fixture["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let mut doc = example(case["base"].as_str().unwrap());
        for (pointer, value) in case["set"].as_object().unwrap() {
            set_pointer(&mut doc, pointer, value.clone());
        }
        let evaluation = policies.evaluate(&doc);
        assert!(evaluation.errors.is_empty(), "{name}: {:?}", evaluation.errors);
        let mut got: Vec<String> = evaluation
            .rules
            .iter()
            .flat_map(|r| r.violations.iter().map(|v| format!("{} {}", v.check, v.pointer)))
            .collect();
        got.sort();
        let want: Vec<String> = serde_json::from_value(case["violations"].clone()).unwrap();
        assert_eq!(got, want, "{name}");
        assert_eq!(evaluation.verdict.as_str(), case["verdict"], "{name}");
        if let Some(expected) = case.get("outcomes").and_then(Value::as_object) {
            let got = outcomes(&evaluation);
            for (rule, outcome) in expected {
                assert_eq!(got[rule], outcome.as_str().unwrap(), "{name} {rule}");
            }
        }
        for v in &want {
            failing_checks.insert(v.split(' ').next().unwrap().to_string());
        }
        if want.is_empty() {
            holding_cases += 1;
        }
        // Every violation carries both messages, and no schema jargon.
        for rule in &evaluation.rules {
            for v in &rule.violations {
                assert!(!v.message_sv.is_empty() && !v.message_en.is_empty());
                for jargon in ["is not of type", "const", "is not valid under", "does not match", "anyOf", "instance"] {
                    assert!(!v.message_en.contains(jargon), "{}", v.message_en);
                }
            }
        }
    }
    let all_checks: Vec<String> =
        policies.rules().iter().flat_map(|r| r.checks.iter().map(|c| c.id.to_string())).collect();
    assert_eq!(all_checks.len(), 26, "R1.1 … R6.2: 8 + 4 + 4 + 6 + 2 + 2 checks");
    for check in &all_checks {
        assert!(failing_checks.contains(check), "no fixture makes {check} fail");
    }
    assert!(holding_cases >= 20);
}

#[test]
fn a_document_that_fails_the_schema_gets_no_rule_outcomes_and_every_error() {
    let policies = policy::load(None).unwrap();
    let mut doc = example("internal-assistant-pass");
    set_pointer(&mut doc, "/vendor/dpa_signd", json!(true));
    set_pointer(&mut doc, "/assessments/dpia/completed_on", json!("14/9/2026"));
    set_pointer(&mut doc, "/governance/public_contact_email", json!("not an address"));
    set_pointer(&mut doc, "/service/product_url", json!("http://insecure.example.com"));
    set_pointer(&mut doc, "/service/name", json!(""));
    set_pointer(&mut doc, "/vendor/country", json!("XX"));
    set_pointer(&mut doc, "/accessibility/languages_supported", json!(["sv", "svenska"]));
    set_pointer(&mut doc, "/governance/review/interval_months", json!("12"));
    set_pointer(&mut doc, "/service/domains", json!(["not a host!"]));
    doc["governance"].as_object_mut().unwrap().remove("review");
    set_pointer(&mut doc, "/purpose/intended_use", json!("bidi \u{202e} trick"));
    let evaluation = policies.evaluate(&doc);
    assert_eq!(evaluation.verdict, Verdict::Invalid);
    assert!(evaluation.rules.is_empty());
    let pointers: Vec<&str> = evaluation.errors.iter().map(|e| e.pointer.as_str()).collect();
    for expected in [
        "/vendor/dpa_signd",
        "/assessments/dpia/completed_on",
        "/governance/public_contact_email",
        "/service/product_url",
        "/service/name",
        "/vendor/country",
        "/accessibility/languages_supported/1",
        "/service/domains/0",
        "/governance/review",
        "/purpose/intended_use",
    ] {
        assert!(pointers.contains(&expected), "{expected} missing from {pointers:?}");
    }
    for e in &evaluation.errors {
        assert!(!e.message.is_empty() && !e.message_sv.is_empty());
    }
}

#[test]
fn the_schema_accepts_optional_attachments_and_every_enum_value() {
    let policies = policy::load(None).unwrap();
    let mut doc = example("internal-assistant-pass");
    set_pointer(&mut doc, "/attachments", json!([{"kind": "dpia", "title": "DPIA 2026", "sha256": "a".repeat(64)}]));
    assert_ne!(policies.evaluate(&doc).verdict, Verdict::Invalid);
    for (pointer, values) in [
        ("/service/service_type", vec!["saas", "on_premises", "embedded_feature", "in_house"]),
        ("/service/phase", vec!["planned", "pilot", "in_use", "retired"]),
        ("/vendor/ai_act_role", vec!["provider", "distributor", "importer", "unknown"]),
        ("/human_oversight/model", vec!["human_in_the_loop", "human_on_the_loop", "human_in_command", "none"]),
        ("/accessibility/conformance", vec!["full", "partial", "none", "unknown", "not_applicable"]),
        (
            "/data/data_location/transfer_mechanism",
            vec!["not_applicable", "none", "adequacy", "eu_us_dpf", "scc", "bcr", "other"],
        ),
    ] {
        for value in values {
            let mut d = example("internal-assistant-pass");
            set_pointer(&mut d, pointer, json!(value));
            assert_ne!(policies.evaluate(&d).verdict, Verdict::Invalid, "{pointer}={value}");
        }
    }
    let mut d = example("internal-assistant-pass");
    set_pointer(&mut d, "/vendor/parent_jurisdiction", Value::Null);
    set_pointer(&mut d, "/service/product_url", Value::Null);
    set_pointer(&mut d, "/service/models/0/version", json!("2024-08-06"));
    assert_ne!(policies.evaluate(&d).verdict, Verdict::Invalid);
}

// ---------------------------------------------------------------- loader --

fn copy_policies(to: &Path) {
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn edit(dir: &Path, file: &str, f: impl FnOnce(&mut Value)) {
    let path = dir.join(file);
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    f(&mut doc);
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
}

fn load_error(f: impl FnOnce(&Path)) -> PolicyError {
    let dir = tempfile::tempdir().unwrap();
    copy_policies(dir.path());
    f(dir.path());
    policy::load(Some(dir.path())).unwrap_err()
}

#[test]
fn the_directory_copy_equals_the_built_in_rule_set() {
    let dir = tempfile::tempdir().unwrap();
    copy_policies(dir.path());
    let from_dir = policy::load(Some(dir.path())).unwrap();
    let built_in = policy::load(None).unwrap();
    assert_eq!(from_dir.version(), built_in.version());
    assert!(built_in.version().starts_with("2026.1+"));
}

#[test]
fn any_change_to_a_policy_file_changes_the_version() {
    let dir = tempfile::tempdir().unwrap();
    copy_policies(dir.path());
    let before = policy::load(Some(dir.path())).unwrap().version().to_string();
    let path = dir.path().join("r5-benefit.policy.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}\n")).unwrap();
    let after = policy::load(Some(dir.path())).unwrap().version().to_string();
    assert_ne!(before, after);
    assert!(after.starts_with("2026.1+"));
}

#[test]
fn an_invalid_policy_names_the_file_and_the_place() {
    let e = load_error(|d| {
        edit(d, "r2-transparency.policy.json", |p| p["$defs"]["R2.1"]["then"]["minProperties"] = json!("x"))
    });
    assert_eq!(e.file, "r2-transparency.policy.json");
    assert!(e.pointer.contains("/$defs/R2.1/then/minProperties"), "{e}");

    let e = load_error(|d| {
        edit(d, "r4-governance.policy.json", |p| {
            p["$defs"]["R4.2"]["x-tillit-check"]["message"].as_object_mut().unwrap().remove("sv");
        })
    });
    assert_eq!(
        (e.file.as_str(), e.pointer.as_str()),
        ("r4-governance.policy.json", "/$defs/R4.2/x-tillit-check/message/sv")
    );

    let e = load_error(|d| {
        edit(d, "r1-security-data-protection.policy.json", |p| {
            p["allOf"].as_array_mut().unwrap().pop();
        })
    });
    assert_eq!(e.pointer, "/allOf", "{e}");

    let e = load_error(|d| edit(d, "r6-accessibility.policy.json", |p| p["required"] = json!(["service"])));
    assert_eq!(e.pointer, "/required", "{e}");

    let e = load_error(|d| {
        edit(d, "r3-non-discrimination.policy.json", |p| p["x-tillit-rule"]["severity"] = json!("fatal"))
    });
    assert_eq!(e.pointer, "/x-tillit-rule/severity");

    let e = load_error(|d| std::fs::write(d.join("r5-benefit.policy.json"), "{ not json").unwrap());
    assert_eq!(e.file, "r5-benefit.policy.json");

    let e = load_error(|d| std::fs::write(d.join("r5-benefit.policy.json"), r#"{"a": 1, "a": 2}"#).unwrap());
    assert!(e.message.contains("duplicate"), "{e}");

    let e = load_error(|d| std::fs::remove_file(d.join("ruleset.json")).unwrap());
    assert_eq!(e.file, "ruleset.json");

    let e = load_error(|d| {
        std::fs::copy(d.join("r5-benefit.policy.json"), d.join("r5-copy.policy.json")).unwrap();
    });
    assert!(e.message.contains("twice"), "{e}");
}

#[test]
fn remote_refs_are_never_fetched() {
    let started = std::time::Instant::now();
    let e = load_error(|d| {
        edit(d, "r5-benefit.policy.json", |p| {
            p["$defs"]["R5.1"]["allOf"] = json!([{"$ref": "https://example.com/remote.json"}]);
        })
    });
    assert_eq!(e.file, "r5-benefit.policy.json");
    assert!(started.elapsed().as_secs() < 5, "it must not wait on the network");
    let e = load_error(|d| {
        edit(d, "r5-benefit.policy.json", |p| {
            p["$defs"]["R5.1"]["allOf"] = json!([{"$ref": "file:///etc/passwd"}]);
        })
    });
    assert_eq!(e.file, "r5-benefit.policy.json");
}

#[test]
fn policy_regexes_run_on_a_linear_time_engine() {
    // Backreferences and look-around need backtracking: refused at load.
    let e = load_error(|d| {
        edit(d, "r5-benefit.policy.json", |p| {
            p["$defs"]["R5.1"]["properties"]["purpose"]["properties"]["benefits"]["properties"]["expected"]["pattern"] =
                json!("(a)\\1");
        })
    });
    assert_eq!(e.file, "r5-benefit.policy.json");

    // A pattern that is catastrophic for a backtracking engine is instant here.
    let dir = tempfile::tempdir().unwrap();
    copy_policies(dir.path());
    edit(dir.path(), "r5-benefit.policy.json", |p| {
        p["$defs"]["R5.1"]["properties"]["purpose"]["properties"]["benefits"]["properties"]["expected"]["pattern"] =
            json!("^(a+)+$");
    });
    let policies = policy::load(Some(dir.path())).unwrap();
    let mut doc = example("internal-assistant-pass");
    set_pointer(&mut doc, "/purpose/benefits/expected", json!(format!("{}!", "a".repeat(3000))));
    let started = std::time::Instant::now();
    let evaluation = policies.evaluate(&doc);
    assert!(started.elapsed().as_millis() < 500);
    assert_eq!(evaluation.rule("R5").unwrap().outcome, RuleOutcome::Warn);
}

#[test]
fn an_administrator_can_add_a_rule() {
    let dir = tempfile::tempdir().unwrap();
    copy_policies(dir.path());
    let rule = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://tillit.se/policies/R7",
        "title": "R7 AI-kunnighet (AI literacy)",
        "x-tillit-rule": {"id": "R7", "title": {"sv": "AI-kunnighet", "en": "AI literacy"}, "severity": "advisory", "applies": "always"},
        "allOf": [{"$ref": "#/$defs/R7.1"}],
        "$defs": {"R7.1": {
            "x-tillit-check": {"id": "R7.1", "message": {"sv": "Utbildning krävs.", "en": "Training is required."}},
            "properties": {"ai_literacy": {"properties": {"training_required": {"const": true}}}}
        }}
    });
    std::fs::write(dir.path().join("r7-literacy.policy.json"), serde_json::to_string_pretty(&rule).unwrap()).unwrap();
    let policies = policy::load(Some(dir.path())).unwrap();
    let mut doc = example("internal-assistant-pass");
    set_pointer(&mut doc, "/ai_literacy/training_required", json!(false));
    let evaluation = policies.evaluate(&doc);
    assert_eq!(evaluation.rules.last().unwrap().rule.as_ref(), "R7");
    assert_eq!(evaluation.rule("R7").unwrap().outcome, RuleOutcome::Warn);
    assert_eq!(evaluation.rule("R7").unwrap().violations[0].pointer, "/ai_literacy/training_required");
    assert_eq!(evaluation.verdict, Verdict::Pass);
}

#[test]
fn serve_refuses_to_start_with_an_invalid_policy() {
    let dir = tempfile::tempdir().unwrap();
    copy_policies(dir.path());
    edit(dir.path(), "r2-transparency.policy.json", |p| p["$defs"]["R2.2"]["type"] = json!("strang"));
    let db = dir.path().join("t.db");
    let out = Command::new(env!("CARGO_BIN_EXE_tillit"))
        .args(["serve", "--bind", "127.0.0.1:0", "--policies"])
        .arg(dir.path())
        .arg("--database")
        .arg(format!("sqlite://{}", db.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("r2-transparency.policy.json") && stderr.contains("/$defs/R2.2/type"), "{stderr}");
}

#[test]
fn rules_run_on_only_the_fields_they_read_give_what_they_give_on_the_whole_document() {
    // A re-evaluation reuses the outcomes of unchanged rules and runs the
    // others on the document cut down to the fields they read: for every
    // example and check fixture, and every choice of known outcomes, the
    // result must be the full evaluation, byte for byte.
    let policies = policy::load(None).unwrap();
    for rule in policies.rules() {
        let reads = rule.reads.as_deref().unwrap_or_else(|| panic!("{}: every built-in rule is analysable", rule.id));
        assert!(!reads.is_empty(), "{}", rule.id);
    }
    let docs = every_example_and_check_fixture();
    let n = policies.rules().len();
    let mut compared = 0;
    for doc in &docs {
        let bytes = serde_json::to_vec(doc).unwrap();
        let full = policies.evaluate_stored(doc);
        let full_text = serde_json::to_string(&full).unwrap();
        for mask in 0..(1u32 << n) {
            let known: Vec<Prior> = (0..n)
                .map(|i| if mask >> i & 1 == 1 { Prior::Known(full.rules[i].outcome) } else { Prior::Unknown })
                .collect();
            let fields = policies.fields_read(&known).unwrap();
            let part = tillit::json::parse_fields(&bytes, &fields).unwrap();
            let got = policies.evaluate_stored_knowing(&part, &known);
            assert_eq!(serde_json::to_string(&got).unwrap(), full_text, "mask {mask:b}");
            compared += 1;
        }
        // Knowing every rule's outcome, only those with violations run.
        let all: Vec<Prior> = full.rules.iter().map(|r| Prior::Known(r.outcome)).collect();
        let needed = policies.fields_read(&all).unwrap();
        if full.rules.iter().all(|r| r.violations.is_empty()) {
            assert!(needed.is_empty(), "nothing to run when every rule passes or does not apply");
        }
    }
    assert!(compared > 1_000, "{compared}");
}

/// Every shared example, and every example as each check fixture changes it.
fn every_example_and_check_fixture() -> Vec<Value> {
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("checks.json")).unwrap()).unwrap();
    let mut docs: Vec<Value> = example_names().iter().map(|n| example(n)).collect();
    for case in fixture["cases"].as_array().unwrap() {
        let mut doc = example(case["base"].as_str().unwrap());
        for (pointer, value) in case["set"].as_object().unwrap() {
            set_pointer(&mut doc, pointer, value.clone());
        }
        docs.push(doc);
    }
    docs
}

/// The position of a rule, and of one of its checks.
fn check_bit(policies: &policy::PolicySet, rule: &str, check: &str) -> u64 {
    let rule = policies.rules().iter().find(|r| &*r.id == rule).unwrap();
    1 << rule.checks.iter().position(|c| &*c.id == check).unwrap()
}

#[test]
fn a_rule_whose_checks_changed_runs_only_those_and_gives_what_a_full_evaluation_gives() {
    // A re-evaluation carries over what the earlier rule set's outcome on the
    // same document shows: a rule of the same text keeps its pass; a rule
    // with the same condition whose shared checks all held runs only its new
    // or changed checks, on only the fields those read. Whatever changed, the
    // result must be the new rule set's full evaluation, byte for byte.
    let base = policy::load(None).unwrap();
    let earlier = policy::lineage::rules_of(base.sources());
    let docs = every_example_and_check_fixture();
    let r25 = json!({
        "x-tillit-check": {"id": "R2.5", "message": {"sv": "Utbildningsmaterial saknas.", "en": "Training material is missing."}},
        "if": {"properties": {"ai_literacy": {"properties": {"training_required": {"const": true}}}}},
        "then": {"properties": {"ai_literacy": {"properties": {"training_material_url": {"$ref": "#/$defs/nonEmptyText"}}}}}
    });
    type Change = Box<dyn Fn(&Path)>;
    let changes: Vec<(&str, Change)> = vec![
        (
            "R2 gains a check",
            Box::new(move |dir: &Path| {
                let r25 = r25.clone();
                edit(dir, "r2-transparency.policy.json", move |p| {
                    p["$defs"]["R2.5"] = r25;
                    p["allOf"].as_array_mut().unwrap().push(json!({"$ref": "#/$defs/R2.5"}));
                })
            }),
        ),
        (
            "R1 changes one check and drops another; R6 becomes advisory",
            Box::new(|dir: &Path| {
                edit(dir, "r1-security-data-protection.policy.json", |p| {
                    p["$defs"]["R1.2"]["x-tillit-check"]["message"]["en"] = json!("Reworded.");
                    p["$defs"].as_object_mut().unwrap().remove("R1.8");
                    p["allOf"].as_array_mut().unwrap().retain(|r| r["$ref"] != "#/$defs/R1.8");
                });
                edit(dir, "r6-accessibility.policy.json", |p| p["x-tillit-rule"]["severity"] = json!("advisory"));
            }),
        ),
        (
            "a definition every R2 check may use changes; R3's condition changes",
            Box::new(|dir: &Path| {
                edit(dir, "r2-transparency.policy.json", |p| p["$defs"]["nonEmptyText"]["pattern"] = json!("\\S\\S"));
                edit(dir, "r3-non-discrimination.policy.json", |p| {
                    p["$defs"]["applies"]["$comment"] = json!("Reworded.")
                });
            }),
        ),
    ];
    let (mut held, mut repeated) = (0, 0);
    for (name, change) in &changes {
        let dir = tempfile::tempdir().unwrap();
        copy_policies(dir.path());
        change(dir.path());
        let new = policy::load(Some(dir.path())).unwrap();
        let lineage = Lineage::between(&new, &earlier);
        let relation = |rule: &str| lineage.relation(new.rules().iter().position(|r| &*r.id == rule).unwrap());
        match *name {
            "R2 gains a check" => {
                assert_eq!(relation("R2"), Relation::Kept(check_bit(&new, "R2", "R2.5")));
                assert_eq!(relation("R1"), Relation::Same);
            }
            "R1 changes one check and drops another; R6 becomes advisory" => {
                assert_eq!(relation("R1"), Relation::Kept(check_bit(&new, "R1", "R1.2")));
                assert_eq!(relation("R6"), Relation::Kept(0));
            }
            _ => {
                let Relation::Kept(fresh) = relation("R2") else { panic!("{:?}", relation("R2")) };
                assert_ne!(fresh, 0);
                assert_eq!(relation("R3"), Relation::Different);
            }
        }
        for doc in &docs {
            let then = base.evaluate_stored(doc);
            // As a re-evaluation does: a rule of the same text that failed or
            // warned repeats the violations of the stored (lean) outcome, with
            // the messages of the checks in force.
            let lean = then.to_lean().unwrap();
            assert!(lean.contains(&format!(r#""outcomes":"{}""#, then.rule_outcomes())), "{lean}");
            let stored = StoredRules::parse(&lean).unwrap();
            let in_force = RuleCatalog::of(&new);
            let priors: Vec<Prior> = new
                .rules()
                .iter()
                .enumerate()
                .map(|(i, rule)| {
                    let outcome = then.rule(&rule.id).map(|r| r.outcome);
                    lineage.prior(i, outcome, || {
                        let was = outcome.unwrap();
                        let violations =
                            stored.rule(&rule.id, was, |check| in_force.message(new.version(), check)).unwrap();
                        Some((was, violations))
                    })
                })
                .collect();
            held += priors.iter().filter(|p| matches!(p, Prior::Held(_))).count();
            repeated += priors.iter().filter(|p| matches!(p, Prior::Repeated(..))).count();
            let fields = new.fields_read(&priors).unwrap();
            let part = tillit::json::parse_fields(&serde_json::to_vec(doc).unwrap(), &fields).unwrap();
            let got = new.evaluate_stored_knowing(&part, &priors);
            let full = new.evaluate_stored(doc);
            assert_eq!(serde_json::to_string(&got).unwrap(), serde_json::to_string(&full).unwrap(), "{name}");
            if *name == "R2 gains a check" && then.rule("R2").unwrap().outcome == RuleOutcome::Pass {
                assert_eq!(fields, vec!["ai_literacy"], "only the new check's field is read");
            }
        }
    }
    assert!(held > 50, "{held}");
    assert!(repeated > 50, "{repeated}");
}

#[test]
fn a_policy_that_can_look_at_the_whole_document_is_not_cut_down() {
    // A rule with a root keyword other than properties/required, or a $ref
    // that leaves the file, reads the whole document.
    let dir = tempfile::tempdir().unwrap();
    copy_policies(dir.path());
    edit(dir.path(), "r2-transparency.policy.json", |r2| {
        r2["$defs"]["R2.1"]["then"]["additionalProperties"] = json!(true);
    });
    let policies = policy::load(Some(dir.path())).unwrap();
    let r2 = policies.rules().iter().find(|r| &*r.id == "R2").unwrap();
    assert!(r2.reads.is_none());
    let known: Vec<Prior> = vec![Prior::Unknown; policies.rules().len()];
    assert!(policies.fields_read(&known).is_none(), "the whole document is parsed");
    let r1 = policies.rules().iter().find(|r| &*r.id == "R1").unwrap();
    assert!(r1.reads.as_deref().unwrap().iter().any(|f| f == "vendor"), "{:?}", r1.reads);
}

#[test]
fn parse_fields_keeps_only_the_wanted_fields_and_still_checks_the_rest() {
    let got = tillit::json::parse_fields(br#"{"a":{"x":[1,2]},"b":"skip \u00e5","c":null}"#, &["a", "c"]).unwrap();
    assert_eq!(got, json!({"a": {"x": [1, 2]}, "c": null}));
    assert!(tillit::json::parse_fields(br#"{"a":1,"b":[1,}"#, &["a"]).is_err(), "malformed skipped field");
    assert!(tillit::json::parse_fields(br#"{"a":1,"a":2}"#, &["a"]).is_err(), "duplicate wanted key");
    assert!(tillit::json::parse_fields(br#"{"a":1} x"#, &["a"]).is_err(), "trailing data");
    assert!(tillit::json::parse_fields(b"[1]", &["a"]).is_err(), "not an object");
}

/// Only answered facts fail a rule: in every failing case of the fixtures,
/// a check with a condition stops failing once one of the fields its
/// condition asks about is left unanswered (as in a half-filled draft), and
/// waits for that answer instead; with every field answered, a draft is
/// judged exactly as `evaluate` judges it.
#[test]
fn a_check_whose_condition_is_unanswered_is_not_judged() {
    let policies = policy::load(None).unwrap();
    let condition = |check: &str| -> Vec<String> {
        policies
            .rules()
            .iter()
            .flat_map(|r| r.checks.iter())
            .find(|c| &*c.id == check)
            .map(|c| c.condition.to_vec())
            .unwrap_or_default()
    };
    for check in ["R1.5", "R1.6", "R2.1", "R2.4", "R4.4", "R4.6"] {
        assert!(!condition(check).is_empty(), "{check} has a condition");
    }
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("checks.json")).unwrap()).unwrap();
    let mut waited = 0;
    for case in fixture["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let mut doc = example(case["base"].as_str().unwrap());
        for (pointer, value) in case["set"].as_object().unwrap() {
            set_pointer(&mut doc, pointer, value.clone());
        }
        // Answered: the same violations as the full evaluation.
        let (answered, waiting) = policies.evaluate_answered(&doc);
        assert!(waiting.is_empty(), "{name}: {waiting:?}");
        let full: Vec<String> = policies
            .evaluate(&doc)
            .rules
            .iter()
            .flat_map(|r| r.violations.iter().map(|v| v.check.to_string()))
            .collect();
        let got: Vec<String> = answered.iter().flat_map(|r| r.violations.iter().map(|v| v.check.to_string())).collect();
        assert_eq!(got, full, "{name}");
        for check in full {
            for pointer in condition(&check) {
                let (parent, key) = pointer.rsplit_once('/').unwrap();
                let mut unanswered = doc.clone();
                if let Some(map) = unanswered.pointer_mut(parent).and_then(Value::as_object_mut) {
                    map.remove(key);
                }
                let (rules, waiting) = policies.evaluate_answered(&unanswered);
                let still: Vec<&str> = rules
                    .iter()
                    .flat_map(|r| r.violations.iter())
                    .filter(|v| *v.check == *check)
                    .map(|v| &*v.pointer)
                    .collect();
                assert!(still.is_empty(), "{name}: {check} fails although {pointer} is unanswered");
                if policies
                    .evaluate_rules(&unanswered)
                    .iter()
                    .flat_map(|r| r.violations.iter())
                    .any(|v| *v.check == *check)
                {
                    assert!(
                        waiting.iter().any(|w| *w.check == *check && w.answer_first.starts_with(parent)),
                        "{name}: {check} waits for {pointer}: {waiting:?}"
                    );
                    waited += 1;
                }
            }
        }
    }
    assert!(waited > 10, "the unanswered conditions were exercised ({waited})");
}
