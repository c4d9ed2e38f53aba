/**
 * The inspector's session page in headless Chromium, against a real server:
 * an agent drives the session over WebSocket (`client.ts`) and the page
 * shows it live; a person decides an approval, claims a task, resolves a
 * conflict and pauses from the page, and the server's records change; the
 * page catches up after a server restart without a reload.
 *
 * Run with `deno task test:ui` (needs Debian's `chromium`).
 */
import assert from "node:assert/strict";
import { connect } from "../../client.ts";
import {
  expectCount,
  expectText,
  launch,
  newPage,
  pageErrors,
  screenshot,
  serve,
  waitFor,
} from "./_fixtures.ts";

Deno.test({
  name: "inspector: a session, live in the browser",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const browser = await launch();
    try {
      await t.step(
        "the page shows an agent's state, progress and events within a second",
        async () => {
          const srv = await serve();
          const page = await newPage(browser);
          try {
            const s = await srv.rt.create("default", {
              name: "Market research",
              tags: ["acme"],
              state: { notes: [], query: "ACME" },
            });
            await page.goto(`${srv.base}/ui#/s/${s.id}`);
            await page.waitForSelector(".live[data-state=live]", { timeout: 3000 });
            await expectText(page.locator("#panel-state"), '"ACME"');

            const agent = await connect(srv.wsUrl(s.id), { agent: "writer" });
            try {
              await agent.agent({ status: "working", progress: 0.5, task: "drafting" });
              const row = page.locator('[data-agent="writer"]');
              await expectText(row, ["working", "50%", "drafting"]);
              await expectText(page.locator(".session-progress"), "50%");

              const ack = await agent.patch([{
                op: "add",
                path: "/notes/-",
                value: "founded 1999",
              }]);
              await expectText(page.locator("#panel-state"), '"founded 1999"');
              await page.waitForSelector('.jt-changed[data-path="/notes/0"]', { timeout: 1000 });
              await expectText(page.locator(".last-change"), "add /notes/0");
              await expectText(
                page.locator(`.tl-row[data-seq="${ack.version}"]`),
                ["patch", "writer", "add /notes/-"],
              );
              await expectText(page.locator(".session-meta .version"), String(ack.version));

              await agent.message({ role: "assistant", content: "Drafted the introduction" });
              await expectText(page.locator(".messages"), "Drafted the introduction");
              await agent.result({ key: "summary", data: { words: 120 } });
              await expectText(page.locator("#panel-results"), ["summary", '"words": 120']);

              // The timeline filters by type and agent.
              await page.selectOption(".timeline select[name=type]", "message");
              await expectCount(page.locator(".tl-row"), 1);
              await page.selectOption(".timeline select[name=type]", "");
              await page.selectOption(".timeline select[name=agent]", "writer");
              await expectCount(page.locator(".tl-row"), 4);
            } finally {
              await agent.close();
            }
            assert.deepEqual(pageErrors(page), []);
          } finally {
            await page.context().close();
            await srv.close();
          }
        },
      );

      await t.step(
        "deciding, claiming and resolving from the page change the server's records",
        async () => {
          const srv = await serve();
          const page = await newPage(browser);
          try {
            const s = await srv.rt.create("default", { state: {} });
            await page.goto(`${srv.base}/ui#/s/${s.id}`);
            await page.waitForSelector(".live[data-state=live]", { timeout: 3000 });

            const a = await srv.rt.requestApproval(s.id, {
              prompt: "Publish the report?",
              deadline: "30m",
            });
            const card = page.locator(`.approval[data-id="${a.id}"]`);
            await expectText(card, ["Publish the report?", "in 29m"]);
            await card.locator('button[data-option="approve"]').click();
            const decided = await waitFor("the decision on the server", async () => {
              const [x] = await srv.rt.approvals(s.id);
              return x.status === "decided" ? x : undefined;
            });
            assert.equal(decided.option, "approve");
            assert.equal(decided.by, "inspector");
            await expectCount(page.locator(".approval[data-status=pending]"), 0);
            await expectText(page.locator(".approval-past"), "approve");

            await srv.rt.addTasks(s.id, {
              tasks: [
                { id: "search", title: "Search the web" },
                { id: "write", title: "Write it up", deps: ["search"] },
              ],
            });
            await expectText(page.locator(".column-ready"), "Search the web");
            await expectText(page.locator(".column-blocked"), ["Write it up", "after search"]);
            await page.locator('.task[data-id="search"] button[data-action=claim]').click();
            const claimed = await waitFor("the claim on the server", async () => {
              const t = (await srv.rt.tasks(s.id)).find((x) => x.id === "search");
              return t?.status === "claimed" ? t : undefined;
            });
            assert.equal(claimed.holder, "inspector");
            await expectText(page.locator(".column-claimed"), [
              "Search the web",
              "inspector",
              "lease in",
            ]);
            await page.locator('.task[data-id="search"] button[data-action=complete-task]').click();
            await expectText(page.locator(".column-done"), "Search the web");
            await expectText(page.locator(".column-ready"), "Write it up");
            await expectText(page.locator(".session-progress"), "50%");

            const c = await srv.rt.recordConflict(s.id, {
              entity: "ACME founding year",
              type: "contradiction",
              severity: "high",
              findings: [
                { agent: "scout", claim: "1999" },
                { agent: "checker", claim: "2001" },
              ],
            });
            const conflict = page.locator(`.conflict[data-id="${c.id}"]`);
            await expectText(conflict, ["ACME founding year", "high", "scout", "2001"]);
            await conflict.locator("input[name=resolution]").fill("1999, per the registry");
            await conflict.locator("button[data-action=resolve]").click();
            await waitFor("the resolution on the server", async () => {
              const [x] = await srv.rt.conflicts(s.id);
              return x.status === "resolved" && x.resolution === "1999, per the registry";
            });
            await expectText(conflict, "Resolved by inspector");

            const timer = await srv.rt.schedule(s.id, { in: "10m", data: { nudge: true } });
            await expectText(page.locator(`#panel-timers tr[data-id="${timer.id}"]`), [
              "in 9m",
              "reminder",
            ]);
            assert.deepEqual(pageErrors(page), []);
          } finally {
            await page.context().close();
            await srv.close();
          }
        },
      );

      await t.step(
        "the lifecycle buttons: pause, resume, restore, fork, fail, complete, archive, export, delete",
        async () => {
          const srv = await serve();
          const page = await newPage(browser);
          try {
            const s = await srv.rt.create("default", { state: { n: 1 } });
            await page.goto(`${srv.base}/ui#/s/${s.id}`);
            await page.waitForSelector(".live[data-state=live]", { timeout: 3000 });
            await page.click("button[data-action=pause]");
            await waitFor(
              "a paused session",
              async () => (await srv.rt.get(s.id)).status === "paused",
            );
            await expectText(page.locator(".session-meta .pill"), "paused");
            await page.waitForSelector('.tl-row[data-type="paused"]', { timeout: 1000 });
            await expectText(page.locator("#panel-checkpoints"), "pause");

            await page.click("button[data-action=resume]");
            await waitFor(
              "an active session",
              async () => (await srv.rt.get(s.id)).status === "active",
            );
            await expectText(page.locator(".session-meta .pill"), "active");

            // Restore the pause checkpoint after a change; it asks first.
            await srv.rt.patch(s.id, [{ op: "replace", path: "/n", value: 2 }]);
            await expectText(page.locator("#panel-state"), "n: 2");
            await page.click("#panel-checkpoints button[data-action=restore]");
            await page.click("dialog button[data-role=confirm]");
            await waitFor("the restored state", async () => (await srv.rt.get(s.id)).state.n === 1);
            await expectText(page.locator("#panel-state"), "n: 1");
            await expectText(page.locator(".last-change"), "restored");

            // Fork opens the new session.
            await page.click("#panel-checkpoints button[data-action=fork]");
            await page.click("dialog button[data-role=confirm]");
            await page.waitForSelector(
              `.session-view:not([data-session="${s.id}"]) .live[data-state=live]`,
              {
                timeout: 3000,
              },
            );
            const forkId = await page.locator(".session-view").getAttribute("data-session");
            assert.equal((await srv.rt.get(forkId!)).origin?.session, s.id);

            // Fail asks for the error.
            await page.click("button[data-action=fail]");
            await page.fill("dialog input[name=value]", "wrong sources");
            await page.click("dialog button[data-role=confirm]");
            await waitFor(
              "a failed fork",
              async () => (await srv.rt.get(forkId!)).status === "failed",
            );
            await expectText(page.locator(".banner.outcome"), "Failed: wrong sources");

            // Back to the first: complete with a report, archive, export, delete.
            await page.goto(`${srv.base}/ui#/s/${s.id}`);
            await page.waitForSelector(".live[data-state=live]", { timeout: 3000 });
            await page.click("button[data-action=complete]");
            await page.fill("dialog textarea[name=value]", '{"verdict": "done"}');
            await page.click("dialog button[data-role=confirm]");
            await waitFor(
              "a completed session",
              async () => (await srv.rt.get(s.id)).status === "completed",
            );
            await expectText(page.locator(".banner.outcome"), 'Report: {"verdict":"done"}');
            await page.click("button[data-action=archive]");
            await page.click("dialog button[data-role=confirm]");
            await waitFor(
              "an archived session",
              async () => (await srv.rt.get(s.id)).status === "archived",
            );
            await expectText(page.locator(".session-meta .pill"), "archived");
            const [download] = await Promise.all([
              page.waitForEvent("download"),
              page.click("button[data-action=export]"),
            ]);
            assert.equal(download.suggestedFilename(), `${s.id}.tar.gz`);
            const bytes = await Deno.readFile((await download.path())!);
            assert.deepEqual([...bytes.subarray(0, 2)], [0x1f, 0x8b]); // gzip

            // Delete asks for the id before it destroys anything.
            await page.click("button[data-action=delete]");
            await page.waitForSelector("dialog.modal[open]");
            assert.equal(await page.isDisabled("dialog button[data-role=confirm]"), true);
            await page.click("dialog button[data-role=cancel]");
            assert.equal((await srv.rt.get(s.id)).status, "archived");
            await page.click("button[data-action=delete]");
            await page.fill("dialog input[name=confirm]", s.id);
            await page.click("dialog button[data-role=confirm]");
            await page.waitForSelector(".list-view", { timeout: 2000 });
            await assert.rejects(() => srv.rt.get(s.id), /not found/);
            assert.deepEqual(pageErrors(page), []);
          } finally {
            await page.context().close();
            await srv.close();
          }
        },
      );

      await t.step("the page catches up after a server restart, without a reload", async () => {
        const srv = await serve({ dataDir: true });
        const page = await newPage(browser);
        try {
          const s = await srv.rt.create("default", { state: { notes: [] } });
          await page.goto(`${srv.base}/ui#/s/${s.id}`);
          await page.waitForSelector(".live[data-state=live]", { timeout: 3000 });
          await srv.rt.patch(s.id, [{ op: "add", path: "/notes/-", value: "before" }]);
          await expectText(page.locator("#panel-state"), '"before"');
          await page.evaluate(() => {
            (globalThis as unknown as { marker: number }).marker = 42;
          });
          await srv.stop();
          await page.waitForSelector(".live[data-state=reconnecting]", { timeout: 2000 });
          await srv.start();
          // Changes while the page is still away: it must replay them with `since`.
          await srv.rt.patch(s.id, [{ op: "add", path: "/notes/-", value: "after restart" }]);
          await srv.rt.setAgent(s.id, "scout", { status: "back", progress: 0.75 });

          await page.waitForSelector(".live[data-state=live]", { timeout: 5000 });
          await expectText(page.locator("#panel-state"), ['"before"', '"after restart"']);
          await expectText(page.locator('[data-agent="scout"]'), ["back", "75%"]);
          const version = (await srv.rt.get(s.id)).version;
          await expectText(page.locator(".session-meta .version"), String(version));
          const seqs = await page.$$eval(
            ".tl-row",
            (rows) => rows.map((r) => Number(r.getAttribute("data-seq"))),
          );
          assert.deepEqual(seqs, Array.from({ length: version }, (_, i) => version - i));

          // And it keeps following live events on the new server.
          const agent = await connect(srv.wsUrl(s.id), { agent: "writer" });
          await agent.patch([{ op: "add", path: "/notes/-", value: "live again" }]);
          await expectText(page.locator("#panel-state"), '"live again"');
          await agent.close();
          assert.equal(
            await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker),
            42,
          );
          assert.deepEqual(pageErrors(page), []);
        } finally {
          await page.context().close();
          await srv.close();
        }
      });

      await t.step("a session with 10,000 events opens at once and pages its history", async () => {
        const srv = await serve();
        const page = await newPage(browser, { height: 1000 });
        try {
          const s = await srv.rt.create("default", {
            name: "Busy research run",
            tags: ["acme", "q3"],
            state: { findings: [], counter: 0 },
          });
          await busySession(srv.rt, s.id);
          const version = (await srv.rt.get(s.id)).version;
          assert.ok(version >= 10_000, `only ${version} events`);

          const t0 = performance.now();
          await page.goto(`${srv.base}/ui#/s/${s.id}`);
          await page.waitForSelector(".live[data-state=live]", { timeout: 3000 });
          await expectText(page.locator(".tl-status"), "200 loaded", 2000);
          const opened = performance.now() - t0;
          assert.ok(opened < 3000, `opened in ${opened} ms`);
          // Virtualised: only the rows in view are in the DOM.
          assert.ok(await page.locator(".tl-row").count() < 60);

          // Scrolling to the end pages older events in.
          await page.locator(".tl-viewport").evaluate((el) => el.scrollTop = el.scrollHeight);
          await expectText(page.locator(".tl-status"), "700 loaded", 2000);
          await page.locator(".tl-viewport").evaluate((el) => el.scrollTop = 0);
          await expectText(page.locator(".tl-row").first(), `#${version}`);

          // Messages are condensed to the last 50 with a marker, and "show all" pages the rest.
          await expectText(page.locator(".messages-marker"), "earlier messages not shown");
          await expectCount(page.locator(".message"), 50);
          await page.click("button[data-action=show-all-messages]");
          await expectCount(page.locator(".message"), (n) => n > 50, 2000);

          // A large result is a download link, not a wall of text.
          await expectText(page.locator('.result[data-key="raw-crawl"]'), "Download");
          const [download] = await Promise.all([
            page.waitForEvent("download"),
            page.click('.result[data-key="raw-crawl"] button[data-action=download-result]'),
          ]);
          assert.equal(download.suggestedFilename(), "crawler-raw-crawl.json");

          // Still live under load: a burst of 500 patches shows at once.
          const agent = await connect(srv.wsUrl(s.id), { agent: "writer" });
          try {
            await Promise.all(
              Array.from(
                { length: 500 },
                (_, i) => agent.patch([{ op: "replace", path: "/counter", value: i + 1 }]),
              ),
            );
            await expectText(page.locator("#panel-state"), "counter: 500", 1000);
            await expectText(page.locator(".session-meta .version"), String(version + 500));

            // A few ordinary moves, for the picture.
            await agent.agent({ status: "drafting", progress: 0.4, task: "write" });
            await srv.rt.heartbeat(s.id, "search", { agent: "scout", lease: "10m" });
            await agent.message({
              role: "assistant",
              content: "Two sources disagree on the founding year; waiting for a decision.",
            });
            await agent.patch([{
              op: "add",
              path: "/findings/-",
              value: "ACME files with the SEC",
            }]);
            await expectText(page.locator('[data-agent="writer"]'), ["drafting", "40%"]);
            await page.locator(".tl-viewport").evaluate((el) => el.scrollTop = 0);
            await page.waitForTimeout(300); // let the highlight settle for the picture
            await screenshot(page, "session", true);
            await page.emulateMedia({ colorScheme: "dark" });
            await screenshot(page, "session-dark");
          } finally {
            await agent.close();
          }
          assert.deepEqual(pageErrors(page), []);
        } finally {
          await page.context().close();
          await srv.close();
        }
      });
    } finally {
      await browser.close();
    }
  },
});

