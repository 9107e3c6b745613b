// The sharing pages: intel events (one stored through the API for the test), an event with its
// attributes, indicators, sharing groups and TAXII collections. axe-core on each.
import { baseUrl, check, run } from "./harness.mjs";

await run(async (t) => {
  const page = await t.newPage();
  await t.login(page, "analyst");

  // An intel event, stored with the session's CSRF token as any cookie-authenticated API call.
  await t.goto(page, "/sharing/events");
  const csrf = await page.getAttribute("input[name=csrf_token]", "value");
  const suffix = String(Date.now()).slice(-12).padStart(12, "0");
  const uuid = `5e000000-0000-4000-8000-${suffix}`;
  const address = `203.0.113.${1 + Math.floor(Math.random() * 250)}`;
  const stored = await page.request.post(`${baseUrl}/api/v1/intel/events`, {
    headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json" },
    data: {
      Event: {
        uuid,
        info: `Browser test event ${suffix}`,
        date: "2026-11-20",
        distribution: "1",
        Tag: [{ name: "tlp:green" }],
        Attribute: [
          { uuid: `5e000001-0000-4000-8000-${suffix}`, type: "ip-dst", category: "Network activity", value: address, to_ids: true },
        ],
      },
    },
  });
  check(stored.status() === 201, `the intel event is stored (${stored.status()} ${await stored.text()})`);

  await t.goto(page, "/sharing/events");
  check((await t.text(page, "h1")) === "Intel events", "the intel event list");
  check((await page.content()).includes(`Browser test event ${suffix}`), "the new event is listed");
  await t.axe(page, "sharing events");
  await t.screenshot(page, "sharing-events");

  await Promise.all([page.waitForNavigation(), page.click(`a[href="/sharing/events/${uuid}"]`)]);
  check((await page.content()).includes(address), "the event's attribute");
  await t.axe(page, "sharing event");
  await t.screenshot(page, "sharing-event");

  await t.goto(page, "/sharing/indicators");
  await page.fill("#ind-value", address);
  await Promise.all([page.waitForNavigation(), page.click("form.filters button[type=submit]")]);
  check((await page.locator("table tbody tr").count()) === 1, "the indicator is found by its value");
  await t.axe(page, "sharing indicators");
  await t.screenshot(page, "sharing-indicators");

  await t.goto(page, "/sharing/groups");
  await t.axe(page, "sharing groups");
  await t.screenshot(page, "sharing-groups");

  await t.goto(page, "/sharing/taxii");
  const collections = await page.locator("table tbody tr").count();
  check(collections >= 4, `the demo's TAXII collections (${collections})`);
  await t.axe(page, "sharing taxii");
  await t.screenshot(page, "sharing-taxii");

  // A community member reads fewer collections, and never the internal one.
  const community = await t.newPage();
  await t.login(community, "community");
  await t.goto(community, "/sharing/taxii");
  const theirs = await community.locator("table tbody tr").count();
  check(theirs < collections, `a community member reads fewer collections (${theirs} of ${collections})`);
  check(!(await community.content()).includes(">internal<"), "not the internal collection");
});
