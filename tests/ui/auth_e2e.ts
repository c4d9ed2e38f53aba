/**
 * The inspector with `DENIZEN_TOKEN` set, in headless Chromium: the page
 * loads without a token but shows nothing of the sessions; a missing, wrong
 * or session-scoped token gets a clear message; the right one opens the
 * list and the live session page (the WebSocket takes it as the
 * `bearer.<token>` subprotocol), and it is kept for the tab.
 *
 * Run with `deno task test:ui` (needs Debian's `chromium`).
 */
import assert from "node:assert/strict";
import { connect } from "../../client.ts";
import { expectText, launch, newPage, pageErrors, screenshot, serve } from "./_fixtures.ts";

const TOKEN = "s3cret-token";

Deno.test({
  name: "inspector: the token flow",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const browser = await launch();
    const srv = await serve({ token: TOKEN });
    const page = await newPage(browser);
    try {
      const s = await srv.rt.create("default", {
        name: "Project Falcon",
        state: { plan: "secret" },
      });

      await t.step("without a token the page asks for one and shows no session", async () => {
        const res = await fetch(`${srv.base}/ui`);
        assert.equal(res.status, 200);
        await res.body?.cancel();
        await page.goto(`${srv.base}/ui`);
        await page.waitForSelector("#gate[data-reason=missing]", { timeout: 3000 });
        await expectText(page.locator("#gate-message"), "This server needs a token");
        assert.ok(!(await page.content()).includes("Falcon"));
      });

      await t.step("a wrong token is refused with a clear message", async () => {
        await page.fill("#token-input", "wrong-token");
        await page.click("#gate button[type=submit]");
        await page.waitForSelector("#gate[data-reason=refused]", { timeout: 1000 });
        await expectText(page.locator("#gate-message"), "The token was not accepted");
        await expectText(page.locator("#gate"), "Invalid or expired bearer token");
        await screenshot(page, "token-refused");
        assert.ok(!(await page.content()).includes("Falcon"));
      });

      await t.step("a session's own token cannot open the inspector", async () => {
        const res = await srv.rt.app.request(`/v1/sessions/${s.id}/tokens`, {
          method: "POST",
          headers: { Authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({ agent: "scout" }),
        });
        const { token } = await res.json();
        await page.fill("#token-input", token);
        await page.click("#gate button[type=submit]");
        await page.waitForSelector("#gate[data-reason=forbidden]", { timeout: 1000 });
        await expectText(page.locator("#gate-message"), "cannot open the inspector");
      });

      await t.step("the right token opens the list and the live session page", async () => {
        await page.fill("#token-input", TOKEN);
        await page.click("#gate button[type=submit]");
        await expectText(page.locator(".session-row"), "Project Falcon", 2000);
        await page.click(`.session-row[data-id="${s.id}"] a`);
        await page.waitForSelector(".live[data-state=live]", { timeout: 3000 });
        const agent = await connect(srv.wsUrl(s.id), { agent: "writer", token: TOKEN });
        await agent.patch([{ op: "replace", path: "/plan", value: "approved" }]);
        await expectText(page.locator("#panel-state"), '"approved"');
        await agent.close();
      });

      await t.step("the token is kept for the tab, and forgetting it locks the page", async () => {
        await page.reload();
        await page.waitForSelector(".live[data-state=live]", { timeout: 3000 });
        assert.equal(await page.evaluate("sessionStorage.getItem('denizen.token')"), TOKEN);
        await page.click("#forget-token");
        await page.waitForSelector("#gate[data-reason=missing]", { timeout: 1000 });
        assert.ok(!(await page.content()).includes("Falcon"));
        assert.deepEqual(pageErrors(page), []);
      });
    } finally {
      await page.context().close();
      await srv.close();
      await browser.close();
    }
  },
});
