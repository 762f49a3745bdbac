//! Policy evaluation per document: Tillit against ajv 8 (draft 2020-12) on
//! the same policy files and the same documents, in one run.
//!
//! `cargo bench --bench policy_eval` (needs node and `npm ci` in bench/peers/ajv;
//! bench/run-policy-eval.sh does both). Environment: TILLIT_BENCH_DOCS (default
//! 10000), TILLIT_BENCH_ROUNDS (default 7).
//!
//! It generates a deterministic corpus from the example documents and the
//! per-check fixtures (about a third of the documents fail at least one rule,
//! a few fail the schema), times both engines pre-parsed and including
//! parsing, checks that both report the same verdict, rule outcomes and
//! violations (check + pointer) for every document, and writes
//! target/bench/policy_eval.json.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn set_pointer(doc: &mut Value, pointer: &str, value: Value) {
    if let Some((parent, key)) = pointer.rsplit_once('/') {
        if let Some(Value::Object(map)) = doc.pointer_mut(parent) {
            map.insert(key.to_string(), value);
        }
    }
}

fn corpus(root: &Path, n: usize) -> Vec<String> {
    let examples_dir = root.join("tests/fixtures/examples");
    let mut examples = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&examples_dir)
        .expect("examples")
        .map(|e| e.expect("entry").path())
        // The passing examples are the bases; the fixtures' mutations make some fail.
        .filter(|p| p.to_string_lossy().ends_with("-pass.json"))
        .collect();
    names.sort();
    for path in names {
        let text = std::fs::read_to_string(&path).expect("example");
        examples.push(serde_json::from_str::<Value>(&text).expect("json"));
    }
    let checks: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("tests/fixtures/checks.json")).expect("checks"))
            .expect("json");
    let cases: Vec<&Value> = checks["cases"].as_array().expect("cases").iter().collect();
    let invalid: [(&str, Value); 4] = [
        ("/data/personal_data_processed", json!("yes")),
        ("/service/unknown_field", json!(1)),
        ("/assessments/dpia/completed_on", json!("14/9/2026")),
        ("/governance/review/interval_months", json!(0)),
    ];
    let mut rng = Rng(20_261_127);
    let mut docs = Vec::with_capacity(n);
    for i in 0..n {
        let mut doc = examples[rng.below(examples.len())].clone();
        set_pointer(&mut doc, "/service/name", json!(format!("Tjänst {i}")));
        // About a third get one to three mutations from the check fixtures.
        if rng.below(3) == 0 {
            for _ in 0..=rng.below(3) {
                let case = cases[rng.below(cases.len())];
                for (pointer, value) in case["set"].as_object().expect("set") {
                    set_pointer(&mut doc, pointer, value.clone());
                }
            }
        }
        if rng.below(40) == 0 {
            let (pointer, value) = &invalid[rng.below(invalid.len())];
            set_pointer(&mut doc, pointer, value.clone());
        }
        docs.push(serde_json::to_string(&doc).expect("serialise"));
    }
    docs
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn summary(e: &tillit::policy::Evaluation) -> Value {
    let rules: BTreeMap<String, String> =
        e.rules.iter().map(|r| (r.rule.to_string(), r.outcome.as_str().to_string())).collect();
    let mut violations: Vec<String> =
        e.rules.iter().flat_map(|r| r.violations.iter().map(|v| format!("{} {}", v.check, v.pointer))).collect();
    violations.sort();
    json!({"verdict": e.verdict.as_str(), "rules": rules, "violations": violations})
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let n: usize = std::env::var("TILLIT_BENCH_DOCS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let rounds: usize = std::env::var("TILLIT_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(7);
    let out_dir = root.join("target/bench");
    std::fs::create_dir_all(&out_dir).expect("target/bench");

    let compile_started = Instant::now();
    let policies = tillit::policy::load(None).expect("policies");
    let compile_ms = compile_started.elapsed().as_secs_f64() * 1e3;

    let docs = corpus(&root, n);
    let docs_path = out_dir.join("policy_eval_docs.jsonl");
    std::fs::write(&docs_path, docs.join("\n") + "\n").expect("write docs");
    let mean_bytes = docs.iter().map(String::len).sum::<usize>() / docs.len();
    let parsed: Vec<Value> = docs.iter().map(|d| serde_json::from_str(d).expect("json")).collect();

    // Warm up, then time.
    let mut sink = 0usize;
    for d in &parsed {
        sink += policies.evaluate(d).rules.len();
    }
    let pre_parsed_us = median(
        (0..rounds)
            .map(|_| {
                let t = Instant::now();
                for d in &parsed {
                    sink += policies.evaluate(d).rules.len();
                }
                t.elapsed().as_secs_f64() * 1e6 / n as f64
            })
            .collect(),
    );
    let with_parse_us = median(
        (0..rounds)
            .map(|_| {
                let t = Instant::now();
                for d in &docs {
                    sink += policies.evaluate_bytes(d.as_bytes()).map(|(_, e)| e.rules.len()).unwrap_or(0);
                }
                t.elapsed().as_secs_f64() * 1e6 / n as f64
            })
            .collect(),
    );
    let parse_only_us = median(
        (0..rounds)
            .map(|_| {
                let t = Instant::now();
                for d in &docs {
                    sink += tillit::json::parse_strict(d.as_bytes()).map(|v| v.is_object() as usize).unwrap_or(0);
                }
                t.elapsed().as_secs_f64() * 1e6 / n as f64
            })
            .collect(),
    );
    // The same documents, each evaluated 20 times in a row: the cost once the
    // document is in the CPU cache, which is where a request finds it.
    let hot_us = median(
        (0..rounds)
            .map(|_| {
                let t = Instant::now();
                for d in parsed.iter().take(n / 20) {
                    for _ in 0..20 {
                        sink += policies.evaluate(d).rules.len();
                    }
                }
                t.elapsed().as_secs_f64() * 1e6 / ((n / 20) * 20) as f64
            })
            .collect(),
    );
    let ours: Vec<Value> = parsed.iter().map(|d| summary(&policies.evaluate(d))).collect();
    let failing = ours.iter().filter(|o| o["verdict"] == "fail").count();
    let invalid = ours.iter().filter(|o| o["verdict"] == "invalid").count();

    // The peer, same files, same documents.
    let ajv_out = out_dir.join("policy_eval_ajv.json");
    let status = Command::new("node")
        .arg(root.join("bench/peers/ajv/eval.mjs"))
        .arg(root.join("policies"))
        .arg(root.join("schemas/submission.schema.json"))
        .arg(&docs_path)
        .arg(&ajv_out)
        .arg(rounds.to_string())
        .status()
        .expect("run node (install it, and npm ci in bench/peers/ajv)");
    assert!(status.success(), "the ajv peer failed");
    let ajv: Value = serde_json::from_str(&std::fs::read_to_string(&ajv_out).expect("ajv output")).expect("json");

    let mut disagreements = Vec::new();
    for (i, (mine, theirs)) in ours.iter().zip(ajv["outcomes"].as_array().expect("outcomes")).enumerate() {
        let same = if mine["verdict"] == "invalid" { theirs["verdict"] == "invalid" } else { mine == theirs };
        if !same {
            disagreements.push(json!({"doc": i, "tillit": mine, "ajv": theirs}));
        }
    }
    let ajv_pre = ajv["pre_parsed_us"].as_f64().unwrap_or(f64::NAN);
    let ajv_parse = ajv["with_parse_us"].as_f64().unwrap_or(f64::NAN);
    let result = json!({
        "documents": n,
        "mean_document_bytes": mean_bytes,
        "failing": failing,
        "invalid": invalid,
        "rounds": rounds,
        "tillit": {"compile_ms": compile_ms, "pre_parsed_us": pre_parsed_us, "with_parse_us": with_parse_us, "parse_only_us": parse_only_us, "hot_cache_us": hot_us},
        "ajv": {"version": ajv["version"], "node": ajv["node"], "compile_ms": ajv["compile_ms"], "pre_parsed_us": ajv_pre, "with_parse_us": ajv_parse},
        "ratio_pre_parsed": pre_parsed_us / ajv_pre,
        "ratio_with_parse": with_parse_us / ajv_parse,
        "disagreements": disagreements.len(),
        "first_disagreements": disagreements.iter().take(5).collect::<Vec<_>>(),
        "sink": sink,
    });
    std::fs::write(out_dir.join("policy_eval.json"), serde_json::to_string_pretty(&result).expect("json"))
        .expect("write result");

    println!(
        "policy evaluation, {n} documents (mean {mean_bytes} bytes; {failing} fail a rule, {invalid} fail the schema)"
    );
    println!("| engine | µs/doc pre-parsed | µs/doc incl. parse | compile ms |");
    println!("|---|---|---|---|");
    println!("| tillit (jsonschema 0.61) | {pre_parsed_us:.2} | {with_parse_us:.2} | {compile_ms:.1} |");
    println!(
        "| ajv {} ({}) | {ajv_pre:.2} | {ajv_parse:.2} | {:.1} |",
        ajv["version"].as_str().unwrap_or("?"),
        ajv["node"].as_str().unwrap_or("?"),
        ajv["compile_ms"].as_f64().unwrap_or(f64::NAN)
    );
    println!(
        "ratio tillit/ajv: pre-parsed {:.2}, including parsing {:.2}",
        pre_parsed_us / ajv_pre,
        with_parse_us / ajv_parse
    );
    println!(
        "strict parse alone: {parse_only_us:.2} µs/doc; evaluation with the document in cache: {hot_us:.2} µs/doc"
    );
    println!(
        "agreement: {} of {n} documents identical ({} disagreements)",
        n - disagreements.len(),
        disagreements.len()
    );
    if !disagreements.is_empty() {
        eprintln!("{}", serde_json::to_string_pretty(&disagreements[..disagreements.len().min(3)]).unwrap_or_default());
        std::process::exit(1);
    }
}
