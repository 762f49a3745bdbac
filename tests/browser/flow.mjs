// Browser test: Tillit's pages in Debian's headless Chromium (playwright-core).
//
// Usage: node flow.mjs BASE_URL PASSWORD
// An Itsam approver signs in, finds a Boxholm decision in the queue (Boxholm
// has delegated to Itsam in the demo data), approves with conditions, and an
// anonymous employee then sees the answer on the lookup page. Along the way:
// no console errors (a CSP violation is one), every form field has a label,
// the pages work in English too, and sign-out really ends the session.
// Prints "browser: N passed, N failed" and writes target/reports/browser.json.

import { chromium } from "playwright-core";
import fs from "node:fs";
import path from "node:path";

const [base, password] = process.argv.slice(2);
if (!base || !password) {
  console.error("usage: node flow.mjs BASE_URL PASSWORD");
  process.exit(2);
}

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
page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
page.on("pageerror", (e) => consoleErrors.push(String(e)));

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
  await row.locator("a").click();
  await page.waitForURL(/\/services\//);
});

await step("the decision form: approve with conditions for Boxholm", async () => {
  const missing = await unlabelled(page);
  expect(missing.length === 0, `fields without a label: ${missing}`);
  await page.selectOption("#org", "boxholm");
  await page.check("input[name=decision][value=approved_with_conditions]");
  await page.selectOption("#information_class_max", "internal");
  await page.check("input[name=no_personal_data]");
  await page.fill("#decision_reference", "IT 2026/44");
  await page.click("section[aria-labelledby=decide-heading] button[type=submit]");
  await page.waitForURL(/decided=1/);
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
  expect(!answer.includes("Isak"), "a person's name on a public page");
  await anonymous.close();
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
const out = path.join(path.dirname(new URL(import.meta.url).pathname), "../../target/reports");
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, "browser.json"), JSON.stringify({ passed, failed, steps: results }, null, 2));
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
