/**
 * zod schemas of what the routes answer: the session, its history rows and
 * its coordination records, and the error envelope. They are not parsed at
 * run time (the runtime's own types say what it returns); they describe the
 * answers in `GET /v1/openapi.json`, each under its own name in
 * `components.schemas`. A compile-time check keeps every schema in step with
 * the TypeScript type the runtime returns.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { Approval, Conflict, Coordination, Task, Timer } from "../src/coordination/model.ts";
import type {
  Checkpoint,
  InboxApproval,
  Message,
  ResultRow,
  SessionSummary,
} from "../src/history/history_store.ts";
import type { AgentState, Session, SessionEvent } from "../src/session.ts";

/** `true` only when `A` and `B` are mutually assignable: keeps each schema in step with its type. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;

const time = z.iso.datetime({ offset: true }).openapi({ example: "2026-01-01T00:00:00.000Z" });
const jsonObject = z.record(z.string(), z.unknown());
const patchOperation = z.object({
  op: z.string().openapi({ example: "replace" }),
  path: z.string().openapi({ example: "/n" }),
  value: z.unknown().optional(),
  from: z.string().optional(),
}).openapi("PatchOperation", { description: "One RFC 6902 operation" });

/** A session's status. */
export const statusSchema = z.enum([
  "active",
  "paused",
  "completed",
  "failed",
  "expired",
  "archived",
])
  .openapi("Status");

/** One agent's view of its own work. */
const agentStateSchema = z.object({
  status: z.string().openapi({ example: "working" }),
  progress: z.number().min(0).max(1),
  task: z.string().optional(),
  error: z.string().optional(),
  updatedAt: time,
}).openapi("AgentState");
const _agentState: Same<AgentState, z.output<typeof agentStateSchema>> = true;

/** A session as users, agents and tests see it (SPEC §1). */
export const sessionSchema = z.object({
  id: z.string().openapi({ example: "demo" }),
  kind: z.string().openapi({ example: "default" }),
  name: z.string().optional(),
  tags: z.array(z.string()),
  meta: jsonObject,
  status: statusSchema,
  phase: z.string().openapi({ example: "init" }),
  state: jsonObject.openapi({ description: "Valid against the kind's schema" }),
  agents: z.record(z.string(), agentStateSchema),
  progress: z.number().min(0).max(1),
  pendingApprovals: z.number().int().min(0),
  openConflicts: z.number().int().min(0),
  version: z.number().int().min(1).openapi({ description: "Seq of the last committed event" }),
  ttl: z.object({ active: z.number(), paused: z.number() }).openapi({
    description: "Time-to-live settings in milliseconds",
  }),
  createdAt: time,
  updatedAt: time,
  completedAt: time.optional(),
  expiresAt: time,
  report: z.unknown().optional(),
  error: z.string().optional(),
  origin: z.object({
    session: z.string(),
    version: z.number().int(),
    checkpoint: z.string().optional(),
  }).optional().openapi({ description: "Where a forked or imported session came from" }),
  archive: z.string().optional().openapi({ description: "Path of the archive file" }),
}).openapi("Session");
const _session: Same<Session, z.output<typeof sessionSchema>> = true;

/** A session without its state, as lists give it. */
export const sessionSummarySchema = sessionSchema.omit({ state: true }).openapi("SessionSummary");
const _summary: Same<SessionSummary, z.output<typeof sessionSummarySchema>> = true;

/** One committed change. */
export const eventSchema = z.object({
  sessionId: z.string(),
  seq: z.number().int().min(1),
  type: z.string().openapi({ example: "patch" }),
  agent: z.string().optional(),
  data: z.unknown().openapi({ description: "Its shape depends on `type` (docs/protocol.md)" }),
  at: time,
}).openapi("SessionEvent");
const _event: Same<SessionEvent, z.output<typeof eventSchema>> = true;

/** A conversation message. */
export const messageSchema = z.object({
  id: z.string(),
  seq: z.number().int().min(1),
  role: z.string().openapi({ example: "user" }),
  content: z.string(),
  meta: jsonObject.optional(),
  agent: z.string().optional(),
  at: time,
}).openapi("Message");
const _message: Same<Message, z.output<typeof messageSchema>> = true;

