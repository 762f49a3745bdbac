// ajv 8 (draft 2020-12) running the same policy files on the same documents
// as Tillit. Usage: node eval.mjs POLICY_DIR SCHEMA DOCS.jsonl OUT.json ROUNDS
// Prints nothing; writes timings and every document's outcome to OUT.json.
import fs from "node:fs";
import path from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const [policyDir, schemaPath, docsPath, outPath, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg || 5);

const ajv = new Ajv2020({ allErrors: true, strictTypes: false, strictTuples: false, strictRequired: false });
addFormats(ajv, ["date", "email", "uri", "hostname"]);
ajv.addVocabulary(["x-tillit-rule", "x-tillit-check"]);

const compileStart = process.hrtime.bigint();
const submission = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, "utf8")));
const rules = [];
for (const file of fs.readdirSync(policyDir).filter((f) => f.endsWith(".policy.json")).sort()) {
  const policy = JSON.parse(fs.readFileSync(path.join(policyDir, file), "utf8"));
  ajv.addSchema(policy);
  const meta = policy["x-tillit-rule"];
  const checks = Object.entries(policy.$defs)
    .filter(([, def]) => def["x-tillit-check"])
    .map(([id, def]) => ({
      id,
      sv: def["x-tillit-check"].message.sv,
      en: def["x-tillit-check"].message.en,
      validate: ajv.compile({ $ref: `${policy.$id}#/$defs/${id}` }),
    }))
    .sort((a, b) => Number(a.id.split(".")[1]) - Number(b.id.split(".")[1]));
  rules.push({
    id: meta.id,
    number: Number(meta.id.slice(1)),
    title: meta.title.sv,
    titleEn: meta.title.en,
    severity: meta.severity,
    whole: ajv.getSchema(policy.$id),
    applies: meta.applies === "always" ? null : ajv.compile({ $ref: `${policy.$id}#/$defs/applies` }),
    checks,
  });
}
rules.sort((a, b) => a.number - b.number);
const compileMs = Number(process.hrtime.bigint() - compileStart) / 1e6;

function evaluate(doc) {
  if (!submission(doc)) {
    return { verdict: "invalid", rules: [], errors: submission.errors.map((e) => ({ pointer: e.instancePath, message: e.message })) };
  }
  let fail = false;
  const out = [];
  for (const rule of rules) {
    const violations = [];
    let outcome;
    if (rule.whole(doc)) {
      outcome = rule.applies && !rule.applies(doc) ? "not_applicable" : "pass";
    } else {
      for (const check of rule.checks) {
        if (check.validate(doc)) continue;
        const seen = new Set();
        for (const e of check.validate.errors) {
          // ajv also reports each item that failed inside `contains`, and a
          // summary error for `if`; Tillit reports the array and the field.
          if (e.keyword === "if" || e.schemaPath.includes("/contains/") || seen.has(e.instancePath)) continue;
          seen.add(e.instancePath);
          violations.push({ check: check.id, pointer: e.instancePath, message_sv: check.sv, message_en: check.en });
        }
      }
      outcome = rule.severity === "blocking" ? "fail" : "warn";
      if (outcome === "fail") fail = true;
    }
    out.push({ rule: rule.id, title: rule.title, title_en: rule.titleEn, severity: rule.severity, outcome, violations });
  }
  return { verdict: fail ? "fail" : "pass", rules: out, errors: [] };
}

const lines = fs.readFileSync(docsPath, "utf8").split("\n").filter((l) => l.length > 0);
const parsed = lines.map((l) => JSON.parse(l));

function time(fn) {
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e3 / lines.length);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

let sink = 0;
// Warm up the JIT before measuring.
for (let i = 0; i < 3; i++) for (const d of parsed) sink += evaluate(d).rules.length;
const preParsedUs = time(() => { for (const d of parsed) sink += evaluate(d).rules.length; });
const withParseUs = time(() => { for (const l of lines) sink += evaluate(JSON.parse(l)).rules.length; });

const outcomes = parsed.map((d) => {
  const r = evaluate(d);
  return {
    verdict: r.verdict,
    rules: Object.fromEntries(r.rules.map((x) => [x.rule, x.outcome])),
    violations: r.rules.flatMap((x) => x.violations.map((v) => `${v.check} ${v.pointer}`)).sort(),
  };
});
fs.writeFileSync(outPath, JSON.stringify({
  engine: "ajv", version: JSON.parse(fs.readFileSync(new URL("./node_modules/ajv/package.json", import.meta.url))).version,
  node: process.version, compile_ms: compileMs, pre_parsed_us: preParsedUs, with_parse_us: withParseUs, sink, outcomes,
}));
