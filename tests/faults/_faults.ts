/**
 * Fault injection for the reliability tests: a KV whose atomic commits throw
 * or hang, a history store whose writes fail, a disk that fills up, and the
 * checks every fault test ends with (acknowledged means durable, SQL history
 * holds every event once, the outbox is empty).
 *
 * @module
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { createRuntime, defineSession, type Runtime, type RuntimeOptions } from "../../mod.ts";
import { keys } from "../../src/hot/layout.ts";
import type { BatchSummary, HistoryBatch, HistoryStore } from "../../src/history/history_store.ts";
import { internals } from "../../actors/runtime.ts";

/** A kind whose log shows exactly which commands were applied, and in which order. */
export const tally = defineSession({
  kind: "tally",
  state: z.object({ log: z.array(z.string()).default([]) }),
  actions: {
    add: {
      args: z.object({ tag: z.string() }),
      run(ctx, { tag }) {
        ctx.state.log.push(tag);
        return { n: ctx.state.log.length };
      },
    },
  },
});

/** An in-memory runtime with the `tally` kind and no background timers. */
export function faultRuntime(opts: RuntimeOptions = {}): Promise<Runtime> {
  return createRuntime({ memory: true, tickMs: 0, kinds: [tally], ...opts });
}

/** What a {@linkcode FaultyKv}'s atomic commits do. */
export type KvFault = "none" | "throw" | "hang";

/** A KV whose `atomic().commit()` can be made to throw or to hang. */
export interface FaultyKv {
  /** The KV to hand to the runtime. */
  readonly kv: Deno.Kv;
  /** What the next commits do; `throw` is KV's own error for a locked file. */
  fault: KvFault;
  /** Decides per commit when set (overrides `fault`): called with the commit's number, from 1. */
  decide?: (n: number) => KvFault;
  /** Commits attempted so far. */
  readonly attempts: number;
  /** Commits hanging now. */
  readonly hanging: number;
  /** Lets every hanging commit go on: each then commits for real, late. */
  release(): void;
}

/** Wraps `real` so that its atomic commits fail as told. Everything else passes through. */
export function faultyKv(real: Deno.Kv): FaultyKv {
  const gates: (() => void)[] = [];
  let attempts = 0;
  const state: FaultyKv = {
    kv: undefined as unknown as Deno.Kv,
    fault: "none",
    get attempts() {
      return attempts;
    },
    get hanging() {
      return gates.length;
    },
    release() {
      for (const go of gates.splice(0)) go();
    },
  };
  const kv = new Proxy(real, {
    get(target, prop) {
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = () => {
            const n = ++attempts;
            const fault = state.decide?.(n) ?? state.fault;
            if (fault === "throw") return Promise.reject(new TypeError("database is locked"));
            if (fault === "hang") {
              return new Promise<void>((go) => gates.push(go)).then(() => commit());
            }
            return commit();
          };
          return op;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  (state as { kv: Deno.Kv }).kv = kv;
  return state;
}

/** A history store whose `write` fails (as SQLite does when another connection holds the lock). */
export interface FaultyHistory {
  /** While true, every write fails with `error`. */
  failing: boolean;
  /** Writes attempted so far, failed or not. */
  readonly attempts: number;
  /** Writes that failed. */
  readonly failures: number;
  /** When each write was attempted (`performance.now()`), for the backoff. */
  readonly times: readonly number[];
  /** Puts the store's own `write` back. */
  restore(): void;
}

/** Makes `internals(rt).history.write` fail while `failing` is set, with SQLite's "database is locked". */
export function faultyHistory(
  rt: Runtime,
  error = () => Object.assign(new Error("database is locked"), { code: "ERR_SQLITE_ERROR" }),
): FaultyHistory {
  const history: HistoryStore = internals(rt).history;
  const write = history.write;
  let attempts = 0;
  let failures = 0;
  const times: number[] = [];
  const fault: FaultyHistory = {
    failing: false,
    get attempts() {
      return attempts;
    },
    get failures() {
      return failures;
    },
    times,
    restore: () => void (history.write = write),
  };
  history.write = function (batch: HistoryBatch): Promise<BatchSummary> {
    attempts++;
    times.push(performance.now());
    if (fault.failing) {
      failures++;
      return Promise.reject(error());
    }
    return write.call(this, batch);
  };
  return fault;
}

/** Runs `fn` with `console.error` captured (the runtime logs failed drain passes); returns the lines. */
export async function quietly<T>(fn: () => Promise<T>): Promise<{ value: T; logged: string[] }> {
  const logged: string[] = [];
  const error = console.error;
  console.error = (...args: unknown[]) =>
    void logged.push(args.map((a) => a instanceof Error ? a.message : String(a)).join(" "));
  try {
    return { value: await fn(), logged };
  } finally {
    console.error = error;
  }
}

/** Waits until `cond` holds, polling every `everyMs`, or fails after `ms`. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  what: string,
  ms = 5_000,
  everyMs = 5,
): Promise<void> {
  const end = performance.now() + ms;
  while (!(await cond())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolves to "pending" if `p` has not settled within `ms`. */
export function settledWithin<T>(
  p: Promise<T>,
  ms: number,
): Promise<{ value: T } | { error: unknown } | "pending"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = new Promise<"pending">((r) => timer = setTimeout(() => r("pending"), ms));
  return Promise.race([
    p.then((value) => ({ value }), (error) => ({ error })),
    pending,
  ]).finally(() => clearTimeout(timer));
}

/** Outbox keys left in KV. */
export async function outboxKeys(kv: Deno.Kv): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix: keys.outboxAll })) n++;
  return n;
}

