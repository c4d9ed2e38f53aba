import assert from "node:assert/strict";
import { createRuntime } from "../../mod.ts";
import { ValidationError } from "../../src/errors.ts";

Deno.test("deploy mode without a PostgreSQL DATABASE_URL is refused with a clear error", async () => {
  await assert.rejects(
    createRuntime({ deploy: true, tickMs: 0 }),
    (e) => e instanceof ValidationError && /DATABASE_URL/.test(e.message),
  );
  await assert.rejects(
    createRuntime({ deploy: true, tickMs: 0, databaseUrl: "sqlite://nope" }),
    ValidationError,
  );
});

const url = Deno.env.get("DATABASE_URL");

Deno.test({
  name: "deploy mode runs on Deno.openKv() and PostgreSQL, touching no data directory",
  ignore: !url,
  sanitizeResources: false, // pg's pool
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      // the data directory would appear if deploy mode touched the file system
      const rt = await createRuntime({
        deploy: true,
        tickMs: 0,
        databaseUrl: url,
        dataDir: `${dir}/data`,
      });
      try {
        assert.match(rt.stores.where.kv, /Deno Deploy/);
        const s = await rt.create("default", { state: { n: 1 } });
        await rt.patch(s.id, [{ op: "replace", path: "/n", value: 2 }]);
        assert.deepEqual((await rt.get(s.id)).state, { n: 2 });
        await rt.delete(s.id);
      } finally {
        await rt.close();
      }
      assert.deepEqual([...Deno.readDirSync(dir)], []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
