/** The drainer's deletes ride the group commits a few at a time, and go alone only when the committer is idle. */
import assert from "node:assert/strict";
import { ATOMIC_LIMITS, GroupCommitter } from "../../actors/group_commit.ts";
import { RIDING_DELETES } from "../../actors/riding_deletes.ts";
import { MemoryBlobStore } from "../../src/blobs/memory_blob_store.ts";
import { ManualClock } from "../../src/clock.ts";
import { HotStore } from "../../src/hot/hot_store.ts";
import type { CommitUnit } from "../../src/hot/hot_tier.ts";

/** The hot tier over `kv`. */
const hot = (kv: Deno.Kv) =>
  new HotStore(kv, new MemoryBlobStore(), { graceMs: 86_400_000, snapshotEvery: 64 });

/** What each committed atomic held. */
interface Seen {
  checks: number;
  sets: number;
  deletes: number;
}

/** A KV whose atomics are recorded as they commit. */
function spied(kv: Deno.Kv): { kv: Deno.Kv; seen: Seen[] } {
  const seen: Seen[] = [];
  const spy = {
    atomic() {
      const op = kv.atomic();
      const s: Seen = { checks: 0, sets: 0, deletes: 0 };
      const wrap = {
        check(...c: Deno.AtomicCheck[]) {
          s.checks += c.length;
          op.check(...c);
          return wrap;
        },
        mutate(...ms: Deno.KvMutation[]) {
          for (const m of ms) m.type === "delete" ? s.deletes++ : s.sets++;
          op.mutate(...ms);
          return wrap;
        },
        set(key: Deno.KvKey, value: unknown) {
          s.sets++;
          op.set(key, value);
          return wrap;
        },
        delete(key: Deno.KvKey) {
          s.deletes++;
          op.delete(key);
          return wrap;
        },
        async commit() {
          const r = await op.commit();
          if (r.ok) seen.push(s);
          return r;
        },
      };
      return wrap;
    },
  };
  return { kv: spy as unknown as Deno.Kv, seen };
}

const unit = (i: number): CommitUnit => ({
  mutations: [{ type: "set", key: ["u", i], value: i }],
  bytes: 100,
});

async function withKeys(n: number, fn: (kv: Deno.Kv, keys: Deno.KvKey[]) => Promise<void>) {
  const kv = await Deno.openKv(":memory:");
  try {
    const keys: Deno.KvKey[] = [];
    for (let i = 0; i < n; i += 500) {
      const op = kv.atomic();
      for (let j = i; j < Math.min(n, i + 500); j++) {
        keys.push(["o", j]);
        op.set(["o", j], j);
      }
      await op.commit();
    }
    await fn(kv, keys);
  } finally {
    kv.close();
  }
}

async function left(kv: Deno.Kv): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix: ["o"] })) n++;
  return n;
}

Deno.test("deletes ride the atomics of units, at most RIDING_DELETES each, with no atomic of their own", async () => {
  await withKeys(40, async (raw, keys) => {
    const { kv, seen } = spied(raw);
    const committer = new GroupCommitter(hot(kv), { idleDeletesMs: 60_000 });
    let deleted = false;
    const done = committer.deleteLater(keys).then(() => deleted = true);
    for (let i = 0; i < 3; i++) assert.equal((await committer.commit(unit(i))).ok, true);
    await done;
    assert.equal(deleted, true);
    assert.deepEqual(seen.map((s) => s.deletes), [
      RIDING_DELETES,
      RIDING_DELETES,
      40 - 2 * RIDING_DELETES,
    ]);
    assert.ok(seen.every((s) => s.sets === 1), "every atomic carried its unit");
    assert.equal(await left(raw), 0);
  });
});

Deno.test("once the committer is idle, waiting deletes go alone, 1,000 an atomic", async () => {
  await withKeys(2_500, async (raw, keys) => {
    const { kv, seen } = spied(raw);
    const committer = new GroupCommitter(hot(kv));
    await committer.deleteLater(keys);
    assert.deepEqual(seen.map((s) => [s.sets, s.deletes]), [[0, 1000], [0, 1000], [0, 500]]);
    assert.equal(await left(raw), 0);
  });
});

Deno.test("past 1,000 waiting deletes, an atomic of units takes as many as fit", async () => {
  await withKeys(1_500, async (raw, keys) => {
    const { kv, seen } = spied(raw);
    const committer = new GroupCommitter(hot(kv), { idleDeletesMs: 60_000 });
    const done = committer.deleteLater(keys);
    assert.equal((await committer.commit(unit(0))).ok, true);
    assert.deepEqual(seen.map((s) => [s.sets, s.deletes]), [[1, ATOMIC_LIMITS.mutations - 1]]);
    for (let i = 1; (await left(raw)) > 0; i++) await committer.commit(unit(i));
    await done;
    assert.equal(seen[1].deletes, RIDING_DELETES, "1,000 or fewer wait: a few ride each atomic");
    assert.ok(seen.slice(1).every((s) => s.deletes <= RIDING_DELETES));
  });
});

Deno.test("deletes that rode an atomic whose check failed ride the next one", async () => {
  await withKeys(10, async (raw, keys) => {
    const { kv, seen } = spied(raw);
    const committer = new GroupCommitter(hot(kv), { idleDeletesMs: 60_000 });
    const done = committer.deleteLater(keys);
    const stale = { ...unit(0), check: { key: ["u", 0], versionstamp: "00000000000000010000" } };
    assert.deepEqual(await committer.commit(stale), { ok: false });
    assert.equal(await left(raw), 10, "nothing was deleted by the failed atomic");
    assert.equal((await committer.commit(unit(1))).ok, true);
    await done;
    assert.deepEqual(seen.map((s) => s.deletes), [10]);
    assert.equal(await left(raw), 0);
  });
});

Deno.test("when an atomic of deletes alone throws, every waiting delete is given up, not retried", async () => {
  await withKeys(1_500, async (raw, keys) => {
    let attempts = 0;
    const failing = {
      atomic() {
        const op = raw.atomic();
        return {
          delete(key: Deno.KvKey) {
            op.delete(key);
            return this;
          },
          commit() {
            attempts++;
            return Promise.reject(new TypeError("database is locked"));
          },
        };
      },
    } as unknown as Deno.Kv;
    const committer = new GroupCommitter(hot(failing), { idleDeletesMs: 1 });
    const first = committer.deleteLater(keys.slice(0, 1_200));
    const second = committer.deleteLater(keys.slice(1_200));
    await assert.rejects(first, /database is locked/);
    await assert.rejects(second, /database is locked/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(attempts, 1, "the 500 keys past the first atomic were not tried again");
    assert.equal(await left(raw), 1_500);
  });
});

Deno.test("the idle wait before deletes go alone is measured by the injected clock", async () => {
  await withKeys(10, async (raw, keys) => {
    const clock = new ManualClock(0);
    const committer = new GroupCommitter(hot(raw), { idleDeletesMs: 5, clock });
    assert.equal((await committer.commit(unit(0))).ok, true); // the last atomic started at 0
    let deleted = false;
    const done = committer.deleteLater(keys).then(() => deleted = true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(deleted, false, "the clock has not moved: the committer is not idle yet");
    assert.equal(await left(raw), 10);
    clock.advance(5);
    await done;
    assert.equal(await left(raw), 0);
  });
});
