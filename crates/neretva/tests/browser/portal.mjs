// A constituent reports an incident through the portal's NIS2 stages (early warning, then the
// notification of the same incident), an analyst finds it in the queue, moves it to triage and
// assigns it, and the constituent sees the new status and the CERT's feedback. axe-core on every
// portal page; screenshots of each.
import { check, run } from "./harness.mjs";

/** `YYYY-MM-DDTHH:MM` in UTC, as the form's `datetime-local` fields take it. */
function localTime(date) {
  return date.toISOString().slice(0, 16);
}

await run(async (t) => {
  const citizen = await t.newPage();
  await t.login(citizen, "constituent");
  await t.goto(citizen, "/portal");
  await t.axe(citizen, "portal");
  await t.screenshot(citizen, "portal");

  // Step 1: the stage, with what each asks.
  await t.goto(citizen, "/portal/reports/new");
  await t.axe(citizen, "portal report: stage");
  await t.screenshot(citizen, "portal-report-stage");
  await citizen.check("#stage-early_warning");
  await Promise.all([citizen.waitForNavigation(), citizen.click("form.stack button[type=submit]")]);

  // Step 2: the early warning's details; a missing title is refused at its field first.
  const title = `Defaced web site ${Date.now()}`;
  const aware = localTime(new Date(Date.now() - 2 * 3600 * 1000));
  await citizen.fill("#f-aware_at", aware);
  await citizen.selectOption("#f-suspected_malicious", "yes");
  await citizen.selectOption("#f-cross_border", "no");
  await citizen.fill("#f-summary", "The public site shows a political message.");
  await t.axe(citizen, "portal report: details");
  await t.screenshot(citizen, "portal-report-details");
  await citizen.fill("#f-title", title);
  await Promise.all([citizen.waitForNavigation(), citizen.click("button[name=step][value=review]")]);

  // Step 3: the review; nothing is sent before the button.
  check((await citizen.content()).includes(title), "the review shows the title");
  await t.axe(citizen, "portal report: review");
  await t.screenshot(citizen, "portal-report-review");
  await Promise.all([citizen.waitForNavigation(), citizen.click("button[name=step][value=send]")]);
  const match = /\/portal\/reports\/([0-9a-f-]{36})/.exec(citizen.url());
  check(match, `the report's incident page after sending (${citizen.url()})`);
  const id = match[1];
  check((await t.text(citizen, ".incident-status")).includes("New"), "the new incident's status");
  await t.axe(citizen, "portal: one incident");
  await t.screenshot(citizen, "portal-incident");

  // The analyst finds it in the queue and triages it.
  const analyst = await t.newPage();
  await t.login(analyst, "analyst");
  await t.goto(analyst, "/incidents");
  check((await analyst.content()).includes(title), "the reported incident is in the queue");
  await Promise.all([analyst.waitForNavigation(), analyst.click(`a[href="/incidents/${id}"]`)]);
  await analyst.selectOption("#t-to", "triage");
  await Promise.all([analyst.waitForNavigation(), analyst.click("form[action$='/transition'] button[type=submit]")]);
  await analyst.selectOption("#t-assignee", { label: "analyst" });
  await Promise.all([analyst.waitForNavigation(), analyst.click("form[action$='/assign'] button[type=submit]")]);
  await analyst.selectOption("#t-note-kind", "feedback");
  await analyst.fill("#t-note-text", "Restore the site from a clean backup and rotate the CMS passwords.");
  await Promise.all([analyst.waitForNavigation(), analyst.click("form[action$='/notes'] button[type=submit]")]);
  const page = await analyst.content();
  check(page.includes("Triage"), "the incident is in triage");
  check(page.includes("Restore the site from a clean backup"), "the feedback is in the timeline");

  // The constituent sees the new status and the CERT's feedback, and sends the notification.
  await t.goto(citizen, `/portal/reports/${id}`);
  check((await t.text(citizen, ".incident-status")).includes("Triage"), "the constituent sees the new status");
  check((await citizen.content()).includes("Restore the site from a clean backup"), "the CERT's feedback");
  await Promise.all([citizen.waitForNavigation(), citizen.click(`a[href="/portal/reports/new?incident=${id}"]`)]);
  await citizen.check("#stage-notification");
  check((await citizen.inputValue("#f-incident")) === id, "the follow-up names the incident");
  await Promise.all([citizen.waitForNavigation(), citizen.click("form.stack button[type=submit]")]);
  check((await citizen.inputValue("#f-title")) === title, "the follow-up starts from the incident");
  await citizen.fill("#f-initial_assessment", "A vulnerable plug-in of the CMS was used.");
  await citizen.selectOption("#f-severity", "medium");
  await citizen.fill("#f-impact", "The site was defaced for two hours.");
  await citizen.fill("#f-indicators", "203.0.113.77\nhxxp://deface[.]example/kit");
  await Promise.all([citizen.waitForNavigation(), citizen.click("button[name=step][value=review]")]);
  await Promise.all([citizen.waitForNavigation(), citizen.click("button[name=step][value=send]")]);
  check(citizen.url().includes(`/portal/reports/${id}`), "back on the incident");
  check((await citizen.locator("#h-stages + table tbody tr").count()) === 2, "two reports sent");

  // The events of the organisation's networks.
  await t.goto(citizen, "/portal/events");
  await t.axe(citizen, "portal: events");
  await t.screenshot(citizen, "portal-events");
});
