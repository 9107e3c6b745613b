// Signing in and out: a wrong password is refused with a message, the right one opens the
// dashboard, a page asked for before signing in is reached after it, signing out ends it.
import { check, run } from "./harness.mjs";

await run(async (t) => {
  const page = await t.newPage();
  await t.goto(page, "/events");
  check(page.url().includes("/login?next="), `redirected to the login (${page.url()})`);
  await t.axe(page, "login");
  await t.screenshot(page, "login");

  await page.fill("#username", "analyst");
  await page.fill("#password", "not-the-password");
  await Promise.all([page.waitForNavigation(), page.click("form.stack button[type=submit]")]);
  check((await t.text(page, "p.error")).includes("Wrong username or password"), "a wrong password is refused");

  await page.fill("#password", "demo-analyst-password");
  await Promise.all([page.waitForNavigation(), page.click("form.stack button[type=submit]")]);
  check(new URL(page.url()).pathname === "/events", `the page asked for is reached (${page.url()})`);
  check((await t.text(page, "h1")) === "Events", "the events page");

  // The user menu works by keyboard and without script: open it, sign out.
  await page.click(".user-menu summary");
  await Promise.all([page.waitForNavigation(), page.click(".user-menu-body button[type=submit]")]);
  check(page.url().endsWith("/login"), `signed out (${page.url()})`);
  await t.goto(page, "/");
  check(page.url().includes("/login"), "the session ended");
});
