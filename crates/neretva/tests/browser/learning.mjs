// A two-language course (English and Bosnian) is imported from its folder in the repository
// through the API by the CERT's analyst; a learner enrols in the browser, reads a lesson in
// English, switches the course to Bosnian and reads the next, fails the quiz, passes it on the
// next attempt and receives a certificate; a fresh browser without login opens the public
// verification page and sees it valid. axe-core on the catalogue, course, lesson, quiz, result,
// certificate and verification pages; screenshots of each.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { baseUrl, check, run } from "./harness.mjs";

const COURSE_DIR = new URL("../../../neretva-learning/test_data/courses/incident-basics/", import.meta.url).pathname;

/** The course folder's files as the API's JSON package (images as base64). */
function packageOf(dir) {
  const files = [];
  const walk = (folder) => {
    for (const name of readdirSync(folder).sort()) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) {
        walk(path);
        continue;
      }
      const rel = relative(dir, path).split("\\").join("/");
      if (rel.startsWith("images/")) {
        files.push({ path: rel, base64: readFileSync(path).toString("base64") });
      } else {
        files.push({ path: rel, text: readFileSync(path, "utf8") });
      }
    }
  };
  walk(dir);
  return { files };
}

/** Answers of the example course's questions: the right ones, and wrong ones of each kind. */
const RIGHT = {
  "early-warning": ["h24"],
  "phishing-is-incident": ["true"],
  "tlp-levels": ["clear", "amber"],
  csirt: " Computer ",
};
const WRONG = {
  "early-warning": ["h72"],
  "phishing-is-incident": ["false"],
  "tlp-levels": ["white"],
  csirt: "cyber",
};

/** Fills the quiz form of the page with `answers` and submits it. */
async function answer(page, answers) {
  const names = await page.$$eval("form.quiz-form [name^='q.']", (inputs) => [...new Set(inputs.map((i) => i.name))]);
  check(names.length === 3, `three questions in the form (${names.join(", ")})`);
  for (const name of names) {
    const id = name.slice(2);
    const given = answers[id];
    check(given !== undefined, `a known question: ${id}`);
    if (typeof given === "string") {
      await page.fill(`#q-${id}`, given);
    } else {
      for (const value of given) {
        await page.check(`#q-${id}-${value}`);
      }
    }
  }
  await Promise.all([page.waitForNavigation(), page.click("form.quiz-form button[type=submit]")]);
}

