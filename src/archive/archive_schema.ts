/**
 * zod schemas for everything read back from an archive: the session, its
 * coordination records, each jsonl row and the manifest. Free-form JSON
 * (state, meta, event data, a record's `data`, `args`, `result` or
 * `resolution`) is checked for its kind only and passed through untouched.
 *
 * Every keyed map (agents, each type of coordination record, the manifest's
 * files) refuses a `__proto__` key: zod would drop it without a word, and
 * the session imported would silently differ from its archive.
 *
 * @module
 */
import { z } from "zod";
import {
  type ApprovalStatus,
  type Coordination,
  findingSchema,
  MAX_RECORDS,
  RECORD_BYTES,
  recordId,
  type RecordType,
  SEVERITIES,
  TASK_STATUSES,
} from "../coordination/model.ts";
import type { Approval, Conflict, Task, Timer } from "../coordination/model.ts";
import { ValidationError } from "../errors.ts";
import { agentName, patchOp } from "../inputs.ts";
import { jsonBytes, sessionId, STATUSES } from "../session.ts";
import type { AgentState, Session, SessionEvent } from "../session.ts";
import type { Checkpoint, Message, ResultRow } from "../history/history_store.ts";
import { isBlobName } from "./archive_format.ts";
import type { ArchiveManifest } from "./archive_format.ts";

const jsonObject = z.custom<Record<string, unknown>>(
  (v) => typeof v === "object" && v !== null && !Array.isArray(v),
  "Expected a JSON object",
);
const jsonValue = z.custom<unknown>((v) => v !== undefined, "Expected a JSON value");
const timestamp = z.iso.datetime();
const seq = z.number().int().min(1);
const name = z.string().min(1).max(1024);

/** `schema`, behind a check that the value has no own `__proto__` key. */
function noProtoKey<T extends z.ZodType>(schema: T) {
  return z.unknown().refine(
    (v) => v === null || typeof v !== "object" || !Object.hasOwn(v, "__proto__"),
    "A '__proto__' key is not allowed",
  ).pipe(schema);
}

const agentState: z.ZodType<AgentState> = z.object({
  status: z.string(),
  progress: z.number().min(0).max(1),
  task: z.string().optional(),
  error: z.string().optional(),
  updatedAt: timestamp,
}).strict();

const agents = noProtoKey(z.record(name, agentState));

// ---- coordination.json -----------------------------------------------------------------------
// The records as the rules of actors/coord_rules.ts make them, with the
// bounds of the inputs they are made from.

const APPROVAL_STATUS: Record<ApprovalStatus, ApprovalStatus> = {
  pending: "pending",
  decided: "decided",
  expired: "expired",
};
const CONFLICT_STATUS: Record<Conflict["status"], Conflict["status"]> = {
  open: "open",
  resolved: "resolved",
};
const decider = z.string().min(1).max(128);
/** The agent that sent a command: any name the library API took, as in `events.jsonl`. */
const sender = z.string().max(1024);
const VALUED_OPS: ReadonlySet<string> = new Set(["add", "replace", "test"]);

const timerSchema: z.ZodType<Timer> = z.object({
  id: recordId,
  due: timestamp,
  action: z.string().min(1).max(64).optional(),
  args: jsonValue.optional(),
  patch: z.array(patchOp).min(1).max(10_000).refine(
    (ops) =>
      ops.every((op) => !VALUED_OPS.has(op.op) || (op as { value?: unknown }).value !== undefined),
    "An add, replace or test op needs a value",
  ).optional(),
  data: jsonValue.optional(),
  agent: sender.optional(),
  createdAt: timestamp,
}).strict().refine(
  (t) => t.action === undefined || t.patch === undefined,
  "A timer runs an action or applies a patch, not both",
);

const approvalSchema: z.ZodType<Approval> = z.object({
  id: recordId,
  prompt: z.string().min(1).max(4096),
  options: z.array(z.string().min(1).max(64)).min(1).max(16),
  deadline: timestamp,
  onDeadline: z.string().min(1).max(64).optional(),
  data: jsonValue.optional(),
  status: z.enum(APPROVAL_STATUS),
  option: z.string().min(1).max(64).optional(),
  by: decider.optional(),
  comment: z.string().max(4096).optional(),
  reason: z.string().min(1).max(256).optional(),
  tasks: z.array(recordId).max(1000).optional(),
  agent: sender.optional(),
  requestedAt: timestamp,
  decidedAt: timestamp.optional(),
}).strict().refine(
  (a) => a.status !== "decided" || a.option !== undefined,
  "A decided approval names its option",
);

const taskSchema: z.ZodType<Task> = z.object({
  id: recordId,
  title: z.string().min(1).max(1024),
  deps: z.array(recordId).max(256),
  data: jsonValue.optional(),
  maxAttempts: z.number().int().min(1).max(100),
  status: z.enum(TASK_STATUSES as [Task["status"], ...Task["status"][]]),
  attempt: z.number().int().min(0),
  holder: agentName.optional(),
  leaseUntil: timestamp.optional(),
  gate: recordId.optional(),
  result: jsonValue.optional(),
  error: z.string().min(1).max(4096).optional(),
  order: z.number().int().min(0),
  addedAt: timestamp,
  updatedAt: timestamp,
}).strict().refine(
  (t) => t.status !== "claimed" || (t.holder !== undefined && t.leaseUntil !== undefined),
  "A claimed task names its holder and lease",
);

