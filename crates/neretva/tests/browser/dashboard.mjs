// The dashboard as an analyst: figures, the chart with its accessible name and table, the
// skip link; axe-core finds no serious problem.
import { check, run } from "./harness.mjs";

await run(async (t) => {
  const page = await t.newPage();
  await t.login(page, "analyst");
  check(new URL(page.url()).pathname === "/", `the dashboard after sign-in (${page.url()})`);
  check((await t.text(page, "h1")) === "Dashboard", "the dashboard heading");
  check((await page.locator("ul.figures li").count()) >= 2, "the figures");
  const chart = page.locator("svg.chart");
  if ((await chart.count()) > 0) {
    check((await chart.getAttribute("role")) === "img", "the chart is an image with a name");
    check((await page.locator("svg.chart title").first().textContent()).includes("Events per day"), "the chart's title");
    await page.click("details.fallback summary");
    check(await page.locator("details.fallback table").isVisible(), "the chart's table opens");
  } else {
    check((await page.textContent("main")).includes("No events in this period"), "an empty chart says so");
  }
  // The skip link is the first thing the keyboard reaches and moves to the main content.
  await page.keyboard.press("Tab");
  check(await page.evaluate(() => document.activeElement?.classList.contains("skip-link")), "the skip link comes first");
  await page.keyboard.press("Enter");
  check(await page.evaluate(() => document.activeElement?.id === "main"), "the skip link moves to the main content");
  await t.axe(page, "dashboard");
  await t.screenshot(page, "dashboard");

  // A constituent's dashboard too.
  const constituent = await t.newPage();
  await t.login(constituent, "constituent");
  check((await t.text(constituent, "h1")) === "Dashboard", "the constituent's dashboard");
  check(!(await constituent.textContent("nav.mainnav")).includes("Feeds"), "no feeds in a constituent's navigation");
  await t.axe(constituent, "dashboard (constituent)");
  await t.screenshot(constituent, "dashboard-constituent");
});