/**
 * Drains, then checks that SQL holds each of session `id`'s events exactly
 * once, seq 1 to its version, and that the KV outbox is empty.
 */
export async function assertHistoryComplete(rt: Runtime, id: string): Promise<number> {
  await rt.flush();
  const version = (await rt.get(id)).version;
  const events = await internals(rt).history.events(id, { limit: 100_000 });
  assert.deepEqual(
    events.map((e) => e.seq),
    Array.from({ length: version }, (_, i) => i + 1),
    `history of ${id} is seq 1..${version}, each once`,
  );
  assert.equal(await outboxKeys(internals(rt).stores.kv), 0, "the outbox is empty");
  return version;
}

/** A disk that fills up: see {@linkcode fullDisk}. */
export interface FullDisk {
  /** Bytes the disk still takes; writes past them fail with ENOSPC. */
  free: number;
  /** Writes refused so far. */
  readonly refused: number;
  /** Gives `Deno.writeFile` and `Deno.open` back. */
  restore(): void;
}

/** The error the OS gives a write to a full disk, as Deno surfaces it. */
function noSpace(path: string): Error {
  return Object.assign(new Error(`No space left on device (os error 28): write '${path}'`), {
    code: "ENOSPC",
  });
}

/**
 * Makes writes under `dir` (through `Deno.writeFile`, and files from
 * `Deno.open` for writing) fail with ENOSPC once `free` bytes are used up,
 * as on a full disk: what fits is written for real, so a partial file is
 * left for the code under test to clean up. Everything else is untouched.
 */
export function fullDisk(dir: string, free = 0): FullDisk {
  const { writeFile, open } = Deno;
  let refused = 0;
  const disk: FullDisk = {
    free,
    get refused() {
      return refused;
    },
    restore() {
      Deno.writeFile = writeFile;
      Deno.open = open;
    },
  };
  const under = (path: string | URL) => String(path).startsWith(dir);
  /** Takes up to `n` bytes of the free space; returns how many fit. */
  const take = (n: number) => {
    const fits = Math.max(0, Math.min(disk.free, n));
    disk.free -= fits;
    return fits;
  };
  Deno.writeFile = async (path, data, options) => {
    if (!under(path) || !(data instanceof Uint8Array)) return writeFile(path, data, options);
    const fits = take(data.byteLength);
    await writeFile(path, data.subarray(0, fits), options);
    if (fits < data.byteLength) {
      refused++;
      throw noSpace(String(path));
    }
  };
  Deno.open = async (path, options) => {
    const file = await open(path, options);
    if (!under(path) || !options?.write) return file;
    let closed = false;
    const close = () => {
      if (!closed) file.close();
      closed = true;
    };
    const writable = new WritableStream<Uint8Array>({
      async write(chunk) {
        const fits = take(chunk.byteLength);
        for (let at = 0; at < fits;) at += await file.write(chunk.subarray(at, fits));
        if (fits < chunk.byteLength) {
          refused++;
          close(); // as Deno's own writable does when a write fails
          throw noSpace(String(path));
        }
      },
      close,
      abort: close,
    });
    return new Proxy(file, {
      get(target, prop) {
        if (prop === "writable") return writable;
        if (prop === "close") return close;
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  };
  return disk;
}

/** Every file under `dir` (recursively), as paths relative to it; [] when `dir` is absent. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(`${dir}/${rel}`));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    for (const e of entries) {
      if (e.isDirectory) await walk(`${rel}${e.name}/`);
      else out.push(`${rel}${e.name}`);
    }
  };
  await walk("");
  return out.sort();
}
