/**
 * Denizen: a Deno-native runtime for long-lived agent sessions. Each session
 * is an actor whose commands are committed to Deno KV before they are
 * acknowledged; its history goes to SQL through Kysely; Hono serves it over
 * HTTP and WebSocket.
 *
 * @example
 * ```ts
 * import { createRuntime, defineSession } from "./mod.ts";
 * import { z } from "zod";
 *
 * const research = defineSession({
 *   kind: "research",
 *   state: z.object({ query: z.string(), findings: z.array(z.string()).default([]) }),
 *   actions: {
 *     addFinding: {
 *       args: z.object({ text: z.string().min(1) }),
 *       run(ctx, { text }) {
 *         ctx.state.findings.push(text);
 *         return { count: ctx.state.findings.length };
 *       },
 *     },
 *   },
 * });
 * const rt = await createRuntime({ kinds: [research], memory: true });
 * const s = await rt.create("research", { state: { query: "ACME" } });
 * await rt.action(s.id, "addFinding", { text: "founded 1999" });
 * await rt.close();
 * ```
 *
 * @module
 */
import { type AppOptions, createApp } from "./routes/app.ts";
import { openRuntime, type Runtime, type RuntimeOptions } from "./actors/runtime.ts";

/**
 * Opens the stores, drains any outbox left by a crash, and returns a running
 * runtime whose `app` serves every route.
 *
 * @example
 * ```ts
 * import { createRuntime } from "./mod.ts";
 * const rt = await createRuntime({ memory: true });
 * const s = await rt.create("default", { state: { n: 1 } });
 * await rt.patch(s.id, [{ op: "replace", path: "/n", value: 2 }]);
 * await rt.close();
 * ```
 */
export async function createRuntime(opts: RuntimeOptions & AppOptions = {}): Promise<Runtime> {
  return await openRuntime(opts, (rt) => createApp(rt, opts));
}

export { defineSession } from "./actors/kind.ts";
export type { Runtime, RuntimeOptions } from "./actors/runtime.ts";
export type { Session, SessionEvent } from "./src/session.ts";
export { ManualClock } from "./src/clock.ts";
export {
  ConflictError,
  DenizenError,
  ForbiddenError,
  NotFoundError,
  PreconditionError,
  RateLimitError,
  SessionNotFoundError,
  TooLargeError,
  TransitionError,
  UnauthorizedError,
  UnavailableError,
  ValidationError,
} from "./src/errors.ts";
export { connect } from "./client.ts";

/** The inputs, records, pages and options that the signatures above name. */
export type * from "./types.ts";
