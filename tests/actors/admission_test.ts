/** Admission to the group committer: how many sessions build units at once, and what waiting gathers. */
import assert from "node:assert/strict";
import { Admission } from "../../actors/admission.ts";
import { GroupCommitter } from "../../actors/group_commit.ts";
import { SessionActor } from "../../actors/session_actor.ts";
import { MemoryBlobStore } from "../../src/blobs/memory_blob_store.ts";
import { systemClock } from "../../src/clock.ts";
import { createCommand, patchCommand } from "../../actors/commands.ts";
import { openHistory } from "../../src/history/open_history.ts";
import { HotStore } from "../../src/hot/hot_store.ts";
import { defaultKind } from "../../actors/kind.ts";
import { DEFAULT_TTL } from "../../src/session.ts";
import { createRuntime, ValidationError } from "../../mod.ts";
import { internals } from "../../actors/runtime.ts";

const hotStore = (kv: Deno.Kv) =>
  new HotStore(kv, new MemoryBlobStore(), { graceMs: 86_400_000, snapshotEvery: 64 });

/** Lets timers and I/O run, so that anything able to settle does. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

Deno.test("admission lets `room` sessions in at once, then one per finished session, first come first served", async () => {
  {
    const committer = new Admission(2);
    const first = await committer.admit();
    const second = await committer.admit();
    const order: string[] = [];
    const third = committer.admit().then((done) => (order.push("third"), done));
    const fourth = committer.admit().then((done) => (order.push("fourth"), done));
    await settle();
    assert.deepEqual(order, []);
    assert.equal(committer.waiting, 2);

    first();
    first(); // a second call gives nothing back
    await settle();
    assert.deepEqual(order, ["third"]);
    assert.equal(committer.waiting, 1);

    second();
    await settle();
    assert.deepEqual(order, ["third", "fourth"]);

    (await third)();
    (await fourth)();
    // Everything was given back: two sessions are admitted at once again, and a third waits.
    await committer.admit();
    await committer.admit();
    let admitted = false;
    void committer.admit().then(() => admitted = true);
    await settle();
    assert.equal(admitted, false);
  }
});

Deno.test("without group commit every session is admitted at once", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const committer = new GroupCommitter(hotStore(kv), { grouped: false, room: 1 });
    await committer.admit();
    await committer.admit();
    assert.equal(committer.waiting, 0);
  } finally {
    kv.close();
  }
});

Deno.test("commands that arrive while a session waits for admission are committed together, in order, in one atomic", async () => {
  const kv = await Deno.openKv(":memory:");
  const history = await openHistory();
  let commits = 0;
  let units = 0;
  const hot = hotStore(kv);
  const committer = new GroupCommitter(hot, {
    room: 1,
    observer: { committed: (n) => void (commits++, units += n) },
  });
  const actor = new SessionActor("s1", {
    hot,
    committer,
    clock: systemClock,
    kinds: new Map([["default", defaultKind]]),
    history,
    batchMax: 256,
    sharedKv: false,
    committed: () => {},
    scheduled: () => {},
  });
  try {
    await actor.submit(createCommand({ id: "s1", state: { log: [] } }, defaultKind, DEFAULT_TTL));
    assert.equal(commits, 1);

    const hold = await committer.admit(); // the only room, as if another session were committing
    const acks: Promise<{ version: number }>[] = [];
    for (let i = 0; i < 5; i++) {
      acks.push(actor.submit(patchCommand([{ op: "add", path: "/log/-", value: i }])));
      await settle(); // each command arrives on its own
    }
    let acked = 0;
    for (const a of acks) void a.then(() => acked++);
    await settle();
    assert.equal(acked, 0, "nothing is applied before the session is admitted");
    assert.equal(commits, 1);
    assert.equal(committer.waiting, 1);

    hold();
    const versions = (await Promise.all(acks)).map((a) => a.version);
    assert.equal(commits, 2, "the five commands went out in one atomic");
    assert.equal(units, 2);
    assert.deepEqual(versions, [versions[0], ...[1, 2, 3, 4].map((i) => versions[0] + i)]);
    assert.deepEqual((await actor.read())?.state, { log: [0, 1, 2, 3, 4] });
  } finally {
    await history.close();
    kv.close();
  }
});

Deno.test("createRuntime takes the admission room and the atomics in flight, and refuses counts that are not positive integers", async () => {
  const rt = await createRuntime({ memory: true, tickMs: 0, admission: 1, commitsInFlight: 1 });
  try {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await rt.create("default", { state: { n: 0 } })).id);
    const acks: Promise<unknown>[] = ids.map((id) =>
      new Promise((resolve, reject) =>
        internals(rt).postPatch(id, [{ op: "replace", path: "/n", value: 1 }], {}, {
          resolve,
          reject,
        })
      )
    );
    assert.equal(
      internals(rt).metrics.gauges().commitWaiting,
      19,
      "one session admitted, the others wait",
    );
    await Promise.all(acks);
    for (const id of ids) assert.deepEqual((await rt.get(id)).state, { n: 1 });
  } finally {
    await rt.close();
  }
  for (
    const bad of [{ admission: 0 }, { commitsInFlight: 1.5 }, { maxActors: -1 }, { batchMax: NaN }]
  ) {
    await assert.rejects(
      createRuntime({ memory: true, ...bad }),
      ValidationError,
      JSON.stringify(bad),
    );
  }
});
