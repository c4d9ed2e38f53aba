/**
 * The types that the runtime's method signatures and options name: the
 * inputs of its commands, the records and pages it answers with, kinds, and
 * the options of its parts. `mod.ts` re-exports every one (import them from
 * there); this file keeps them out of the way of the names a user starts
 * with.
 *
 * @module
 */
export type { By } from "./actors/commands.ts";
export type {
  ActionContext,
  ActionDef,
  ResultView,
  SessionKind,
  SessionKindDef,
} from "./actors/kind.ts";
export type { StoreOptions } from "./actors/open_stores.ts";
export type { AppOptions } from "./routes/app.ts";
export type { HttpRateOptions } from "./routes/http_rate_limit.ts";
export type { WsOptions } from "./routes/ws_hub.ts";
export type { Clock } from "./src/clock.ts";
export type { Duration } from "./src/duration.ts";
export type { IdGenerator } from "./src/ids.ts";
export type { AgentState, Origin, Status, Ttl } from "./src/session.ts";
export type {
  AgentInput,
  CreateInput,
  MessageInput,
  PatchOperation,
  ResultInput,
  UpdateInput,
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
  ResolveInput,
  Severity,
  Task,
  TasksInput,
  TaskStatus,
  Timer,
  TimerInput,
} from "./src/coordination/model.ts";
export type {
  ApprovalPage,
  ApprovalQuery,
  Checkpoint,
  InboxApproval,
  ListPage,
  ListQuery,
  Message,
  ResultRow,
  RetentionRules,
  SessionSummary,
} from "./src/history/history_store.ts";
