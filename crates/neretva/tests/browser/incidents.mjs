// The analyst console: the queue (overdue first) with its filters, one incident with its
// deadlines, tasks, observables, correlations and timeline, and the triage forms (a task done,
// an observable added, a comment, the severity changed), and evidence uploaded through its form
// with its chain of custody. axe-core on the queue, the incident, the evidence and the
// observable's events; screenshots of each.
import { check, run } from "./harness.mjs";

await run(async (t) => {
  const page = await t.newPage();
  await t.login(page, "analyst");

  // An incident of its own, reported through the API as a constituent would.
  const citizen = await t.newPage();
  await t.login(citizen, "constituent");
  const title = `Phishing <b>kit</b> ${Date.now()}`;
  const aware = new Date(Date.now() - 30 * 3600 * 1000).toISOString();
  await t.goto(citizen, "/portal/reports/new?stage=notification");
  await citizen.fill("#f-title", title);
  await citizen.fill("#f-aware_at", aware.slice(0, 16));
  await citizen.fill("#f-initial_assessment", "Customers received e-mails linking to a fake login page.");
  await citizen.selectOption("#f-severity", "high");
  await citizen.fill("#f-impact", "Credentials of some customers may be stolen.");
  await citizen.fill("#f-indicators", "198.51.100.200");
  // Customers' credentials are personal data: the GDPR's 72 hours ran out 80 hours after the
  // controller became aware, so the incident has an overdue obligation.
  await citizen.check("#f-gdpr");
  await citizen.fill("#f-gdpr_aware_at", new Date(Date.now() - 80 * 3600 * 1000).toISOString().slice(0, 16));
  await citizen.fill("#f-gdpr_nature", "Credentials disclosed to a phishing site.");
  await citizen.fill("#f-gdpr_subjects", "customers");
  await citizen.fill("#f-gdpr_approx_subjects", "40");
  await citizen.fill("#f-gdpr_records", "user names\npasswords");
  await citizen.fill("#f-gdpr_consequences", "Fraudulent transfers.");
  await citizen.fill("#f-gdpr_measures", "Passwords reset.");
  await Promise.all([citizen.waitForNavigation(), citizen.click("button[name=step][value=review]")]);
  await Promise.all([citizen.waitForNavigation(), citizen.click("button[name=step][value=send]")]);
  const id = /\/portal\/reports\/([0-9a-f-]{36})/.exec(citizen.url())[1];

  // The queue: the overdue GDPR notification marks it overdue.
  await t.goto(page, "/incidents");
  check((await t.text(page, "h1")) === "Incident queue", "the queue page");
  const row = page.locator(`tr:has(a[href="/incidents/${id}"])`);
  check((await row.count()) === 1, "the incident is in the queue");
  check((await row.textContent()).includes("Overdue"), "its overdue deadline is marked");
  check((await page.content()).includes("Phishing &lt;b&gt;kit&lt;/b&gt;"), "the title is escaped");
  await t.axe(page, "incident queue");
  await t.screenshot(page, "incidents-queue");
  await page.selectOption("#f-severity", "high");
  await Promise.all([page.waitForNavigation(), page.click("form.filters button[type=submit]")]);
  check(page.url().includes("severity=high"), "the severity filter");
  check((await page.locator(`a[href="/incidents/${id}"]`).count()) === 1, "the filtered queue holds it");

  // The incident page.
  await Promise.all([page.waitForNavigation(), page.click(`a[href="/incidents/${id}"]`)]);
  check((await page.locator("#h-deadlines + div table tbody tr").count()) >= 2, "its deadlines");
  await t.axe(page, "incident");
  await t.screenshot(page, "incident");
  // A task done, an observable added, a comment, the severity changed.
  const firstTask = page.locator("#h-tasks + div table tbody tr").first();
  await Promise.all([page.waitForNavigation(), firstTask.locator("button[type=submit]").click()]);
  check((await page.locator("#h-tasks + div table tbody tr").first().textContent()).includes("Done"), "the task is done");
  await page.fill("#obs-value", "login-bank[.]example");
  await Promise.all([page.waitForNavigation(), page.click("form[action$='/observables'] button[type=submit]")]);
  check((await page.content()).includes("login-bank.example"), "the observable is added, refanged");
  await page.fill("#t-note-text", "Asked the registrar to suspend the domain.");
  await page.selectOption("#t-note-kind", "action");
  await Promise.all([page.waitForNavigation(), page.click("form[action$='/notes'] button[type=submit]")]);
  await page.selectOption("#t-severity", "critical");
  await Promise.all([page.waitForNavigation(), page.click("form[action$='/labels'] button[type=submit]")]);
  const text = await page.content();
  check(text.includes("Asked the registrar"), "the action is in the timeline");
  check(text.includes("Critical"), "the severity changed");
  await t.screenshot(page, "incident-triaged");

  // Evidence uploaded through the form: the item's page shows its chain of custody.
  const mail = `From: "Bank" <security@login-bank.example>\r\nSubject: Verify your account ${Date.now()}\r\n\r\nhxxp://login-bank[.]example/\r\n`;
  await page.fill("#ev-description", "The phishing e-mail as received");
  await page.setInputFiles("#ev-file", { name: "phishing.eml", mimeType: "message/rfc822", buffer: Buffer.from(mail) });
  await Promise.all([page.waitForNavigation(), page.click("form[action$='/evidence'] button[type=submit]")]);
  check(/\/incidents\/[0-9a-f-]{36}\/evidence\/[0-9a-f]{64}$/.test(page.url()), `the item's page (at ${page.url()})`);
  check((await t.text(page, "h1")) === "phishing.eml", "the uploaded file's name");
  const custody = await t.text(page, "#h-custody + p + div table tbody");
  check(custody.includes("Added") && custody.includes("analyst"), `the upload is in the chain of custody: ${custody}`);
  await t.axe(page, "evidence");
  await t.screenshot(page, "incident-evidence");
  await t.goto(page, `/incidents/${id}`);
  check((await page.content()).includes("phishing.eml"), "the incident lists the evidence");

  // The observable's matching feed events.
  await Promise.all([page.waitForNavigation(), page.click("a[href*='/observables?kind=ipv4']")]);
  check(page.url().includes("/observables?"), "the observable's events page");
  await t.axe(page, "observable events");
  await t.screenshot(page, "incident-observable");
});
