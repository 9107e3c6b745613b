// The constituency pages: the organisation list with its filters, an organisation with its
// contacts and assets, the lookup; a constituent sees contacts and assets of its own
// organisation only. axe-core on the list, an organisation and the lookup.
import { check, run } from "./harness.mjs";

await run(async (t) => {
  const page = await t.newPage();
  await t.login(page, "analyst");

  await t.goto(page, "/constituency/organisations");
  check((await t.text(page, "h1")) === "Organisations", "the organisation list");
  const all = await page.locator("table tbody tr").count();
  check(all > 5, `the demo's organisations are listed (${all})`);
  await t.axe(page, "constituency organisations");
  await t.screenshot(page, "constituency-organisations");

  // The search narrows the list and keeps what was typed.
  await page.fill("#org-q", "Elektro");
  await Promise.all([page.waitForNavigation(), page.click("form.filters button[type=submit]")]);
  const found = await page.locator("table tbody tr").count();
  check(found > 0 && found < all, `the search narrows the list (${found} of ${all})`);
  check((await page.inputValue("#org-q")) === "Elektro", "the search text is kept");

  // An organisation with its register, contacts and assets.
  await Promise.all([page.waitForNavigation(), page.locator("table tbody tr th a").first().click()]);
  check(page.url().includes("/constituency/organisations/"), `an organisation's page (${page.url()})`);
  check((await page.locator("#contacts-heading").count()) === 1, "the CERT's analyst sees the contacts");
  check((await page.locator("#assets-heading").count()) === 1, "and the assets");
  await t.axe(page, "constituency organisation");
  await t.screenshot(page, "constituency-organisation");

  // Who owns an address of the demo's documentation ranges.
  await t.goto(page, "/constituency/lookup");
  await page.fill("#lookup-q", "192.0.2.33");
  await Promise.all([page.waitForNavigation(), page.click("form.filters button[type=submit]")]);
  check((await page.content()).includes("EP-NERETVA"), "the lookup names the owner of 192.0.2.33");
  await t.axe(page, "constituency lookup");
  await t.screenshot(page, "constituency-lookup");

  // A constituent: every organisation page it reaches that shows contacts is its own.
  const constituent = await t.newPage();
  await t.login(constituent, "constituent");
  const own = (await t.text(constituent, ".user-menu-body dd:last-of-type")).trim();
  await t.goto(constituent, "/constituency/organisations");
  const links = await constituent.locator("table tbody tr th a").evaluateAll((anchors) =>
    anchors.map((a) => [a.getAttribute("href"), a.textContent.trim()]),
  );
  check(links.length > 0 && links.length < all, `a constituent sees fewer organisations (${links.length} of ${all})`);
  let withContacts = 0;
  for (const [href, name] of links.slice(0, 10)) {
    await t.goto(constituent, href);
    if ((await constituent.locator("#contacts-heading").count()) > 0) {
      withContacts += 1;
      check(name === own, `contacts shown only for the constituent's own organisation (${name}, own ${own})`);
    }
  }
  check(withContacts <= 1, `at most one organisation with contacts (${withContacts})`);
  await t.axe(constituent, "constituency as a constituent");
  await t.screenshot(constituent, "constituency-constituent");
});
