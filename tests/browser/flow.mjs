// Browser test: Tillit's pages in Debian's headless Chromium (playwright-core).
//
// Usage: node flow.mjs BASE_URL PASSWORD IDP_URL
// A Boxholm coordinator fills in the submission form, sees the failing rule
// at its field, submits, fixes it in a new version and re-submits; an Itsam
// approver signs in, finds a Boxholm decision in the queue (Boxholm
// has delegated to Itsam in the demo data), approves with conditions, and an
// anonymous employee then sees the answer on the lookup page. Along the way:
// no console errors (a CSP violation is one), every form field has a label,
// axe-core finds no serious or critical WCAG 2.1 A/AA violation on any page
// type, script payloads in every free-text field never run, the sign-in works
// with the keyboard alone, the pages work in English too, and sign-out really
// ends the session. A screenshot of every step goes to target/reports/browser/.
// Prints "browser: N passed, N failed" and writes target/reports/browser.json.

import { chromium } from "playwright-core";
import fs from "node:fs";
import path from "node:path";

const [base, password, idp] = process.argv.slice(2);
if (!base || !password || !idp) {
  console.error("usage: node flow.mjs BASE_URL PASSWORD IDP_URL");
  process.exit(2);
}

const reports = path.join(path.dirname(new URL(import.meta.url).pathname), "../../target/reports");
const shots = path.join(reports, "browser");
fs.rmSync(shots, { recursive: true, force: true });
fs.mkdirSync(shots, { recursive: true });
const axeSource = fs.readFileSync(new URL("./node_modules/axe-core/axe.min.js", import.meta.url), "utf8");
const axeFindings = [];
const executed = [];
const XSS = `<script>alert("xss")</script><img src=x onerror=alert("xss")>`;
let shot = 0;
const results = [];
async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true, ms: Date.now() - started });
    console.log(`ok   ${name}`);
  } catch (e) {
    results.push({ name, ok: false, error: String(e), ms: Date.now() - started });
    console.log(`FAIL ${name}: ${e}`);
  }
}
function expect(condition, message) {
  if (!condition) throw new Error(message);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const context = await browser.newContext();
const page = await context.newPage();
const consoleErrors = [];
watch(page);

async function screenshot(p, name) {
  shot += 1;
  await p.screenshot({ path: path.join(shots, `${String(shot).padStart(2, "0")}-${name}.png`), fullPage: true });
}

// axe-core, evaluated through the DevTools protocol (the pages' CSP allows
// no injected script, rightly), against WCAG 2.1 A and AA.
async function axeCheck(p, label) {
  await p.evaluate(axeSource);
  const r = await p.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }));
  axeFindings.push({ page: label, violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })) });
  const bad = r.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad.length === 0, `${label}: ${bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target).join(" ")}`).join("; ")}`);
}

function watch(p) {
  p.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  p.on("pageerror", (e) => consoleErrors.push(String(e)));
  p.on("dialog", async (d) => { executed.push(d.message()); await d.dismiss(); });
}

async function signInAs(org, user) {
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  watch(p);
  await p.goto(`${base}/login`);
  await p.selectOption("#org", org);
  await p.fill("#username", user);
  await p.fill("#password", password);
  await p.click("form.stack button[type=submit]");
  await p.waitForURL(/\/start/);
  return { ctx, p };
}

async function unlabelled(p) {
  return p.evaluate(() =>
    [...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
      .filter((el) => !(el.labels && el.labels.length > 0) && !el.closest("label") && !el.getAttribute("aria-label"))
      .map((el) => el.name || el.id));
}

await step("signed out, /start leads to the sign-in page", async () => {
  await page.goto(`${base}/start`);
  expect(new URL(page.url()).pathname === "/login", `at ${page.url()}`);
  expect((await page.locator("h1").innerText()) === "Logga in", "Swedish first");
  const missing = await unlabelled(page);
  expect(missing.length === 0, `fields without a label: ${missing}`);
  await axeCheck(page, "sign-in");
  await screenshot(page, "sign-in");
});

await step("a wrong password is refused with a message, not a session", async () => {
  await page.selectOption("#org", "itsam");
  await page.fill("#username", "isak");
  await page.fill("#password", "fel lösenord igen");
  await page.click("form.stack button[type=submit]");
  expect((await page.locator("#login-error").innerText()).includes("Fel användarnamn"), "no error message");
  const cookies = await context.cookies();
  expect(!cookies.some((c) => c.name === "__Host-tillit_session"), "a session cookie was set");
  // The refusal is answered with 401, which Chromium logs; that one is expected.
  const expected = consoleErrors.filter((m) => m.includes("status of 401"));
  expect(expected.length === 1, `expected one 401, got ${consoleErrors.join(" | ")}`);
  consoleErrors.length = 0;
});

await step("the Itsam approver signs in and sees Boxholm's queue under delegation", async () => {
  await page.selectOption("#org", "itsam");
  await page.fill("#username", "isak");
  await page.fill("#password", password);
  await page.click("form.stack button[type=submit]");
  await page.waitForURL(/\/start/);
  const session = (await context.cookies()).find((c) => c.name === "__Host-tillit_session");
  expect(session && session.httpOnly && session.secure && session.sameSite === "Lax", "session cookie flags");
  const row = page.locator("tr", { hasText: "Boxholms kommun" }).filter({ hasText: "Transkribering" });
  expect((await row.count()) === 1, "the delegated service is not in the queue");
  expect((await row.innerText()).includes("enligt delegering"), "delegation not shown");
  await axeCheck(page, "start (approver)");
  await screenshot(page, "approver-queue");
  await row.locator("a").click();
  await page.waitForURL(/\/services\//);
});

await step("the decision form: approve with conditions for Boxholm", async () => {
  const missing = await unlabelled(page);
  expect(missing.length === 0, `fields without a label: ${missing}`);
  await axeCheck(page, "service with the decision form");
  await page.selectOption("#org", "boxholm");
  await page.check("input[name=decision][value=approved_with_conditions]");
  await page.selectOption("#information_class_max", "internal");
  await page.check("input[name=no_personal_data]");
  // Script payloads in every free-text field of the form.
  await page.fill("#permitted_tasks", `Protokoll\n${XSS}`);
  await page.fill("#required_settings", XSS);
  await page.fill("#other_condition", XSS);
  await page.fill("#reason", XSS);
  await page.fill("#decision_reference", `IT 2026/44 ${XSS}`.slice(0, 100));
  await screenshot(page, "decision-form");
  await page.click("section[aria-labelledby=decide-heading] button[type=submit]");
  await page.waitForURL(/decided=1/);
  await screenshot(page, "decision-recorded");
  expect((await page.locator("[role=status]").innerText()).includes("Beslutet är registrerat"), "no confirmation");
  const row = page.locator("tr", { hasText: "boxholm" });
  const text = await row.innerText();
  expect(text.includes("utan personuppgifter") && text.includes("enligt delegering"), text);
});

await step("an employee without an account sees the answer on the lookup page", async () => {
  const anonymous = await browser.newContext();
  const p = await anonymous.newPage();
  p.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  await p.goto(`${base}/`);
  await p.fill("#q", "whisper");
  await p.selectOption("#org", "boxholm");
  await p.click("form.lookup button[type=submit]");
  await p.waitForURL(/q=whisper/);
  const answer = await p.locator("li.match").first().innerText();
  expect(answer.includes("Godkänd med villkor"), answer);
  expect(answer.includes("utan personuppgifter"), answer);
  expect(answer.includes(XSS), "the payload is shown as text");
  expect(!answer.includes("Isak"), "a person's name on a public page");
  await axeCheck(p, "lookup with answers");
  await screenshot(p, "lookup-answer");
  await p.goto(`${base}/register/boxholm`);
  await axeCheck(p, "public register");
  await screenshot(p, "public-register");
  await anonymous.close();
});

// ---- The submission form: a coordinator describes a service, it fails a
// rule, is fixed in a new version and re-submitted; Itsam decides under
// delegation; the lookup then says it is allowed with its conditions.

const example = JSON.parse(fs.readFileSync(new URL("../fixtures/examples/internal-assistant-no-dpa.json", import.meta.url), "utf8"));
example.service.name = "Skrivhjälpen";
example.service.aliases = ["Skrivhjalpen AI"];
example.service.domains = ["skrivhjalpen.example.se"];
// Script payloads in free-text fields of the form: they must stay text.
example.service.short_description = `Skrivstöd för handläggare ${XSS}`;
example.purpose.intended_use = `Utkast till texter. ${XSS}`;

const field = (p, name) => p.locator(`[name="${name}"]`);

async function saveDraft(p) {
  await p.click("form.submission button[value=save]");
  await p.waitForURL(/saved=1/);
}

// Fills the form from a document, field by field, as a person would: text
// boxes, choices, yes/no, check boxes and table rows ("Lägg till rad" when
// a table needs another row).
// Fields whose values have a fixed shape (codes, host names, checksums);
// every other text box is free text.
const SHAPED = ["/service/domains", "/vendor/country", "/vendor/parent_jurisdiction", "/accessibility/languages_supported"];
const shaped = (name) => SHAPED.includes(name) || name.endsWith("/country") || name.endsWith("/sha256");

async function fillForm(p, doc, probe = false) {
  // With `probe`, a script payload goes in front of every free-text answer,
  // and into every empty free-text box.
  const text = (name, v) => (probe && !shaped(name) ? `${XSS} ${v ?? ""}`.trim() : String(v ?? ""));
  const leaves = [];
  const walk = (v, at) => {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      for (const [k, inner] of Object.entries(v)) walk(inner, `${at}/${k}`);
    } else leaves.push([at, v]);
  };
  walk(doc, "");
  for (const [name, value] of leaves) {
    if (name === "/schema_version") continue;
    // An empty table: nothing to fill in.
    if (Array.isArray(value) && value.length === 0 && (await field(p, name).count()) === 0) continue;
    if (Array.isArray(value) && value.some((x) => x !== null && typeof x === "object")) {
      for (let i = 0; i < value.length; i++) {
        for (const [key, cell] of Object.entries(value[i])) {
          const input = field(p, `${name}/${i}/${key}`);
          // A new row without saving first: "Lägg till rad" shows the form
          // again, as typed, with one more row.
          if ((await input.count()) === 0) {
            await p.click(`button[value="add_row:${name}"]`);
            await p.waitForLoadState();
            expect((await input.count()) === 1, `no row ${i} in ${name} after "Lägg till rad"`);
          }
          const tag = await input.evaluate((el) => el.tagName);
          if (tag === "SELECT") await input.selectOption(String(cell ?? ""));
          else await input.fill(text(`${name}/${i}/${key}`, cell));
        }
      }
      continue;
    }
    const target = field(p, name);
    const type = await target.first().evaluate((el) => `${el.tagName}:${el.type}`);
    if (type === "INPUT:checkbox") {
      for (const box of await target.all()) {
        if (value.includes(await box.getAttribute("value"))) await box.check(); else await box.uncheck();
      }
    } else if (type === "INPUT:radio") {
      await p.check(`[name="${name}"][value="${value}"]`);
    } else if (type.startsWith("SELECT")) {
      await target.selectOption(String(value ?? ""));
    } else if (Array.isArray(value)) {
      const items = probe && !shaped(name) ? (value.length ? value : [""]).map((v) => text(name, v)) : value;
      await target.fill(name === "/accessibility/languages_supported" ? items.join(", ") : items.join("\n"));
    } else if (type === "INPUT:text" || type.startsWith("TEXTAREA")) {
      await target.fill(text(name, value));
    } else {
      await target.fill(value === null ? "" : String(value));
    }
  }
}

let bo = null;
await step("a coordinator fills in the submission form; missing answers and the failing rule show at their fields", async () => {
  bo = await signInAs("boxholm", "bo");
  const p = bo.p;
  await p.click("form[action^='/drafts'] button[type=submit]");
  await p.waitForURL(/\/drafts\//);
  const missing = await unlabelled(p);
  expect(missing.length === 0, `fields without a label: ${missing}`);
  await axeCheck(p, "submission form (empty)");
  await screenshot(p, "form-empty");
  // The keyboard alone reaches every control of the form, in order.
  const controls = await p.locator("form.submission input:not([type=hidden]), form.submission select, form.submission textarea, form.submission button").count();
  const reached = new Set();
  await p.locator("#f-service-name").focus();
  for (let i = 0; i < controls + 40 && reached.size < controls; i++) {
    const id = await p.evaluate(() => {
      const el = document.activeElement;
      return el && el.closest("form.submission") ? `${el.name}|${el.value}|${el.id}` : null;
    });
    if (id) reached.add(id);
    await p.keyboard.press("Tab");
  }
  // Radio groups are one Tab stop each (arrow keys move within them).
  const radios = await p.locator("form.submission input[type=radio]").count();
  expect(reached.size >= controls - radios / 2, `Tab reached ${reached.size} of ${controls} controls`);
  // A first save with only a few answers: a draft, with what is missing.
  await field(p, "/service/name").fill(example.service.name);
  await p.check(`[name="/data/personal_data_processed"][value=true]`);
  await saveDraft(p);
  expect((await p.locator("[role=status]").innerText()).includes("Utkastet är sparat"), "no confirmation");
  const nameBlock = await p.locator(".field", { has: p.locator("#f-vendor-name") }).innerText();
  expect(nameBlock.includes("Fyll i det här fältet"), `no message at the vendor's name: ${nameBlock}`);
  expect((await p.locator(".error-summary").innerText()).length > 0, "no summary of what is missing");
  await axeCheck(p, "submission form (with errors)");
  await screenshot(p, "form-incomplete");
  // Everything answered, without a processing agreement: R1 fails, at its field.
  await fillForm(p, example);
  await saveDraft(p);
  const dpa = await p.locator(".field", { has: p.locator("#f-vendor-dpa_signed") }).innerText();
  expect(dpa.includes("R1.1") && dpa.includes("Personuppgiftsbiträdesavtal saknas"), `R1.1 not at its field: ${dpa}`);
  expect((await p.locator("#s-r1").innerText()).includes("uppfylls inte"), "R1's outcome not at its section");
  expect((await p.locator(".error-summary li").count()) === 1, "only the failing check is left");
  await axeCheck(p, "submission form (failing rule)");
  await screenshot(p, "form-fails-R1");
  // Saved as a version and submitted for review, failing check and all.
  await p.click("form.submission button[value=complete]");
  await p.waitForURL(/created=1/);
  expect((await p.locator("body").innerText()).includes("R1.1"), "the service page lacks the failing check");
  await p.click("form[action*='/revisions/1/submit'] button");
  await p.waitForURL(/submitted=1/);
  await screenshot(p, "version-1-submitted");
});

