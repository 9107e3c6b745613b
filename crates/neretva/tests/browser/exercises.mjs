// Tabletop exercises and training sessions. The analyst creates an exercise of the imported
// energy-ransomware scenario with the constituent as the energy operator, starts it and
// releases an inject early; the constituent sees it on the participant's page and responds; the
// analyst sees the response on the timeline, ends the exercise and opens the after-action
// report. Then the analyst, lead trainer of a session the constituent registered for, records
// attendance, and the constituent fills the feedback form. axe-core on every page; screenshots.
// (browser.rs imports the scenario, the programme and the session before the server starts.)
import { check, run } from "./harness.mjs";

await run(async (t) => {
  const facilitator = await t.newPage();
  await t.login(facilitator, "analyst");
  await t.goto(facilitator, "/exercises");
  check((await t.text(facilitator, "h1")) === "Exercises", "the exercises page");
  await t.axe(facilitator, "exercises");
  await t.screenshot(facilitator, "exercises");

  // Create and start an exercise.
  const name = `Browser drill ${Date.now()}`;
  await facilitator.fill("#ex-name", name);
  await facilitator.fill("#ex-participants", "constituent:energy_operator");
  await Promise.all([facilitator.waitForNavigation(), facilitator.click("form[action='/exercises'] button[type=submit]")]);
  const match = /\/exercises\/([0-9a-f-]{36})\/facilitate$/.exec(facilitator.url());
  check(match, `the facilitators' page after creating (${facilitator.url()})`);
  const id = match[1];
  check((await t.text(facilitator, "h1")) === name, "the exercise's name");
  check((await t.text(facilitator, "#timeline .exercise-state")).includes("planned"), "a new exercise is planned");
  await Promise.all([facilitator.waitForNavigation(), facilitator.click("#control-start")]);
  check((await t.text(facilitator, "#timeline .exercise-state")).includes("running"), "the exercise runs");

  // The first inject (at +00:00) is delivered by the server's own pass within seconds; then the
  // SCADA inject is released early.
  for (let tries = 0; (await facilitator.locator("#timeline tr.inject-delivered").count()) === 0; tries++) {
    check(tries < 30, "the server's pass delivers the first inject");
    await facilitator.waitForTimeout(1000);
    await t.goto(facilitator, `/exercises/${id}/facilitate`);
  }
  await Promise.all([
    facilitator.waitForNavigation(),
    facilitator.click(`form[action='/exercises/${id}/injects/scada-anomaly/release'] button`),
  ]);
  const released = await t.text(facilitator, "#timeline tr.inject-delivered:has-text('Unusual logins')");
  check(released.includes("released early"), `the inject is delivered early (${released})`);
  await t.axe(facilitator, "exercise: facilitators");
  await t.screenshot(facilitator, "exercise-facilitate");

  // The participant sees it, newest first, and responds.
  const player = await t.newPage();
  await t.login(player, "constituent");
  await t.goto(player, "/exercises");
  await Promise.all([player.waitForNavigation(), player.click(`a[href="/exercises/${id}"]`)]);
  const first = player.locator("article.inject").first();
  check((await first.getAttribute("id")) === "inject-scada-anomaly", "the newest inject comes first");
  check(!(await player.content()).includes("look for a named decision-maker"), "no facilitators' notes");
  await t.axe(player, "exercise: participant");
  await t.screenshot(player, "exercise-participant");
  const answer = `Isolate the OT network from the business network ${Date.now()}.`;
  await player.fill("#r-scada-anomaly", answer);
  await Promise.all([player.waitForNavigation(), player.click("#inject-scada-anomaly button[type=submit]")]);
  check((await t.text(player, "#inject-scada-anomaly")).includes(answer), "the response is shown");
  check((await player.locator("#r-scada-anomaly").count()) === 0, "no second response form");

  // The facilitator sees the response on the timeline, ends the exercise and opens the report.
  await t.goto(facilitator, `/exercises/${id}/facilitate`);
  check((await t.text(facilitator, "#timeline")).includes(answer), "the response on the timeline");
  await facilitator.selectOption("#rating-ot-isolation", "met");
  await facilitator.fill("#observations", "The isolation decision came fast.");
  await Promise.all([facilitator.waitForNavigation(), facilitator.click("form[action$='/assessment'] button[type=submit]")]);
  await Promise.all([facilitator.waitForNavigation(), facilitator.click("#control-end")]);
  check((await t.text(facilitator, "#timeline .exercise-state")).includes("ended"), "the exercise ended");
  await Promise.all([facilitator.waitForNavigation(), facilitator.click(`a[href="/exercises/${id}/report"]`)]);
  const report = await facilitator.content();
  check(report.includes(answer), "the report holds the response");
  check(report.includes("The isolation decision came fast."), "the report holds the observations");
  check((await facilitator.locator(`a[href*="/api/v1/learning/exercises/${id}/report?format=md"]`).count()) === 1, "the Markdown link");
  await t.axe(facilitator, "exercise: report");
  await t.screenshot(facilitator, "exercise-report");

  // Training: the programme, the sessions, the trainer records attendance.
  const trainer = facilitator;
  await t.goto(trainer, "/training");
  await t.axe(trainer, "training: programmes");
  await t.screenshot(trainer, "training-programmes");
  await Promise.all([trainer.waitForNavigation(), trainer.click("table a[href^='/training/programmes/']")]);
  check((await trainer.content()).includes("Handling digital evidence"), "the curriculum");
  await t.axe(trainer, "training: programme");
  await t.screenshot(trainer, "training-programme");
  await t.goto(trainer, "/training/sessions");
  await t.axe(trainer, "training: sessions");
  await Promise.all([trainer.waitForNavigation(), trainer.click("a:has-text('Evidence handling, Mostar')")]);
  const row = trainer.locator("tr:has-text('constituent')");
  check((await row.count()) === 1, "the registered participant is listed");
  await row.locator("select").selectOption("present");
  await Promise.all([trainer.waitForNavigation(), trainer.click("form.attendance-form button[type=submit]")]);
  check((await trainer.locator("tr:has-text('constituent')").textContent()).includes("present"), "attendance recorded");
  check((await t.text(trainer, ".session-status")).includes("held"), "the session is held");
  await t.axe(trainer, "training: session");
  await t.screenshot(trainer, "training-session");

  // The attendee gives feedback once; the trainer sees it aggregated.
  const sessionUrl = new URL(trainer.url()).pathname;
  await t.goto(player, sessionUrl);
  for (const field of ["content", "trainer", "relevance", "organisation"]) {
    await player.check(`#fb-${field}-4`);
  }
  await player.fill("#fb-most_useful", "The evidence bag exercise.");
  await Promise.all([player.waitForNavigation(), player.click("form[action$='/feedback'] button[type=submit]")]);
  check((await player.content()).includes("your feedback was recorded"), "the feedback is thanked for");
  await t.goto(trainer, sessionUrl);
  check((await t.text(trainer, "#h-summary + p")).includes("1 form received"), "the aggregate");

  for (const [path, label] of [["/training/trainers?programme=ttt-first-responders", "trainers"], ["/training/profile", "profile"], ["/training/statistics?by=profession", "statistics"]]) {
    await t.goto(trainer, path);
    await t.axe(trainer, `training: ${label}`);
    await t.screenshot(trainer, `training-${label}`);
  }
});