/**
 * Fills a session the way a long research run does: a plan, agents, an
 * approval, a conflict, a timer, messages, results (one large), checkpoints,
 * and 10,000 events in all.
 */
async function busySession(rt: import("../../mod.ts").Runtime, id: string): Promise<void> {
  await rt.addTasks(id, {
    tasks: [
      { id: "plan", title: "Plan the search" },
      { id: "search", title: "Search filings", deps: ["plan"] },
      { id: "crawl", title: "Crawl the company site", deps: ["plan"] },
      { id: "compare", title: "Compare sources", deps: ["search", "crawl"] },
      { id: "write", title: "Write the report", deps: ["compare"] },
    ],
  });
  await rt.claim(id, { agent: "planner", task: "plan" });
  await rt.completeTask(id, "plan", { agent: "planner", result: { steps: 4 } });
  await rt.claim(id, { agent: "scout", task: "search", lease: "10m" });
  await rt.claim(id, { agent: "crawler", task: "crawl", lease: "10m" });
  await rt.requestApproval(id, {
    prompt: "Spend $40 on a paid registry lookup?",
    deadline: "45m",
    data: { vendor: "registry.example", cost: 40 },
  });
  await rt.recordConflict(id, {
    entity: "ACME founding year",
    type: "contradiction",
    severity: "high",
    findings: [{ agent: "scout", claim: "1999 (filing)" }, {
      agent: "crawler",
      claim: "2001 (about page)",
    }],
  });
  await rt.schedule(id, { in: "20m", data: { note: "check the crawl" } });
  await rt.setAgent(id, "planner", { status: "done", progress: 1 });
  await rt.setAgent(id, "scout", { status: "searching", progress: 0.6, task: "search" });
  await rt.setAgent(id, "crawler", { status: "crawling", progress: 0.35, task: "crawl" });
  await rt.addResult(id, {
    agent: "crawler",
    key: "raw-crawl",
    data: { pages: "x".repeat(40_000) },
  });
  await rt.addResult(id, {
    agent: "scout",
    key: "filings",
    data: { found: 3, years: [1999, 1999, 2001] },
  });
  for (let i = 0; i < 120; i++) {
    await rt.addMessage(id, {
      role: i % 2 ? "assistant" : "user",
      content: `Message ${i}: ${i % 2 ? "Looking into the filings." : "What did you find?"}`,
    });
  }
  await rt.checkpoint(id, "after planning");
  const { version } = await rt.get(id);
  const pending: Promise<unknown>[] = [];
  for (let i = version; i < 10_000; i++) {
    pending.push(
      rt.patch(
        id,
        i % 10 === 0
          ? [{ op: "add", path: "/findings/-", value: `finding ${i}` }]
          : [{ op: "replace", path: "/counter", value: i }],
        { agent: i % 3 ? "scout" : "crawler" },
      ),
    );
    if (pending.length >= 500) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  await rt.checkpoint(id, "bulk import");
}