await step("it fails R1, is fixed in a new version and re-submitted", async () => {
  const p = bo.p;
  await p.click("form[action*='/drafts?'] button");
  await p.waitForURL(/\/drafts\//);
  expect((await p.locator("h1").innerText()).includes("Ny version av Skrivhjälpen"), "not a new version");
  expect((await field(p, "/vendor/name").inputValue()) === example.vendor.name, "not prefilled");
  await p.check(`[name="/vendor/dpa_signed"][value=true]`);
  await saveDraft(p);
  expect((await p.locator("#s-r1").innerText()).includes("uppfylls"), "R1 still fails");
  expect((await p.locator(".error-summary").count()) === 0, "problems left");
  await screenshot(p, "form-fixed");
  await p.click("form.submission button[value=complete]");
  await p.waitForURL(/created=2/);
  await p.click("form[action*='/revisions/2/submit'] button");
  await p.waitForURL(/submitted=1/);
  await p.locator("details summary").first().click();
  const diff = await p.locator("details").first().innerText();
  expect(diff.includes("Finns ett personuppgiftsbiträdesavtal?"), `the diff does not show the fix in words: ${diff}`);
  await screenshot(p, "version-2-submitted");
  await bo.ctx.close();
});

await step("the Itsam approver decides on it under delegation", async () => {
  const { ctx, p } = await signInAs("itsam", "isak");
  const row = p.locator("tr", { hasText: "Skrivhjälpen" }).filter({ hasText: "Boxholms kommun" });
  expect((await row.innerText()).includes("enligt delegering"), "not in the queue under delegation");
  await row.locator("a").click();
  await p.waitForURL(/\/services\//);
  await p.selectOption("#org", "boxholm");
  await p.check("input[name=decision][value=approved_with_conditions]");
  await p.selectOption("#information_class_max", "internal");
  await p.fill("#permitted_tasks", "Utkast till tjänsteskrivelser");
  await p.click("section[aria-labelledby=decide-heading] button[type=submit]");
  await p.waitForURL(/decided=1/);
  await screenshot(p, "decided-under-delegation");
  await ctx.close();
});

await step("an employee's lookup then says it is allowed, with its conditions", async () => {
  const anonymous = await browser.newContext();
  const p = await anonymous.newPage();
  watch(p);
  await p.goto(`${base}/?q=${encodeURIComponent("https://skrivhjalpen.example.se/ny")}&org=boxholm`);
  const answer = await p.locator("li.match").first().innerText();
  expect(answer.includes("Skrivhjälpen") && answer.includes("Godkänd med villkor"), answer);
  expect(answer.includes("Utkast till tjänsteskrivelser"), `conditions missing: ${answer}`);
  expect(!answer.includes("Isak") && !answer.includes("Bo Samordnare"), "a person's name on a public page");
  await screenshot(p, "lookup-new-service");
  await anonymous.close();
});

await step("XSS probe: a payload in every free-text field of the submission form stays text on every page", async () => {
  const { ctx, p } = await signInAs("boxholm", "bo");
  await p.click("form[action^='/drafts'] button[type=submit]");
  await p.waitForURL(/\/drafts\//);
  const doc = structuredClone(example);
  doc.service.name = "Provtjänst";
  doc.service.aliases = ["Provtjanst"];
  doc.service.domains = ["prov.example.se"];
  doc.vendor.dpa_signed = true;
  await fillForm(p, doc, true);
  await saveDraft(p);
  const boxes = await p.locator("form.submission input[type=text], form.submission textarea").count();
  const probed = await p.locator("form.submission input[type=text], form.submission textarea")
    .evaluateAll((els) => els.filter((el) => el.value.includes("<script>")).length);
  expect(probed >= 35, `only ${probed} of ${boxes} text boxes hold the payload`);
  await p.click("form.submission button[value=complete]");
  await p.waitForURL(/created=1/);
  await p.click("form[action*='/revisions/1/submit'] button");
  await p.waitForURL(/submitted=1/);
  expect((await p.locator("h1").innerText()).includes("<script>"), "the name is not shown as text");
  await p.locator("details summary").first().click().catch(() => {});
  await p.goto(`${base}/start`);
  await ctx.close();
  const approver = await signInAs("itsam", "isak");
  const row = approver.p.locator("tr", { hasText: "Provtjänst" }).filter({ hasText: "Boxholms kommun" });
  await row.locator("a").click();
  await approver.p.waitForURL(/\/services\//);
  expect((await approver.p.locator("main").innerText()).includes("<script>"), "payloads not shown as text");
  await approver.ctx.close();
  expect(executed.length === 0, `executed: ${executed.join(" | ")}`);
});

await step("an auditor signs in with the keyboard alone and reads the report and the audit log", async () => {
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  watch(p);
  await p.goto(`${base}/login`);
  const focusOn = async (id) => {
    for (let i = 0; i < 30; i++) {
      await p.keyboard.press("Tab");
      if ((await p.evaluate(() => document.activeElement && document.activeElement.id)) === id) return;
    }
    throw new Error(`#${id} cannot be reached with Tab`);
  };
  await focusOn("org");
  await p.keyboard.type("Kommunal"); // Itsam's name; a select jumps to it
  await focusOn("username");
  await p.keyboard.type("irene");
  await p.keyboard.press("Tab");
  await p.keyboard.type(password);
  await p.keyboard.press("Enter");
  await p.waitForURL(/\/start/);
  await axeCheck(p, "start (auditor)");
  await p.click("a[href^='/reports']");
  await axeCheck(p, "reports");
  await screenshot(p, "reports-form");
  await p.selectOption("#org", "boxholm");
  await p.selectOption("#format", "html");
  await p.click("form.stack button[type=submit]");
  await p.waitForURL(/reports\/compliance/);
  const report = await p.locator("body").innerText();
  expect(report.includes("Transkribering"), "the report lacks the decision");
  expect(report.includes("Isak"), "auditors see who decided");
  expect(report.includes("Boxholms kommun") && !report.includes("allowed_with_conditions"), "the report speaks in names and words");
  await screenshot(p, "report");
  await p.goto(`${base}/audit-log`);
  expect((await p.locator("main table").innerText()).includes("Beslut registrerat"), "no decision in the audit log");
  await axeCheck(p, "audit log");
  await screenshot(p, "audit-log");
  await ctx.close();
});

await step("an admin manages delegations and people; payloads in names and reasons stay text", async () => {
  const { ctx, p } = await signInAs("kinda", "kerstin");
  await p.goto(`${base}/admin/people`);
  await axeCheck(p, "people");
  await p.fill("#name", `Mallory ${XSS}`.slice(0, 120));
  await p.check("input[name=role][value=coordinator]");
  await p.click("form.stack button[type=submit]");
  await p.waitForURL(/admin\/people/);
  expect((await p.locator("table.list").innerText()).includes("Mallory <script>"), "the name is not shown as text");
  await screenshot(p, "people");
  await p.goto(`${base}/admin/delegations`);
  await axeCheck(p, "delegations");
  await p.fill("#decision_reference", `KS 2026/99 ${XSS}`.slice(0, 100));
  await p.click("form.stack button[type=submit]");
  await p.waitForURL(/admin\/delegations/);
  const row = p.locator("tr", { hasText: "KS 2026/99" });
  await row.locator("input[name=reason]").fill(XSS);
  await row.locator("button").click();
  await p.waitForURL(/admin\/delegations/);
  expect((await p.locator("table.list").innerText()).includes("återkallat"), "not revoked");
  await screenshot(p, "delegations");
  await ctx.close();
});

// ---- Single sign-on against a real OpenID Connect provider (oidc-provider,
// started by run.sh as Boxholm's identity provider).

async function ssoSignIn(p, login) {
  await p.goto(`${base}/login`);
  await p.click("a.button:has-text('Boxholms kommun')");
  await p.waitForURL((u) => u.toString().startsWith(idp));
  await p.fill("input[name=login]", login);
  await p.fill("input[name=password]", "vilket lösenord som helst");
  await p.click("button[type=submit]");
  // The provider asks for consent the first time.
  await p.waitForURL((u) => !u.toString().includes("/interaction/") || u.toString().includes("consent") || true);
  for (let i = 0; i < 3 && p.url().startsWith(idp); i++) {
    await p.click("button[type=submit]");
    await p.waitForLoadState();
  }
}

let ssoContext = null;
let ssoPage = null;
await step("single sign-on: code flow with PKCE and a nonce; the provider, not a claim, decides the organisation", async () => {
  ssoContext = await browser.newContext();
  const p = await ssoContext.newPage();
  ssoPage = p;
  p.on("dialog", async (d) => { executed.push(d.message()); await d.dismiss(); });
  let authorize = null;
  p.on("request", (r) => { if (!authorize && r.url().startsWith(`${idp}/auth`)) authorize = r.url(); });
  await p.goto(`${base}/login`);
  await axeCheck(p, "sign-in with single sign-on");
  await screenshot(p, "sign-in-sso");
  await ssoSignIn(p, "sara");
  await p.waitForURL((u) => u.toString().startsWith(`${base}/start`));
  const q = new URL(authorize).searchParams;
  expect(q.get("response_type") === "code", `response_type ${q.get("response_type")}`);
  expect(q.get("code_challenge_method") === "S256" && (q.get("code_challenge") || "").length >= 43, "no PKCE S256");
  expect((q.get("nonce") || "").length >= 16 && (q.get("state") || "").length >= 16, "no nonce or state");
  expect(q.get("client_id") === "tillit-boxholm", "client_id");
  const text = await p.locator("main").innerText();
  expect(text.includes("Sara Ssonsdotter") && text.includes("Boxholms kommun"), `signed in as: ${text}`);
  expect(!text.includes("Kinda"), "a claim chose the organisation");
  const session = (await ssoContext.cookies()).find((c) => c.name === "__Host-tillit_session");
  expect(session && session.httpOnly && session.secure, "session cookie flags");
  await screenshot(p, "signed-in-sso");
});

await step("forged ID tokens are refused: wrong issuer, wrong audience, alg none, expired, nonce mismatch, unknown key, HS256", async () => {
  const p = ssoPage;
  for (const mode of ["wrong_issuer", "wrong_audience", "alg_none", "expired", "nonce_mismatch", "wrong_key", "hs256"]) {
    await ssoContext.clearCookies({ name: "__Host-tillit_session" });
    const set = await (await fetch(`${idp}/__forge?mode=${mode}`)).json();
    expect(set.forge === mode, `the provider did not take mode ${mode}`);
    const response = await p.goto(`${base}/login/sso/boxholm?next=%2Fstart`);
    expect(response.status() === 403, `${mode}: answered ${response.status()} at ${p.url()}`);
    const text = await p.locator("main").innerText();
    expect(text.includes("Inloggningen kunde inte bekräftas"), `${mode}: ${text}`);
    const cookies = await ssoContext.cookies();
    expect(!cookies.some((c) => c.name === "__Host-tillit_session"), `${mode}: a session was opened`);
    await p.goto(`${base}/start`);
    expect(new URL(p.url()).pathname === "/login", `${mode}: signed in after all`);
  }
  await fetch(`${idp}/__forge`);
  await screenshot(p, "forged-token-refused");
});

await step("a callback is good once, and only in the browser that started the sign-in", async () => {
  const p = ssoPage;
  let callback = null;
  const listener = (r) => { if (r.url().includes("/login/sso/callback")) callback = r.url(); };
  p.on("request", listener);
  await p.goto(`${base}/login/sso/boxholm`);
  await p.waitForURL((u) => u.toString().startsWith(`${base}/start`));
  p.off("request", listener);
  expect(callback, "no callback seen");
  // Replayed in the same browser: the state is used up.
  await ssoContext.clearCookies({ name: "__Host-tillit_session" });
  let response = await p.goto(callback);
  expect(response.status() === 403, `replay answered ${response.status()}`);
  // Another browser (a forged link sent to a victim): no state cookie.
  const other = await browser.newContext();
  const q = await other.newPage();
  response = await q.goto(callback);
  expect(response.status() === 403, `cross-browser callback answered ${response.status()}`);
  expect(!(await other.cookies()).some((c) => c.name === "__Host-tillit_session"), "a session in another browser");
  await other.close();
});

await step("a name from the identity provider is shown as text", async () => {
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  // Only dialogs: the provider's own development pages fetch web fonts
  // that this machine cannot reach.
  p.on("dialog", async (d) => { executed.push(d.message()); await d.dismiss(); });
  await ssoSignIn(p, "mallory");
  await p.waitForURL((u) => u.toString().startsWith(`${base}/start`));
  const text = await p.locator("main").innerText();
  expect(text.includes("Mallory <script>") && text.includes("Boxholms kommun"), text);
  await ctx.close();
  await ssoContext.close();
});

// ---- The five people's journeys, each also at a 390 px wide screen.

async function fitsNarrow(p, label) {
  await p.setViewportSize({ width: 390, height: 800 });
  const wide = await p.evaluate(() => document.documentElement.scrollWidth);
  expect(wide <= 390, `${label}: ${wide} px wide at a 390 px screen`);
  await screenshot(p, `${label.replace(/[^a-z0-9]+/gi, "-")}-390`);
  await p.setViewportSize({ width: 1100, height: 900 });
}

await step("journey: the approver reads the description, decides and revokes", async () => {
  const { ctx, p } = await signInAs("kinda", "kalle");
  const first = p.locator("section[aria-labelledby=queue-heading] tbody tr a").first();
  await first.click();
  await p.waitForURL(/\/services\//);
  const described = await p.locator("section[aria-labelledby=description-heading]").innerText();
  expect(described.includes("Tjänstens namn") && described.includes("R1 Säkerhet och dataskydd"), described.slice(0, 300));
  await axeCheck(p, "service page with the description");
  await screenshot(p, "journey-approver-reads");
  await fitsNarrow(p, "service page");
  await p.selectOption("#org", "kinda");
  await p.check("input[name=decision][value=rejected]");
  await p.fill("#reason", "Tjänsten behövs inte just nu.");
  await p.fill("#decision_reference", "KS 2026/77");
  await p.click("section[aria-labelledby=decide-heading] button[type=submit]");
  await p.waitForURL(/decided=1/);
  const revoke = p.locator("section[aria-labelledby=revoke-heading] form").first();
  await revoke.locator("textarea").fill("Leverantören ändrade sina villkor.");
  await screenshot(p, "journey-approver-revoke-form");
  await revoke.locator("button[type=submit]").click();
  await p.waitForURL(/revoked=1/);
  expect((await p.locator("[role=status]").innerText()).includes("Beslutet är återkallat"), "no confirmation");
  expect((await p.locator("section[aria-labelledby=decisions-heading]").innerText()).includes("KS 2026/77"), "diarienummer");
  await axeCheck(p, "service page after revoking");
  await screenshot(p, "journey-approver-revoked");
  await ctx.close();
});

await step("journey: the coordinator saves a half-filled draft and sees no false failure", async () => {
  const { ctx, p } = await signInAs("kinda", "karin");
  await p.click("form[action^='/drafts'] button[type=submit]");
  await p.waitForURL(/\/drafts\//);
  await p.fill("input[name='/service/name']", "Halvfärdig tjänst");
  await p.selectOption("select[name='/service/service_type']", "saas");
  await p.check("input[name='/vendor/dpa_signed'][value=false]");
  await p.click("button[name=action][value=save]");
  await p.waitForURL(/saved=1/);
  const dpa = await p.locator("#f-vendor-dpa_signed").locator("xpath=..").innerText();
  expect(dpa.includes("Svara först på"), dpa);
  expect(!(await p.content()).includes("Personuppgiftsbiträdesavtal saknas"), "a false failure");
  await axeCheck(p, "half-filled draft");
  await screenshot(p, "journey-coordinator-draft");
  await fitsNarrow(p, "draft form");
  // A country is chosen by its name, and a word that must stay is explained.
  const country = await p.locator("select[name='/vendor/country'] option[value=IE]").innerText();
  expect(country === "Irland", country);
  await p.click("a[href$='#dpia']");
  await p.waitForURL(/\/ordlista/);
  expect((await p.locator("#dpia").innerText()).startsWith("DPIA"), "no DPIA in the glossary");
  await axeCheck(p, "glossary");
  await fitsNarrow(p, "glossary");
  await ctx.close();
});

await step("journey: the employee is asked 'Menade du' and told whom to ask", async () => {
  const anonymous = await browser.newContext({ viewport: { width: 390, height: 800 } });
  const p = await anonymous.newPage();
  watch(p);
  await p.goto(`${base}/`);
  expect((await p.evaluate(() => document.documentElement.scrollWidth)) <= 390, "the first visit fits 390 px");
  await p.fill("#q", "whisprr");
  await p.selectOption("#org", "boxholm");
  await p.click("form.lookup button[type=submit]");
  await p.waitForURL(/q=whisprr/);
  expect((await p.locator(".did-you-mean").first().innerText()).startsWith("Menade du"), "no 'Menade du'");
  await axeCheck(p, "lookup with a typo");
  await screenshot(p, "journey-employee-did-you-mean-390");
  await p.fill("#q", "Ett verktyg som inte finns");
  await p.click("form.lookup button[type=submit]");
  await p.waitForLoadState();
  expect((await p.content()).includes("Fråga innan du använder det"), "no one to ask");
  await screenshot(p, "journey-employee-not-found-390");
  await anonymous.close();
});

await step("journey: the coordinator sees what employees asked for in vain and starts a description", async () => {
  const { ctx, p } = await signInAs("kinda", "karin");
  await p.goto(`${base}/?q=${encodeURIComponent("Röstkloning Studio")}&org=kinda`);
  await p.goto(`${base}/start`);
  await p.click("a[href^='/demand']");
  await p.waitForURL(/\/demand/);
  expect((await p.locator("h1").innerText()) === "Mest efterfrågade verktyg som inte är bedömda", "the list's title");
  const row = await p.locator("main table").innerText();
  expect(row.includes("röstkloning studio") && row.includes("Finns inte i registret") && !row.includes("not_found"), row.slice(0, 300));
  await axeCheck(p, "most requested tools");
  await screenshot(p, "journey-coordinator-demand");
  await fitsNarrow(p, "most requested tools");
  await p.locator("main table tr", { hasText: "röstkloning studio" }).locator("button[type=submit]").click();
  await p.waitForURL(/\/drafts\//);
  expect((await p.inputValue("input[name='/service/name']")) === "röstkloning studio", "the name is filled in");
  await ctx.close();
});

await step("journey: the coordinator imports the municipality's inventory and reads what remains", async () => {
  const { ctx, p } = await signInAs("kinda", "karin");
  await p.goto(`${base}/start`);
  await p.click("a[href^='/import']");
  await p.waitForURL(/\/import/);
  expect((await p.locator("h1").innerText()) === "Läs in en förteckning över AI-verktyg", "the import page's title");
  const template = await p.request.get(`${base}/api/v1/import-template.xlsx`);
  expect(template.ok() && (await template.body()).subarray(0, 2).toString() === "PK", "the template is an .xlsx file");
  await axeCheck(p, "import");
  await fitsNarrow(p, "import");
  const csv = "Tjänstens namn;Leverantör;Fas\r\nMötesbokaren;Acme AB;I bruk\r\nTalsyntesen;;okänd\r\n";
  await p.setInputFiles("#import-file", { name: "förteckning.csv", mimeType: "text/csv", buffer: Buffer.from(csv, "utf8") });
  await p.click("main form button[type=submit]");
  await p.waitForSelector("#import-report");
  const report = await p.locator("main table").innerText();
  expect(report.includes("Mötesbokaren") && report.includes("Nytt utkast") && report.includes("uppgifter återstår"), report.slice(0, 400));
  await p.locator("main table tr", { hasText: "Mötesbokaren" }).locator("summary").click();
  expect((await p.locator("main table").innerText()).includes("Kort beskrivning"), "what remains opens as a list");
  expect(report.includes("värdet ”okänd” känns inte igen") && !report.includes("/service/"), report.slice(0, 400));
  await axeCheck(p, "import report");
  await screenshot(p, "journey-coordinator-import");
  await fitsNarrow(p, "import report");
  await p.locator("main table a", { hasText: "Mötesbokaren" }).click();
  await p.waitForURL(/\/drafts\//);
  expect((await p.inputValue("input[name='/service/name']")) === "Mötesbokaren", "the draft holds the row");
  await ctx.close();
});

await step("journey: the employee gets a 'Nej' with a reason and alternatives", async () => {
  const anonymous = await browser.newContext();
  const p = await anonymous.newPage();
  watch(p);
  await p.goto(`${base}/?q=chatgpt&org=kinda`);
  const answer = await p.locator("li.match").first().innerText();
  expect(answer.includes("Varför:") && answer.includes("träna sin AI"), answer);
  await axeCheck(p, "lookup with a refusal");
  await screenshot(p, "journey-employee-no-with-reason");
  await fitsNarrow(p, "lookup with a refusal");
  await anonymous.close();
});

await step("journey: the resident searches the national register and opens a service page", async () => {
  const anonymous = await browser.newContext();
  const p = await anonymous.newPage();
  watch(p);
  await p.goto(`${base}/register`);
  expect((await p.locator("h1").innerText()) === "AI-registret", "the national register");
  await p.fill("#q", "whisper");
  await p.click("form.filters button[type=submit]");
  await p.waitForURL(/q=whisper/);
  await axeCheck(p, "national register");
  await screenshot(p, "journey-resident-register");
  await fitsNarrow(p, "national register");
  await p.locator("ul.register h2 a").first().click();
  await p.waitForURL(/\/register\/[a-z-]+\/[^/?]+/);
  const text = await p.locator("main").innerText();
  expect(text.includes("Sammanfattning") && text.includes("Mer om tjänsten"), text.slice(0, 200));
  await axeCheck(p, "public service page");
  await screenshot(p, "journey-resident-service-page");
  await fitsNarrow(p, "public service page");
  await anonymous.close();
});

await step("journey: the auditor downloads the register and the compliance report as .xlsx and filters the audit log", async () => {
  const { ctx, p } = await signInAs("itsam", "irene");
  await p.goto(`${base}/register/boxholm`);
  const [download] = await Promise.all([p.waitForEvent("download"), p.click("a[href$='.xlsx']")]);
  const name = download.suggestedFilename();
  expect(/^tillit-boxholm-\d{4}-\d{2}-\d{2}\.xlsx$/.test(name), name);
  const file = await download.path();
  const bytes = fs.readFileSync(file);
  expect(bytes.subarray(0, 2).toString() === "PK", "an .xlsx is a zip file");
  await screenshot(p, "journey-auditor-download");

  // The compliance report as Excel, from the reports page.
  await p.goto(`${base}/reports`);
  await axeCheck(p, "reports page");
  await fitsNarrow(p, "reports page");
  await p.selectOption("#format", "xlsx");
  const [report] = await Promise.all([p.waitForEvent("download"), p.click("form.stack button[type=submit]")]);
  const reportName = report.suggestedFilename();
  expect(/^tillit-efterlevnad-alla-\d{4}-\d{2}-\d{2}\.xlsx$/.test(reportName), reportName);
  expect(fs.readFileSync(await report.path()).subarray(0, 2).toString() === "PK", "the report is an .xlsx");

  // The audit log, in words, filtered to one action.
  await p.goto(`${base}/audit-log`);
  await p.selectOption("#action", "decision.recorded");
  await p.click("form.filters button[type=submit]");
  await p.waitForURL(/action=decision.recorded/);
  const log = await p.locator("main table").innerText();
  expect(log.includes("Beslut registrerat") && !log.includes("decision.recorded") && !log.includes("Tjänst registrerad"), log.slice(0, 300));
  await axeCheck(p, "audit log");
  await screenshot(p, "journey-auditor-audit-log");
  await fitsNarrow(p, "audit log");
  await ctx.close();
});

await step("no script payload ever ran", async () => {
  expect(executed.length === 0, `executed: ${executed.join(" | ")}`);
});

await step("the pages switch to English", async () => {
  await page.goto(`${base}/start?lang=en`);
  expect((await page.locator("h1").innerText()) === "My work", "not English");
  expect((await page.getAttribute("html", "lang")) === "en", "html lang");
});

await step("sign-out ends the session", async () => {
  await page.click("header form.inline button");
  await page.waitForURL(/\/login/);
  await page.goto(`${base}/start`);
  expect(new URL(page.url()).pathname === "/login", "still signed in after sign-out");
});

await step("no console errors and no CSP violations on any page", async () => {
  expect(consoleErrors.length === 0, consoleErrors.join(" | "));
});

await browser.close();
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
fs.writeFileSync(
  path.join(reports, "browser.json"),
  JSON.stringify({ passed, failed, steps: results, axe: axeFindings, executed_payloads: executed.length }, null, 2),
);
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
