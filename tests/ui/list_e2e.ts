/**
 * The inspector's session list and approvals inbox in headless Chromium,
 * against a real server with 1,000 sessions: counts by status, filters,
 * search, paging, live refresh, and deciding approvals across sessions.
 *
 * Run with `deno task test:ui` (needs Debian's `chromium`).
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { defineSession, type Runtime } from "../../mod.ts";
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

const research = defineSession({
  kind: "research",
  state: z.object({ query: z.string().default(""), findings: z.array(z.string()).default([]) }),
  actions: {},
});

const SESSIONS = 1000;

Deno.test({
  name: "inspector: the session list and the approvals inbox",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const browser = await launch();
    const srv = await serve({ kinds: [research] });
    try {
      const ids = await fill(srv.rt);

      await t.step("the list counts, filters, searches and pages 1,000 sessions", async () => {
        const page = await newPage(browser);
        try {
          await page.goto(`${srv.base}/ui`);
          await expectText(page.locator('.chip[data-status="all"]'), "1,000", 3000);
          await expectText(page.locator('.chip[data-status="paused"]'), "50");
          await expectText(page.locator('.chip[data-status="completed"]'), "30");
          await expectText(page.locator('.chip[data-status="failed"]'), "20");
          await expectText(page.locator('.chip[data-status="active"]'), "900");
          await expectCount(page.locator(".session-row"), 50);
          await screenshot(page, "list");

          // Paging by cursor, and back.
          const first = await page.locator(".session-row").first().getAttribute("data-id");
          await page.click("button[data-action=older]");
          await expectText(page.locator(".page-info"), "Page 2");
          assert.notEqual(
            await page.locator(".session-row").first().getAttribute("data-id"),
            first,
          );
          await page.click("button[data-action=newer]");
          await expectText(page.locator(".page-info"), "Page 1");
          await expectText(page.locator(".session-row").first(), first!);

          // Status by its count chip; the filter lives in the address.
          await page.click('.chip[data-status="paused"]');
          await expectCount(page.locator('.session-row[data-status="paused"]'), 50);
          await expectCount(page.locator('.session-row:not([data-status="paused"])'), 0);
          assert.match(page.url(), /#\/\?status=paused/);
          await page.reload();
          await expectCount(page.locator('.session-row[data-status="paused"]'), 50, 3000);
          await page.click('.chip[data-status="all"]');
          await expectCount(page.locator(".session-row"), 50);

          // Full-text search.
          await page.fill("input[name=q]", "zebra");
          await expectCount(page.locator(".session-row"), 1);
          await expectText(page.locator(".session-row"), "Zebra migration study");
          await page.fill("input[name=q]", "");
          await expectCount(page.locator(".session-row"), 50);

          // Waiting for approval, open conflicts, kind, tag and agent.
          await page.check("input[name=waiting]");
          await expectCount(page.locator(".session-row"), 3);
          await expectCount(page.locator(".session-row .pill.attention"), 3);
          await page.uncheck("input[name=waiting]");
          await page.check("input[name=conflicts]");
          await expectCount(page.locator(".session-row"), 2);
          await page.uncheck("input[name=conflicts]");
          await page.fill("input[name=agent]", "scout");
          await expectCount(page.locator(".session-row"), 5);
          await page.fill("input[name=agent]", "");
          await page.fill("input[name=kind]", "research");
          await expectText(page.locator('.chip[data-status="all"]'), "250");
          await page.fill("input[name=tag]", "urgent");
          await expectText(page.locator('.chip[data-status="all"]'), "50");
          await expectCount(page.locator(".session-row[data-status]"), 50);
          await page.fill("input[name=kind]", "");
          await page.fill("input[name=tag]", "");
          await expectCount(page.locator(".session-row"), 50);

          // Live: a new session shows up on its own.
          const fresh = await srv.rt.create("default", { name: "Fresh arrival" });
          await expectText(page.locator(".session-row").first(), "Fresh arrival", 4000);
          await expectText(page.locator('.chip[data-status="all"]'), "1,001");

          // A row opens its session.
          await page.click(`.session-row[data-id="${fresh.id}"] td:nth-child(2)`);
          await page.waitForSelector(`.session-view[data-session="${fresh.id}"]`, {
            timeout: 1000,
          });
          await page.goBack();
          await expectCount(page.locator(".session-row"), 50, 2000);

          // An unknown session says so.
          await page.goto(`${srv.base}/ui#/s/no-such-session`);
          await expectText(page.locator("main"), ["Session not found", "no-such-session"], 2000);
          assert.deepEqual(pageErrors(page), []);
        } finally {
          await page.context().close();
        }
      });

      await t.step(
        "the inbox lists pending approvals across sessions and decides them",
        async () => {
          const page = await newPage(browser);
          try {
            await page.goto(`${srv.base}/ui#/inbox`);
            const cards = page.locator(".approval[data-status=pending]");
            await expectCount(cards, 3, 3000);
            // Oldest deadline first.
            await expectText(cards.nth(0), ["Approve the research plan?", ids[3], "deadline in"]);
            await expectText(cards.nth(1), [
              "Ship the draft to the client?",
              "ship",
              "hold",
              "rework",
            ]);
            await expectText(cards.nth(2), "Buy the analyst report?");
            await expectText(page.locator("#inbox-count"), "3");
            await screenshot(page, "inbox");

            const target = page.locator(`.approval[data-session="${ids[7]}"]`);
            await target.locator("input[name=comment]").fill("Not before legal has read it");
            await target.locator('button[data-option="hold"]').click();
            const decided = await waitFor("the decision on the server", async () => {
              const [a] = await srv.rt.approvals(ids[7]);
              return a.status === "decided" ? a : undefined;
            });
            assert.equal(decided.option, "hold");
            assert.equal(decided.comment, "Not before legal has read it");
            await expectCount(cards, 2);
            await expectText(page.locator("#inbox-count"), "2", 6000);

            await page.selectOption(".inbox-view select[name=status]", "decided");
            await expectText(page.locator(".inbox-list"), [
              "Ship the draft to the client?",
              "hold",
              "by inspector",
            ]);

            // The session link opens the session that asked.
            await page.click(`.inbox-list a[href="#/s/${ids[7]}"]`);
            await page.waitForSelector(
              `.session-view[data-session="${ids[7]}"] .live[data-state=live]`,
              {
                timeout: 3000,
              },
            );
            await expectText(page.locator("#panel-approvals"), ["1 decided or expired"]);
            assert.deepEqual(pageErrors(page), []);
          } finally {
            await page.context().close();
          }
        },
      );
    } finally {
      await srv.close();
      await browser.close();
    }
  },
});

/**
 * 1,000 sessions: a quarter of kind `research`, one in ten tagged `urgent`,
 * 50 paused, 30 completed, 20 failed; approvals in 3, conflicts in 2, an
 * agent `scout` in 5. Returns the ids, in creation order.
 */
