// Administration: users, a new API token whose secret is shown once and never again, the audit
// log and its verification; a constituent cannot reach any of it. axe-core on each page.
import { baseUrl, check, run } from "./harness.mjs";

await run(async (t) => {
  const page = await t.newPage();
  await t.login(page, "admin");

  await t.goto(page, "/admin/users");
  check((await t.text(page, "h1")) === "Users", "the user list");
  check((await page.content()).includes("constituent"), "the demo users are listed");
  await t.axe(page, "admin users");
  await t.screenshot(page, "admin-users");

  await t.goto(page, "/admin/tokens");
  await t.axe(page, "admin tokens");
  const name = `browser ${Date.now()}`;
  await page.fill("#token-name", name);
  await page.selectOption("#token-scope", "read");
  await page.fill("#token-days", "7");
  await Promise.all([page.waitForNavigation(), page.click("section form.stack button[type=submit]")]);
  const secret = await page.inputValue("#token-secret");
  check(secret.startsWith("nrt_") && secret.length > 40, "the new token's secret is shown");
  await t.axe(page, "admin token created");
  await t.screenshot(page, "admin-token-created");

  // The secret works once shown...
  const me = await page.request.get(`${baseUrl}/api/v1/auth/me`, {
    headers: { Authorization: `Bearer ${secret}` },
  });
  check(me.ok(), `the token authenticates (${me.status()})`);
  // ...and no page shows it again.
  for (const path of ["/admin/tokens", "/admin/tokens?all=1", "/admin/audit"]) {
    await t.goto(page, path);
    check(!(await page.content()).includes(secret), `${path} does not show the secret`);
  }
  await t.goto(page, "/admin/tokens");
  check((await page.content()).includes(name), "the token is listed by name");
  await t.screenshot(page, "admin-tokens");

  await t.goto(page, "/admin/audit");
  await Promise.all([page.waitForNavigation(), page.click("a[href^='/admin/audit/verify']")]);
  check((await page.locator("[data-audit-verification=ok]").count()) === 1, "the audit chain verifies");
  await t.axe(page, "admin audit");
  await t.screenshot(page, "admin-audit");

  // A constituent: no administration in the navigation, and every page is not found.
  const constituent = await t.newPage();
  await t.login(constituent, "constituent");
  check((await constituent.locator("nav.mainnav a[href='/admin']").count()) === 0, "no administration link");
  for (const path of ["/admin", "/admin/users", "/admin/tokens", "/admin/audit"]) {
    const response = await t.goto(constituent, path);
    check(response.status() === 404, `${path} is not found for a constituent (${response.status()})`);
  }
});
