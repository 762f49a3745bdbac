// Screenshots of a few pages as a signed-in person, for looking at them by hand.
// Usage: node shot.mjs BASE ORG USER PASSWORD OUTDIR PATH...
import { chromium } from "playwright-core";
const [base, org, user, password, out, ...paths] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
if (user !== "-") {
  await page.goto(`${base}/login`);
  await page.selectOption("select[name=org]", org);
  await page.fill("input[name=username]", user);
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
  await page.waitForLoadState();
}
let i = 0;
for (const p of paths) {
  await page.goto(base + p);
  await page.screenshot({ path: `${out}/${String(++i).padStart(2, "0")}.png`, fullPage: true });
}
await browser.close();