async function fill(rt: Runtime): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < SESSIONS; start += 100) {
    const batch = await Promise.all(
      Array.from({ length: 100 }, (_, k) => {
        const i = start + k;
        return rt.create(i % 4 === 0 ? "research" : "default", {
          name: i === 500 ? "Zebra migration study" : `Research run ${i}`,
          tags: [i % 10 === 0 ? "urgent" : "routine"],
          meta: { customer: `c${i % 37}` },
          state: i % 4 === 0 ? { query: `company ${i}` } : { n: i },
        });
      }),
    );
    ids.push(...batch.map((s) => s.id));
  }
  await Promise.all(ids.slice(900, 950).map((id) => rt.pause(id)));
  await Promise.all(ids.slice(950, 980).map((id) => rt.complete(id, { ok: true })));
  await Promise.all(ids.slice(980, 1000).map((id) => rt.fail(id, "crawler crashed")));
  await rt.requestApproval(ids[3], { prompt: "Approve the research plan?", deadline: "10m" });
  await rt.requestApproval(ids[7], {
    prompt: "Ship the draft to the client?",
    options: ["ship", "hold", "rework"],
    deadline: "1h",
    data: { pages: 14 },
  });
  await rt.requestApproval(ids[11], { prompt: "Buy the analyst report?", deadline: "3h" });
  for (const id of [ids[20], ids[21]]) {
    await rt.recordConflict(id, {
      entity: "Revenue 2023",
      type: "contradiction",
      severity: "medium",
      findings: [{ agent: "a", claim: "$4M" }, { agent: "b", claim: "$5M" }],
    });
  }
  for (const id of ids.slice(30, 35)) {
    await rt.setAgent(id, "scout", { status: "working", progress: 0.4 });
  }
  return ids;
}
