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

export { defaultKind, defineSession } from "./actors/kind.ts";
export type { ActionContext, ActionDef, SessionKind, SessionKindDef } from "./actors/kind.ts";
export { Runtime } from "./actors/runtime.ts";
export type { RuntimeOptions } from "./actors/runtime.ts";
export { ManualClock, systemClock } from "./src/clock.ts";
export type { Clock } from "./src/clock.ts";
export * from "./src/errors.ts";
export type { AgentState, Origin, Session, SessionEvent, Status, Ttl } from "./src/session.ts";
export type {
  BatchEntry,
  BatchSummary,
  Checkpoint,
  HistoryBatch,
  HistoryStore,
  ListPage,
  ListQuery,
  Message,
  ResultRow,
  RetentionRules,
  SessionRecord,
  SessionSummary,
} from "./src/history/history_store.ts";
export type {
  AgentInput,
  CreateInput,
  MessageInput,
  PatchOperation,
  ResultInput,
} from "./src/inputs.ts";
export type {
  Approval,
  ApprovalInput,
  ApprovalStatus,
  ClaimInput,
  Conflict,
  ConflictInput,
  Coordination,
  DecisionInput,
  Finding,
  RecordType,
  ResolveInput,
  Severity,
  Task,
  TasksInput,
  TaskStatus,
  Timer,
  TimerInput,
} from "./src/coordination/model.ts";
export type { By } from "./actors/commands.ts";
export type { CoordinationOps } from "./actors/coord_commands.ts";
export type { ApprovalPage, ApprovalQuery, InboxApproval } from "./src/history/history_store.ts";
export type { ResultView } from "./actors/kind.ts";
export type { UpdateInput } from "./src/inputs.ts";
export type { Duration } from "./src/duration.ts";
export type { IdGenerator } from "./src/ids.ts";
export type { Histogram, Metrics } from "./src/metrics.ts";
export type { CommitObserver } from "./src/metrics.ts";
export type { StoreOptions, Stores } from "./actors/open_stores.ts";
export type { BlobStore } from "./src/blobs/blob_store.ts";
export type { Listener, Reply } from "./actors/session_actor.ts";
export type { AppOptions } from "./routes/app.ts";
export type { HttpRateOptions } from "./routes/http_rate_limit.ts";
export type { WsOptions } from "./routes/ws_hub.ts";
