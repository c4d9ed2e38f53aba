import assert from "node:assert/strict";
import { clockRuntime } from "./_fixtures.ts";

Deno.test("search finds a kind's searchable state fields, and names and ids by prefix, at once", async () => {
  const { rt } = await clockRuntime();
  try {
    const byQuery = await rt.create("research", { state: { query: "Globex pricing" } });
    const byName = await rt.create("research", { name: "Initech audit" });
    const byId = await rt.create("research", { id: "acme-2026-q3" });
    const ids = async (q: string) => (await rt.search(q)).items.map((s) => s.id).sort();
    assert.deepEqual(await ids("globex"), [byQuery.id]);
    assert.deepEqual(await ids("glob"), [byQuery.id], "a prefix of a state word");
    assert.deepEqual(await ids("initech"), [byName.id]);
    assert.deepEqual(await ids("init"), [byName.id], "a prefix of the name");
    assert.deepEqual(await ids("acme"), [byId.id], "the id's words");
    await rt.patch(byQuery.id, [{ op: "replace", path: "/query", value: "Umbrella" }]);
    assert.deepEqual(await ids("umbrel"), [byQuery.id], "the new state is searchable at once");
    assert.deepEqual(await ids("globex"), []);
    await rt.update(byName.id, { name: "Hooli review" });
    assert.deepEqual(await ids("hoo"), [byName.id], "a renamed session is found at once");
  } finally {
    await rt.close();
  }
});
