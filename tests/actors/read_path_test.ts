/** Reads of a loaded session: from memory when this process is KV's only writer, checked against KV when not. */
import assert from "node:assert/strict";
import { createRuntime } from "../../mod.ts";
import { withTwoRuntimes } from "../core/_fixtures.ts";

Deno.test("on a runtime that is its KV's only writer, reading a loaded session touches no store", async () => {
  const rt = await createRuntime({ memory: true, tickMs: 0 });
  const proto = Deno.Kv.prototype;
  const { get, getMany, list } = proto;
  let reads = 0;
  try {
    const s = await rt.create("default", { state: { n: 0 } });
    await rt.patch(s.id, [{ op: "replace", path: "/n", value: 1 }]);
    proto.get = function (this: Deno.Kv, ...args: Parameters<Deno.Kv["get"]>) {
      reads++;
      return get.apply(this, args);
    } as Deno.Kv["get"];
    proto.getMany = function (this: Deno.Kv, ...args: Parameters<Deno.Kv["getMany"]>) {
      reads++;
      return getMany.apply(this, args);
    } as Deno.Kv["getMany"];
    proto.list = function (this: Deno.Kv, ...args: Parameters<Deno.Kv["list"]>) {
      reads++;
      return list.apply(this, args);
    } as Deno.Kv["list"];
    for (let i = 0; i < 5; i++) {
      const got = await rt.get(s.id);
      assert.deepEqual(got.state, { n: 1 });
      assert.equal(got.version, 2);
    }
    assert.equal(reads, 0);
  } finally {
    Object.assign(proto, { get, getMany, list });
    await rt.close();
  }
});

Deno.test("on a KV shared with another runtime, a read of a loaded session sees the other's commits", () =>
  withTwoRuntimes(async (a, b) => {
    const s = await a.create("default", { state: { n: 0 } });
    assert.deepEqual((await b.get(s.id)).state, { n: 0 }); // b loads its own actor
    await a.patch(s.id, [{ op: "replace", path: "/n", value: 1 }]);
    const seen = await b.get(s.id);
    assert.deepEqual(seen.state, { n: 1 });
    assert.equal(seen.version, 2);
  }));
