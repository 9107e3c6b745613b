// Ingest a report through the feeds page's upload form, parse it again from its page, upload a
// gzip report file, find the events through the event search, open one with its raw line,
// export CSV; axe-core on feeds, report, events and event.
import { gzipSync } from "node:zlib";
import { baseUrl, check, run } from "./harness.mjs";

await run(async (t) => {
  const page = await t.newPage();
  await t.login(page, "analyst");

  await t.goto(page, "/feeds");
  check((await t.text(page, "h1")) === "Feeds", "the feeds page");
  // The sources that cannot read their file or directory show as failing, with the reason.
  const source = await t.text(page, "#feed-sources tbody tr:has-text('missing-file')");
  check(source.includes("Failing") && source.includes("no-such-report.csv"),
    `the failing file source on the feeds page (${source})`);
  const watched = "#feed-sources tbody tr:has-text('missing-directory')";
  check((await t.text(page, watched)).includes("× 1"), "the directory source failed once");
  // Asked to look now, the directory source looks (twice, a second apart: one poll) and fails again.
  await Promise.all([page.waitForNavigation(), page.click(`${watched} button[type=submit]`)]);
  check(page.url().endsWith("/feeds"), `back on the feeds page (${page.url()})`);
  let looked = "";
  for (let tries = 0; tries < 50 && !looked.includes("× 2"); tries++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    await t.goto(page, "/feeds");
    looked = await t.text(page, watched);
  }
  check(looked.includes("× 2"), `the directory source looked again when asked (${looked})`);
  await t.axe(page, "feeds");
  // A report with a unique address in the demo's documentation ranges and one bad line.
  const octet = 1 + Math.floor(Math.random() * 250);
  const address = `198.51.100.${octet}`;
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const csv = [
    "time,ip,type",
    `${stamp},${address},scanner`,
    `${stamp},203.0.113.${octet},brute-force`,
    `${stamp},not-an-address,scanner`,
  ].join("\n");
  await page.selectOption("#upload-feed", "partner-csv");
  await page.fill("#upload-file-name", `browser-${Date.now()}.csv`);
  await page.fill("#upload-content", csv);
  await Promise.all([page.waitForNavigation(), page.click("#upload-form button[type=submit]")]);
  check(page.url().includes("/feeds/reports/"), `the report's page after upload (${page.url()})`);
  check((await t.text(page, "#report-events")).trim() === "2", "two events stored");
  check((await page.locator("#report-errors tbody tr").count()) === 1, "one record failed, with its line");
  check((await t.text(page, "#report-errors tbody tr td")).trim() === "4", "the bad record's line number");
  await t.axe(page, "report");
  await t.screenshot(page, "feeds-report");
  // Parsed again from its page: the same report, the same counts (the events replaced).
  const reportUrl = page.url();
  await Promise.all([page.waitForNavigation(), page.click("#reparse")]);
  check(page.url() === reportUrl, `back on the report's page (${page.url()})`);
  check((await t.text(page, "#report-events")).trim() === "2", "two events after parsing again");

  // A gzip report file through the file form: unpacked, stored and parsed.
  await t.goto(page, "/feeds");
  const fileCsv = ["time,ip,type", `${stamp},198.51.100.${(octet % 250) + 1},scanner`, `${stamp},file-${Date.now()},x`].join("\n");
  await page.selectOption("#upload-file-feed", "partner-csv");
  await page.setInputFiles("#upload-file", {
    name: `partner-${Date.now()}.csv.gz`,
    mimeType: "application/gzip",
    buffer: gzipSync(Buffer.from(fileCsv)),
  });
  await Promise.all([page.waitForNavigation(), page.click("#upload-file-form button[type=submit]")]);
  check(page.url().includes("/feeds/reports/"), `the uploaded file's report page (${page.url()})`);
  check((await t.text(page, "#report-events")).trim() === "1", "the gzip file's event stored");
  check((await page.locator("#report-errors tbody tr").count()) === 1, "the file's bad record kept");
  await t.goto(page, "/feeds");
  await t.screenshot(page, "feeds");

  // Find the events through the search form.
  await t.goto(page, "/events");
  await page.fill("#f-ip", address);
  await Promise.all([page.waitForNavigation(), page.click("form.filters button[type=submit]")]);
  const rows = page.locator("#events-table tbody tr");
  check((await rows.count()) === 1, `one event of ${address} (${await rows.count()})`);
  check((await rows.first().textContent()).includes(address), "the event's address in the table");
  await t.axe(page, "events");
  await t.screenshot(page, "events");

  // The export link carries the same filters and the session.
  const csvLink = await page.getAttribute("a[href*='format=csv']", "href");
  const exported = await page.request.get(baseUrl + csvLink);
  check(exported.ok(), `the CSV export answers (${exported.status()})`);
  const body = await exported.text();
  check(body.startsWith("id,organisations,") && body.includes(address), "the CSV export holds the event");

  // The event's page with its raw line.
  await Promise.all([page.waitForNavigation(), rows.first().locator("a").click()]);
  check(page.url().includes("/events/"), `the event's page (${page.url()})`);
  check((await t.text(page, "#raw-line")).includes(address), "the raw line");
  await t.axe(page, "event");
  await t.screenshot(page, "event");
});
