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
