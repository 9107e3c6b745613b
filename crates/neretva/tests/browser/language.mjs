// The interface follows the browser's language on a first visit; switching to Serbian
// Cyrillic changes the visible texts and survives a reload and a new sign-in; switching back
// restores English.
import { check, run } from "./harness.mjs";

await run(async (t) => {
  const croatian = await t.newPage("hr-HR");
  await t.goto(croatian, "/login");
  check((await croatian.getAttribute("html", "lang")) === "hr", "a Croatian browser gets Croatian");
  check((await t.text(croatian, "h1")) === "Prijava", "the Croatian login heading");

  const page = await t.newPage("en-GB");
  await t.login(page, "auditor");
  check((await t.text(page, "h1")) === "Dashboard", "English at first");

  // The switcher submits on change (a small script); the button does the same without it.
  await Promise.all([page.waitForNavigation(), page.selectOption("#language-select", "sr-Cyrl")]);
  check((await page.getAttribute("html", "lang")) === "sr-Cyrl", "the page is in Serbian Cyrillic");
  check((await t.text(page, "h1")) === "Контролна табла", `the heading in Cyrillic (${await t.text(page, "h1")})`);
  check((await t.text(page, "nav.mainnav")).includes("Догађаји"), "the navigation in Cyrillic");
  await t.axe(page, "dashboard (sr-Cyrl)");
  await t.screenshot(page, "dashboard-sr-Cyrl");
  await page.reload();
  check((await t.text(page, "h1")) === "Контролна табла", "still Cyrillic after a reload");
  await t.goto(page, "/events");
  check((await t.text(page, "h1")) === "Догађаји", "other pages follow");

  // The choice is saved with the user: a new browser signing in gets it.
  const again = await t.newPage("en-GB");
  await t.login(again, "auditor");
  check((await t.text(again, "h1")) === "Контролна табла", "the saved language after a new sign-in");

  // And back, with the button (as without script).
  await again.selectOption("#language-select", "en").catch(() => {});
  await again.waitForLoadState("load");
  if ((await again.getAttribute("html", "lang")) !== "en") {
    await Promise.all([again.waitForNavigation(), again.click(".lang-form button[type=submit]")]);
  }
  check((await again.getAttribute("html", "lang")) === "en", "back in English");
  check((await t.text(again, "h1")) === "Dashboard", "the English heading");
  await again.reload();
  check((await t.text(again, "h1")) === "Dashboard", "English after a reload");
});
