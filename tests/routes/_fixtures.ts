/**
 * Helpers for route tests: an in-memory runtime with a `counter` kind, and
 * a `call` that sends a request in-process and reads the JSON answer.
 *
 * @module
 */
import { z } from "zod";
import { createRuntime, defineSession, type Runtime, type RuntimeOptions } from "../../mod.ts";
import type { AppOptions } from "../../routes/app.ts";

/** A kind with one action, so that action routes have something to run. */
export const counter = defineSession({
  kind: "counter",
  state: z.object({ n: z.number().default(0) }),
  actions: {
    add: {
      args: z.object({ by: z.number().int() }).strict(),
      run(ctx, { by }) {
        ctx.state.n += by;
        return { n: ctx.state.n };
      },
    },
  },
});

/** Runs `fn` with a fresh in-memory runtime and closes it afterwards. */
export async function withRuntime(
  fn: (rt: Runtime) => Promise<void>,
  opts: RuntimeOptions & AppOptions = {},
): Promise<void> {
  const rt = await createRuntime({ memory: true, tickMs: 0, kinds: [counter], ...opts });
  try {
    await fn(rt);
  } finally {
    await rt.close();
  }
}

/** What `call` returns: the status, headers and the body parsed as JSON (or text, or null when empty). */
export interface Answer {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any -- tests read arbitrary JSON shapes
  body: any;
}

/** Options of {@linkcode call}. */
export interface CallOptions {
  /** A value sent as JSON, or a raw body. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** Sends `method path` to `rt.app` and reads the answer. */
export async function call(
  rt: Runtime,
  method: string,
  path: string,
  opts: CallOptions = {},
): Promise<Answer> {
  const raw = opts.body;
  const body = raw === undefined
    ? undefined
    : typeof raw === "string" || raw instanceof Uint8Array || raw instanceof ReadableStream
    ? raw as BodyInit
    : JSON.stringify(raw);
  const res = await rt.app.request(path, { method, headers: opts.headers, body });
  const text = await res.text();
  let parsed: unknown = null;
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Bearer header for `token`. */
export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}
