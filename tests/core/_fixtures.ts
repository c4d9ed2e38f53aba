/** Shared kinds and helpers for the core tests. */
import { z } from "zod";
import { createRuntime, defineSession, type RuntimeOptions } from "../../mod.ts";
import type { Runtime } from "../../actors/runtime.ts";

/** A kind whose `step` is not commutative, so the final state reveals the order of application. */
export const ledger = defineSession({
  kind: "ledger",
  state: z.object({
    acc: z.number().default(0),
    log: z.array(z.string()).default([]),
  }),
  actions: {
    step: {
      args: z.object({ v: z.number().int().min(0).max(1000), tag: z.string() }),
      run(ctx, { v, tag }) {
        ctx.state.acc = (ctx.state.acc * 31 + v) % 1_000_003;
        ctx.state.log.push(tag);
        return { acc: ctx.state.acc };
      },
    },
    echo: {
      args: z.object({ text: z.string() }),
      run(ctx, { text }) {
        ctx.state.log.push("echo");
        return { text, at: ctx.state.log.length };
      },
    },
    boom: {
      args: z.object({}),
      run(ctx) {
        ctx.state.log.push("never");
        throw new Error("boom");
      },
    },
  },
});

/** A runtime in memory with the test kinds and no background timers. */
export function memoryRuntime(opts: RuntimeOptions = {}): Promise<Runtime> {
  return createRuntime({ memory: true, tickMs: 0, kinds: [ledger], ...opts });
}

/**
 * Runs `fn` with two runtimes on one KV file (SQL in memory, each its own),
 * as two instances of a deployment are; then closes both and removes the file.
 */
export async function withTwoRuntimes(
  fn: (a: Runtime, b: Runtime) => Promise<void>,
  opts: RuntimeOptions = {},
): Promise<void> {
  const path = await Deno.makeTempFile({ suffix: ".sqlite3" });
  const kv = await Deno.openKv(path);
  const a = await createRuntime({ kv, memory: true, tickMs: 0, ...opts });
  const b = await createRuntime({ kv, memory: true, tickMs: 0, ...opts });
  try {
    await fn(a, b);
  } finally {
    await a.close();
    await b.close();
    kv.close();
    await Deno.remove(path);
  }
}

/** The serial application of `steps` to a fresh ledger. */
export function serial(steps: { v: number; tag: string }[]): { acc: number; log: string[] } {
  let acc = 0;
  const log: string[] = [];
  for (const s of steps) {
    acc = (acc * 31 + s.v) % 1_000_003;
    log.push(s.tag);
  }
  return { acc, log };
}