/** An agent result; `data` is absent when it lives in the blob store (`blob`). */
export const resultSchema = z.object({
  seq: z.number().int().min(1),
  agent: z.string().optional(),
  key: z.string(),
  partial: z.boolean(),
  data: z.unknown().optional(),
  blob: z.string().optional(),
  bytes: z.number().int().min(0),
  at: time,
}).openapi("Result");
const _result: Same<ResultRow, z.output<typeof resultSchema>> = true;

/** A pending durable timer (SPEC §9.1). */
export const timerSchema = z.object({
  id: z.string().openapi({ example: "tm5" }),
  due: time,
  action: z.string().optional(),
  args: z.unknown().optional(),
  patch: z.array(patchOperation).optional(),
  data: z.unknown().optional(),
  agent: z.string().optional(),
  createdAt: time,
}).openapi("Timer");
const _timer: Same<Timer, z.output<typeof timerSchema>> = true;

/** A question for a person (SPEC §9.2). */
export const approvalSchema = z.object({
  id: z.string().openapi({ example: "ap3" }),
  prompt: z.string(),
  options: z.array(z.string()),
  deadline: time,
  onDeadline: z.string().optional(),
  data: z.unknown().optional(),
  status: z.enum(["pending", "decided", "expired"]),
  option: z.string().optional(),
  by: z.string().optional(),
  comment: z.string().optional(),
  reason: z.string().optional(),
  tasks: z.array(z.string()).optional(),
  agent: z.string().optional(),
  requestedAt: time,
  decidedAt: time.optional(),
}).openapi("Approval");
const _approval: Same<Approval, z.output<typeof approvalSchema>> = true;

/** An approval of the inbox, with the session that asked. */
export const inboxApprovalSchema = approvalSchema.extend({ session: z.string() })
  .openapi("InboxApproval");
const _inbox: Same<InboxApproval, z.output<typeof inboxApprovalSchema>> = true;

/** One task of the plan (SPEC §9.3). */
export const taskSchema = z.object({
  id: z.string().openapi({ example: "search" }),
  title: z.string(),
  deps: z.array(z.string()),
  data: z.unknown().optional(),
  maxAttempts: z.number().int().min(1),
  status: z.enum(["blocked", "ready", "claimed", "done", "failed"]),
  attempt: z.number().int().min(0),
  holder: z.string().optional(),
  leaseUntil: time.optional(),
  gate: z.string().optional(),
  result: z.unknown().optional(),
  error: z.string().optional(),
  order: z.number().int(),
  addedAt: time,
  updatedAt: time,
}).openapi("Task");
const _task: Same<Task, z.output<typeof taskSchema>> = true;

/** Findings that contradict each other (SPEC §9.4). */
export const conflictSchema = z.object({
  id: z.string().openapi({ example: "cf9" }),
  entity: z.string(),
  type: z.string(),
  findings: z.array(z.object({
    agent: z.string(),
    result: z.string().optional(),
    claim: z.string(),
  })),
  severity: z.enum(["low", "medium", "high", "critical"]),
  strategy: z.string().optional(),
  status: z.enum(["open", "resolved"]),
  resolution: z.unknown().optional(),
  by: z.string().optional(),
  recordedAt: time,
  resolvedAt: time.optional(),
}).openapi("Conflict");
const _conflict: Same<Conflict, z.output<typeof conflictSchema>> = true;

/** A session's coordination records, by type and id. */
export const coordinationSchema = z.object({
  timers: z.record(z.string(), timerSchema),
  approvals: z.record(z.string(), approvalSchema),
  tasks: z.record(z.string(), taskSchema),
  conflicts: z.record(z.string(), conflictSchema),
}).openapi("Coordination");
const _coordination: Same<Coordination, z.output<typeof coordinationSchema>> = true;

