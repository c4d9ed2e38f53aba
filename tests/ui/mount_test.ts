/**
 * The inspector's mount (`routes/ui.ts`), in-process: the page loads
 * without a token while the API keeps needing one, only the page's own
 * files are served, and every module the page imports is among them.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { createRuntime } from "../../mod.ts";
import { mountInspector } from "../../routes/ui.ts";

async function withApp(fn: (app: Hono) => Promise<void>): Promise<void> {
  const rt = await createRuntime({ memory: true, tickMs: 0, token: "s3cret" });
  try {
    await fn(mountInspector(new Hono()).route("/", rt.app));
  } finally {
    await rt.close();
  }
}

Deno.test("GET /ui serves the page without a token while the API still needs one", async () => {
  await withApp(async (app) => {
    for (const path of ["/ui", "/ui/"]) {
      const res = await app.request(path);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
      assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'self'/);
      assert.match(await res.text(), /<script type="module" src="main.js">/);
    }
    const api = await app.request("/v1/sessions");
    assert.equal(api.status, 401);
    await api.body?.cancel();
  });
});

Deno.test("only the inspector's own files are served under /ui", async () => {
  await withApp(async (app) => {
    for (const path of ["/ui/nope.js", "/ui/..%2Fui.ts", "/ui/ui.ts", "/ui/%2e%2e%2fapp.ts"]) {
      const res = await app.request(path);
      assert.equal(res.status, 404, path);
      await res.body?.cancel();
    }
    const css = await app.request("/ui/inspector.css");
    assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
    assert.equal(css.headers.get("x-content-type-options"), "nosniff");
    await css.body?.cancel();
  });
});

Deno.test("every module, stylesheet and icon the page refers to is served", async () => {
  await withApp(async (app) => {
    const seen = new Set<string>();
    const queue = ["index.html"];
    while (queue.length > 0) {
      const name = queue.shift()!;
      if (seen.has(name)) continue;
      seen.add(name);
      const res = await app.request(`/ui/${name}`);
      assert.equal(res.status, 200, `/ui/${name}`);
      const text = await res.text();
      const refs = name.endsWith(".html")
        ? [...text.matchAll(/(?:src|href)="([\w.-]+\.(?:js|css|svg))"/g)]
        : name.endsWith(".js")
        ? [...text.matchAll(/from "\.\/([\w.-]+\.js)"/g)]
        : [];
      for (const m of refs) queue.push(m[1]);
    }
    assert.ok(seen.size >= 15, `only ${seen.size} files reached`);
    const listed = new Set<string>();
    for await (const e of Deno.readDir(new URL("../../routes/ui/", import.meta.url))) {
      listed.add(e.name);
    }
    assert.deepEqual(
      [...seen].sort(),
      [...listed].sort(),
      "files on disk and files reached differ",
    );
  });
});
