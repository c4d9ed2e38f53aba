import assert from "node:assert/strict";
import { ActorRegistry } from "../../actors/registry.ts";
import type { ActorEnv } from "../../actors/session_actor.ts";
import { ManualClock } from "../../src/clock.ts";

/** A registry whose actors are never used beyond `get`: activation needs only the clock. */
function registry(maxActors: number): ActorRegistry {
  return new ActorRegistry({ clock: new ManualClock() } as unknown as ActorEnv, { maxActors });
}

Deno.test("the cap evicts the least recently used idle actor, not the first activated, when the clock stands still", () => {
  const reg = registry(3);
  for (const id of ["a", "b", "c"]) reg.get(id);
  reg.get("a"); // now b is the least recently used
  reg.get("d");
  assert.equal(reg.size, 3);
  assert.equal(reg.peek("b"), undefined);
  for (const id of ["a", "c", "d"]) assert.ok(reg.peek(id), `${id} should still be live`);
  reg.get("c");
  reg.get("e"); // a, then d, are now the oldest uses
  assert.equal(reg.peek("a"), undefined);
  assert.deepEqual([...reg.all()].map((x) => x.id).sort(), ["c", "d", "e"]);
});

Deno.test("a use returns the same live actor and does not grow the registry", () => {
  const reg = registry(10);
  const a = reg.get("a");
  for (let i = 0; i < 100; i++) assert.equal(reg.get(i % 2 ? "a" : "b"), i % 2 ? a : reg.peek("b"));
  assert.equal(reg.size, 2);
});