/** A checkpoint: the state (and records, agents, phase) at a version. */
export const checkpointSchema = z.object({
  id: z.string(),
  seq: z.number().int().min(1),
  version: z.number().int().min(1),
  label: z.string().optional(),
  final: z.boolean(),
  state: jsonObject,
  coordination: coordinationSchema.optional(),
  agents: z.record(z.string(), agentStateSchema).optional(),
  phase: z.string().optional(),
  at: time,
}).openapi("Checkpoint");
const _checkpoint: Same<Checkpoint, z.output<typeof checkpointSchema>> = true;

/** Every error: `{"error": {"code", "message", "details?"}}`. */
export const errorSchema = z.object({
  error: z.object({
    code: z.string().openapi({
      description: "Stable and machine-readable: invalid, unauthorized, forbidden, not_found, " +
        "invalid_transition, conflict, precondition_failed, too_large, rate_limited, " +
        "upgrade_required, unavailable, internal",
    }),
    message: z.string().openapi({ description: "Safe to show; names what failed" }),
    details: z.unknown().optional().openapi({
      description: "zod's issues for 400 `invalid`; sizes and limits for 413; versions for 412",
    }),
  }),
}).openapi("Error");

// ---- examples, typed so that they stay valid ----------------------------------------------

const at = "2026-01-01T00:00:00.000Z";

/** A session, as the examples of the document show it. */
export const sessionExample: Session = {
  id: "demo",
  kind: "default",
  name: "ACME research",
  tags: ["acme"],
  meta: { owner: "alice" },
  status: "active",
  phase: "init",
  state: { query: "ACME", findings: [] },
  agents: { scout: { status: "working", progress: 0.5, task: "search", updatedAt: at } },
  progress: 0.5,
  pendingApprovals: 0,
  openConflicts: 0,
  version: 3,
  ttl: { active: 86_400_000, paused: 604_800_000 },
  createdAt: at,
  updatedAt: at,
  expiresAt: "2026-01-02T00:00:00.000Z",
};

/** A session without its state, as lists show it. */
export const summaryExample: SessionSummary = (({ state: _state, ...rest }) => rest)(
  sessionExample,
);

/** An event. */
export const eventExample: SessionEvent = {
  sessionId: "demo",
  seq: 2,
  type: "patch",
  agent: "scout",
  data: { ops: [{ op: "replace", path: "/query", value: "ACME Corp" }] },
  at,
};

/** A message. */
export const messageExample: Message = {
  id: "m1",
  seq: 4,
  role: "user",
  content: "Who founded ACME?",
  at,
};

/** A result. */
export const resultExample: ResultRow = {
  seq: 5,
  agent: "scout",
  key: "founded",
  partial: false,
  data: { year: 1999 },
  bytes: 13,
  at,
};

/** A checkpoint. */
export const checkpointExample: Checkpoint = {
  id: "01JH3Q5X2M8V4C9T7R6B0N1K2P",
  seq: 6,
  version: 5,
  label: "before-write",
  final: false,
  state: { query: "ACME", findings: [] },
  agents: {},
  phase: "init",
  at,
};

/** A timer. */
export const timerExample: Timer = {
  id: "tm5",
  due: "2026-01-01T00:10:00.000Z",
  data: { note: "check in" },
  createdAt: at,
};

/** An approval, pending. */
export const approvalExample: Approval = {
  id: "ap3",
  prompt: "Publish?",
  options: ["approve", "reject"],
  deadline: "2026-01-01T00:30:00.000Z",
  status: "pending",
  requestedAt: at,
};

/** A task, claimed. */
export const taskExample: Task = {
  id: "search",
  title: "Search",
  deps: [],
  maxAttempts: 3,
  status: "claimed",
  attempt: 1,
  holder: "scout",
  leaseUntil: "2026-01-01T00:02:00.000Z",
  order: 0,
  addedAt: at,
  updatedAt: at,
};

/** A conflict, open. */
export const conflictExample: Conflict = {
  id: "cf9",
  entity: "ACME",
  type: "founding-year",
  findings: [
    { agent: "scout", claim: "founded 1999" },
    { agent: "critic", claim: "founded 2001" },
  ],
  severity: "medium",
  status: "open",
  recordedAt: at,
};