await run(async (t) => {
  // The analyst imports the course folder through the API with the session and its CSRF token.
  const analyst = await t.newPage();
  await t.login(analyst, "analyst");
  const csrf = await analyst.inputValue("input[name=csrf_token] >> nth=0");
  const imported = await analyst.request.post(`${baseUrl}/api/v1/learning/courses`, {
    headers: { "X-CSRF-Token": csrf },
    data: packageOf(COURSE_DIR),
  });
  let courseId;
  if (imported.status() === 201) {
    courseId = (await imported.json()).id;
  } else {
    // Imported already (a second run against the same server): the newest version of the code.
    check(imported.status() === 409, `the import answers 201 or 409, not ${imported.status()}: ${await imported.text()}`);
    const list = await (await analyst.request.get(`${baseUrl}/api/v1/learning/courses`)).json();
    courseId = list.filter((c) => c.code === "incident-basics").sort((a, b) => b.version - a.version)[0].id;
  }

  // The learner finds it in the catalogue and enrols.
  const learner = await t.newPage();
  await t.login(learner, "constituent");
  await Promise.all([learner.waitForNavigation(), learner.click("nav.mainnav a[href='/learning']")]);
  check((await learner.content()).includes("Incident handling basics"), "the course is in the catalogue");
  await t.axe(learner, "learning catalogue");
  await t.screenshot(learner, "learning-catalogue");
  const enrol = `form[action='/learning/enrol']:has(input[value='${courseId}']) button`;
  if (await learner.$(enrol)) {
    await Promise.all([learner.waitForNavigation(), learner.click(enrol)]);
  } else {
    await t.goto(learner, `/learning/courses/${courseId}`);
  }
  check(learner.url().includes(`/learning/courses/${courseId}`), `the course page after enrolling (${learner.url()})`);
  check((await t.text(learner, "h1")).includes("Incident handling basics"), "the course in English, the learner's language");
  await t.axe(learner, "learning course");
  await t.screenshot(learner, "learning-course");

  // The first lesson in English, with its image served to the session.
  await Promise.all([learner.waitForNavigation(), learner.click("a:text('What is an incident?')")]);
  check((await t.text(learner, "article h1")).includes("What is an incident?"), "the English lesson");
  const loaded = await learner.$eval("article img", (img) => img.complete && img.naturalWidth > 0);
  check(loaded, "the lesson's image is shown");
  await t.axe(learner, "learning lesson");
  await t.screenshot(learner, "learning-lesson-en");
  await Promise.all([learner.waitForNavigation(), learner.click("form[action$='/complete'] button")]);

  // Switched to Bosnian, the next lesson.
  check(learner.url().includes("/lessons/reporting/deadlines"), `on to the next lesson (${learner.url()})`);
  await Promise.all([learner.waitForNavigation(), learner.click("nav.subnav a[hreflang='bs']")]);
  check((await t.text(learner, "article h1")).includes("NIS2 rokovi"), "the lesson in Bosnian");
  check((await learner.getAttribute("article", "lang")) === "bs", "the lesson is marked as Bosnian");
  await t.screenshot(learner, "learning-lesson-bs");
  await Promise.all([learner.waitForNavigation(), learner.click("form[action$='/complete'] button")]);
  check((await learner.content()).includes("Osnove postupanja s incidentima"), "back on the course, in Bosnian");

  // The quiz: everything wrong first.
  await Promise.all([learner.waitForNavigation(), learner.click("form[action$='/attempts'] button")]);
  check(learner.url().includes("/learning/attempts/"), `the attempt page (${learner.url()})`);
  await t.axe(learner, "learning quiz");
  await t.screenshot(learner, "learning-quiz");
  await answer(learner, WRONG);
  const failed = await learner.content();
  check(failed.includes("Not passed"), "the failed result");
  check(failed.includes("2 attempts are left."), "two attempts left");
  check(failed.includes("Šta znači slovo C u skraćenici CSIRT?"), "the questions and feedback in Bosnian");
  await t.axe(learner, "learning quiz result");
  await t.screenshot(learner, "learning-quiz-failed");

  // The next attempt, everything right: passed, with a certificate.
  await Promise.all([learner.waitForNavigation(), learner.click("form[action$='/attempts'] button")]);
  await answer(learner, RIGHT);
  check((await t.text(learner, "#result")).includes("Passed"), "the passed result");
  const code = (await t.text(learner, "a.certificate-code")).trim();
  check(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/.test(code), `a certificate code (${code})`);
  await t.screenshot(learner, "learning-quiz-passed");
  await t.goto(learner, "/learning/certificates");
  check((await learner.content()).includes(code), "the certificate is listed");
  await t.axe(learner, "learning certificates");
  await t.screenshot(learner, "learning-certificates");

  // A fresh browser without login verifies it.
  const stranger = await t.newPage();
  const response = await t.goto(stranger, `/verify/${code}`);
  check(response.status() === 200, `the public verification page answers (${response.status()})`);
  const verified = await stranger.content();
  check(verified.includes("Valid certificate"), "the certificate is valid");
  check(verified.includes("Incident handling basics"), "the course is named");
  check(!stranger.url().includes("/login"), "no login was asked for");
  await t.axe(stranger, "certificate verification");
  await t.screenshot(stranger, "learning-verify");
  await t.goto(stranger, "/verify");
  await stranger.fill("#code", code.toLowerCase().replaceAll("-", ""));
  await Promise.all([stranger.waitForNavigation(), stranger.click("form[action='/verify'] button")]);
  check((await stranger.content()).includes("Valid certificate"), "a typed code verifies too");
});