const conflictSchema: z.ZodType<Conflict> = z.object({
  id: recordId,
  entity: z.string().min(1).max(512),
  type: z.string().min(1).max(128),
  findings: z.array(findingSchema).min(2).max(32),
  severity: z.enum(SEVERITIES),
  strategy: z.string().max(256).optional(),
  status: z.enum(CONFLICT_STATUS),
  resolution: jsonValue.optional(),
  by: decider.optional(),
  recordedAt: timestamp,
  resolvedAt: timestamp.optional(),
}).strict();

/**
 * The records of one type by id: each filed under its own id, at most
 * `MAX_RECORDS` of them, each at most `RECORD_BYTES` of JSON (the runtime's
 * own limits, so that every imported record fits its KV value).
 */
function records<T extends { id: string }>(type: RecordType, record: z.ZodType<T>) {
  const what = type.slice(0, -1);
  return noProtoKey(z.record(recordId, record)).superRefine((map, ctx) => {
    const entries = Object.entries(map);
    if (entries.length > MAX_RECORDS) {
      ctx.addIssue({ code: "custom", message: `A session holds at most ${MAX_RECORDS} ${type}` });
    }
    for (const [key, r] of entries) {
      if (r.id !== key) {
        ctx.addIssue({
          code: "custom",
          path: [key, "id"],
          message: `The ${what} filed under '${key}' has id '${r.id}'`,
        });
      }
      const bytes = jsonBytes(r);
      if (bytes > RECORD_BYTES) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `A ${what} is ${bytes} bytes, over the limit of ${RECORD_BYTES}`,
        });
      }
    }
  });
}

/** `coordination.json`, and a checkpoint's `coordination`. */
export const coordinationSchema: z.ZodType<Coordination, unknown> = z.object({
  timers: records("timers", timerSchema),
  approvals: records("approvals", approvalSchema),
  tasks: records("tasks", taskSchema),
  conflicts: records("conflicts", conflictSchema),
}).strict();

// ---- session.json and the jsonl rows ---------------------------------------------------------

/** `session.json`. */
export const sessionSchema: z.ZodType<Session, unknown> = z.object({
  id: sessionId,
  kind: name,
  name: z.string().optional(),
  tags: z.array(z.string()),
  meta: jsonObject,
  status: z.enum(STATUSES as [Session["status"], ...Session["status"][]]),
  phase: z.string(),
  state: jsonObject,
  agents,
  progress: z.number().min(0).max(1),
  // Archives of format 1 lack the counts. An import recomputes them from the records anyway.
  pendingApprovals: z.number().int().min(0).default(0),
  openConflicts: z.number().int().min(0).default(0),
  version: z.number().int().min(0),
  ttl: z.object({ active: z.number().min(0), paused: z.number().min(0) }).strict(),
  createdAt: timestamp,
  updatedAt: timestamp,
  completedAt: timestamp.optional(),
  expiresAt: timestamp,
  report: jsonValue.optional(),
  error: z.string().optional(),
  origin: z.object({
    session: sessionId,
    version: z.number().int().min(0),
    checkpoint: z.string().optional(),
  }).strict().optional(),
  archive: z.string().optional(),
}).strict();

/** One line of `events.jsonl`. */
export const eventSchema: z.ZodType<SessionEvent> = z.object({
  sessionId,
  seq,
  type: name,
  agent: z.string().optional(),
  data: jsonValue,
  at: timestamp,
}).strict();

/** One line of `messages.jsonl`. */
export const messageSchema: z.ZodType<Message> = z.object({
  id: name,
  seq,
  role: name,
  content: z.string(),
  meta: jsonObject.optional(),
  agent: z.string().optional(),
  at: timestamp,
}).strict();

/**
 * One line of `checkpoints.jsonl`. Coordination, agents and phase are
 * optional: checkpoints taken before coordination have none, and a
 * checkpoint with no records has no coordination.
 */
export const checkpointSchema: z.ZodType<Checkpoint, unknown> = z.object({
  id: name,
  seq,
  version: z.number().int().min(0),
  label: z.string().optional(),
  final: z.boolean(),
  state: jsonObject,
  coordination: coordinationSchema.optional(),
  agents: agents.optional(),
  phase: z.string().optional(),
  at: timestamp,
}).strict();

/** One line of `results.jsonl`: inline `data` or a `blob` name, never both. */
export const resultSchema: z.ZodType<ResultRow> = z.object({
  seq,
  agent: z.string().optional(),
  key: name,
  partial: z.boolean(),
  data: jsonValue.optional(),
  blob: z.string().refine(isBlobName, "Expected a blob name").optional(),
  bytes: z.number().int().min(0),
  at: timestamp,
}).strict().refine(
  (r) => (r.data === undefined) !== (r.blob === undefined),
  "A result has either inline data or a blob, not both or neither",
);

/** `manifest.json`, of any format version: the reader decides which versions it takes. */
export const manifestSchema: z.ZodType<ArchiveManifest, unknown> = z.object({
  format: z.number().int().min(1),
  session: sessionId,
  files: noProtoKey(z.record(
    z.string(),
    z.object({
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      bytes: z.number().int().min(0),
    }).strict(),
  )),
}).strict();

/**
 * Parses `value` with `schema`, or throws a 400 naming `where` and the first issue.
 *
 * @example
 * ```ts
 * const event = parseArchiveValue(eventSchema, JSON.parse(line), "events.jsonl line 3");
 * ```
 */
export function parseArchiveValue<T>(
  schema: z.ZodType<T, unknown>,
  value: unknown,
  where: string,
): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
  throw new ValidationError(`Archive ${where} is invalid${path}: ${issue?.message}`, {
    issues: parsed.error.issues,
  });
}
