// What every browser spec shares: Chromium from Debian driven by playwright-core, sign-in as a
// demo user, an axe-core scan failing on serious or critical violations, screenshots, and a
// check that the page never trips its Content-Security-Policy.
//
// A spec is a file `<area>.mjs` in this folder that calls `run(async (t) => { ... })`; the
// Rust test `crates/neretva/tests/browser.rs` runs every spec file of the folder with node,
// NERETVA_URL set to a demo server, and fails when one exits with a failure.

import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export const baseUrl = (process.env.NERETVA_URL || "http://127.0.0.1:8080").replace(/\/$/, "");
const screenshots = process.env.NERETVA_SCREENSHOTS || join(process.cwd(), "browser-screenshots");
const executablePath = process.env.NERETVA_CHROMIUM || "/usr/bin/chromium";

/** The demo users' passwords (`neretva demo`). */
export const PASSWORDS = {
  admin: "demo-admin-password",
  analyst: "demo-analyst-password",
  auditor: "demo-auditor-password",
  constituent: "demo-constituent-password",
  community: "demo-community-password",
  authority: "demo-authority-password",
  police: "demo-police-password",
};

/** Fails the spec with a message when `condition` is false. */
export function check(condition, message) {
  if (!condition) {
    throw new Error(`check failed: ${message}`);
  }
}

/** The test context a spec receives. */
class Test {
  constructor(browser, name) {
    this.browser = browser;
    this.name = name;
    this.cspViolations = [];
    this.pages = [];
  }

  /** A new browser context (its own cookies) and page, in `locale` (sent as Accept-Language). */
  async newPage(locale = "en-GB") {
    const context = await this.browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on("console", (message) => {
      const text = message.text();
      if (message.type() === "error" && /Content[- ]Security[- ]Policy/i.test(text)) {
        this.cspViolations.push(`${page.url()}: ${text}`);
      }
    });
    page.on("pageerror", (error) => this.cspViolations.push(`${page.url()}: script error ${error.message}`));
    this.pages.push(page);
    return page;
  }

  /** Goes to `path` of the server and waits for the page. */
  async goto(page, path) {
    const response = await page.goto(baseUrl + path, { waitUntil: "load" });
    return response;
  }

  /** Signs in through the login form as a demo user; returns on the page after sign-in. */
  async login(page, username, password = PASSWORDS[username]) {
    await this.goto(page, "/login");
    await page.fill("#username", username);
    await page.fill("#password", password);
    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click("form.stack button[type=submit]")]);
    check(!page.url().includes("/login"), `signed in as ${username} (still at ${page.url()})`);
  }

  /** Runs axe-core on the page; fails on any serious or critical violation. */
  async axe(page, label) {
    await page.evaluate(axeSource);
    const result = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const outcome = await axe.run(document, { resultTypes: ["violations"] });
      return outcome.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
      }));
    });
    const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
    for (const v of result) {
      console.log(`axe ${label}: ${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(", ")}`);
    }
    check(bad.length === 0, `${label}: ${bad.length} serious or critical accessibility violations: ${JSON.stringify(bad)}`);
  }

  /** Saves a full-page screenshot as `<screenshots>/<name>.png`. */
  async screenshot(page, name) {
    const path = join(screenshots, `${name}.png`);
    mkdirSync(dirname(path), { recursive: true });
    await page.screenshot({ path, fullPage: true });
  }

  /** The visible text of the first element matching `selector`. */
  async text(page, selector) {
    return (await page.textContent(selector)) ?? "";
  }
}

/** Runs one spec: launches Chromium, runs `body(t)`, reports, exits 1 on a failure. */
export async function run(body) {
  const name = process.argv[1] ? process.argv[1].split("/").pop() : "spec";
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const t = new Test(browser, name);
  let failed = false;
  try {
    await body(t);
    check(t.cspViolations.length === 0, `no Content-Security-Policy violations or script errors: ${t.cspViolations.join("; ")}`);
    console.log(`${name}: ok`);
  } catch (error) {
    failed = true;
    console.error(`${name}: FAILED: ${error && error.stack ? error.stack : error}`);
    for (const page of t.pages) {
      try {
        await t.screenshot(page, `failed-${name.replace(/\.mjs$/, "")}-${t.pages.indexOf(page)}`);
      } catch {
        // The page may be gone; the failure above is what matters.
      }
    }
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}
