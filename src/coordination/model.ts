/**
 * Coordination inside a session (SPEC §9): durable timers, approvals with
 * deadlines, a shared task plan with leases, and conflicts between
 * findings. The records, the zod schemas of their inputs, and the rule that
 * says when each record is next due on the scheduler.
 *
 * Every record is session state: changed only by commands in the actor's
 * turn, stored in KV beside the head (one key per record), in checkpoints,
 * forks and archives, and described by events.
 *
 * @module
 */
import { z } from "zod";
import { parseDuration } from "../duration.ts";
import { ValidationError } from "../errors.ts";
import { agentName, type PatchOperation, patchOps } from "../inputs.ts";

/** `true` only when `A` and `B` are mutually assignable: keeps the input interfaces in step with their schemas. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;

/** The four kinds of coordination record. */
export type RecordType = "timers" | "approvals" | "tasks" | "conflicts";

/** Every record type, in the order they are stored and listed. */
export const RECORD_TYPES: readonly RecordType[] = ["timers", "approvals", "tasks", "conflicts"];

/** A pending durable timer (fired and cancelled timers are gone). */
export interface Timer {
  /** Unique in the session. */
  id: string;
  /** When it fires, ISO-8601. */
  due: string;
  /** The kind's action it runs, with `args`. */
  action?: string;
  /** The action's arguments. */
  args?: unknown;
  /** JSON Patch it applies instead of an action. */
  patch?: PatchOperation[];
  /** Payload of the `timer.fired` event of a bare reminder. */
  data?: unknown;
  /** The agent that scheduled it, when known. */
  agent?: string;
  /** When it was scheduled, ISO-8601. */
  createdAt: string;
}

/** Where an approval stands. */
export type ApprovalStatus = "pending" | "decided" | "expired";

/** A question for a person, with options and a deadline. */
export interface Approval {
  /** Unique in the session. */
  id: string;
  /** What the person is asked. */
  prompt: string;
  /** The options offered; default `["approve", "reject"]`. */
  options: string[];
  /** When it expires, ISO-8601. */
  deadline: string;
  /** The option taken at the deadline; without it the approval expires. */
  onDeadline?: string;
  /** Free-form context for the person. */
  data?: unknown;
  /** Where it stands. */
  status: ApprovalStatus;
  /** The option chosen, once decided. */
  option?: string;
  /** Who decided: a person's name, or `deadline`. */
  by?: string;
  /** The decider's comment. */
  comment?: string;
  /** Why it expired without a decision (`deadline`, or the session ending). */
  reason?: string;
  /** Tasks it holds back (a plan waiting for a person). */
  tasks?: string[];
  /** The agent that asked, when known. */
  agent?: string;
  /** When it was asked, ISO-8601. */
  requestedAt: string;
  /** When it was decided or expired, ISO-8601. */
  decidedAt?: string;
}

/** Where a task stands. */
export type TaskStatus = "blocked" | "ready" | "claimed" | "done" | "failed";

/** Every task status, in board order. */
export const TASK_STATUSES: readonly TaskStatus[] = [
  "blocked",
  "ready",
  "claimed",
  "done",
  "failed",
];

/** One task of the session's plan. */
export interface Task {
  /** Unique in the session. */
  id: string;
  /** What to do. */
  title: string;
  /** Tasks that must be done first. */
  deps: string[];
  /** Free-form input for the agent. */
  data?: unknown;
  /** Claims that may end in a lapsed lease before the task fails. */
  maxAttempts: number;
  /** Where it stands. */
  status: TaskStatus;
  /** Claims so far. */
  attempt: number;
  /** The agent that holds it while claimed. */
  holder?: string;
  /** When the holder's lease ends, ISO-8601, while claimed. */
  leaseUntil?: string;
  /** The approval that holds it back, while it waits for one. */
  gate?: string;
  /** What the holder reported on completion. */
  result?: unknown;
  /** Why it failed. */
  error?: string;
  /** Order of addition; claims take the oldest ready task. */
  order: number;
  /** When it was added, ISO-8601. */
  addedAt: string;
  /** When it last changed, ISO-8601. */
  updatedAt: string;
}

/** How much a conflict matters. */
export type Severity = "low" | "medium" | "high" | "critical";

/** One side of a conflict. */
export interface Finding {
  /** The agent that found it. */
  agent: string;
  /** The result key it came from. */
  result?: string;
  /** What it claims. */
  claim: string;
}

/** Findings that contradict each other. */
export interface Conflict {
  /** Unique in the session. */
  id: string;
  /** What the findings are about. */
  entity: string;
  /** What kind of contradiction. */
  type: string;
  /** The findings, two or more. */
  findings: Finding[];
  /** How much it matters. */
  severity: Severity;
  /** How it should be resolved, free-form. */
  strategy?: string;
  /** Open until resolved. */
  status: "open" | "resolved";
  /** The resolution, once resolved. */
  resolution?: unknown;
  /** Who resolved it. */
  by?: string;
  /** When it was recorded, ISO-8601. */
  recordedAt: string;
  /** When it was resolved, ISO-8601. */
  resolvedAt?: string;
}

/** A session's coordination records, by type and id. */
export interface Coordination {
  /** Pending timers. */
  timers: Record<string, Timer>;
  /** Approvals, pending and past. */
  approvals: Record<string, Approval>;
  /** The plan. */
  tasks: Record<string, Task>;
  /** Conflicts, open and resolved. */
  conflicts: Record<string, Conflict>;
}

/** A record of any type. */
export type CoordRecord = Timer | Approval | Task | Conflict;

/** The record type of each coordination type. */
export interface RecordOf {
  timers: Timer;
  approvals: Approval;
  tasks: Task;
  conflicts: Conflict;
}

/** No records. */
export function emptyCoordination(): Coordination {
  return { timers: {}, approvals: {}, tasks: {}, conflicts: {} };
}

/** Most records of one type a session holds. */
export const MAX_RECORDS = 10_000;

/** Bytes of one record's JSON at most: each is one KV value. */
export const RECORD_BYTES = 48 * 1024;

/** Lease of a claim when none is asked for. */
export const DEFAULT_LEASE_MS = 60_000;

/** Attempts of a task when none is given. */
export const DEFAULT_MAX_ATTEMPTS = 3;

/** When a record next needs the scheduler, epoch ms, or undefined when it never does. */
export function dueOf(type: RecordType, record: CoordRecord): number | undefined {
  switch (type) {
    case "timers":
      return Date.parse((record as Timer).due);
    case "approvals": {
      const a = record as Approval;
      return a.status === "pending" ? Date.parse(a.deadline) : undefined;
    }
    case "tasks": {
      const t = record as Task;
      return t.status === "claimed" && t.leaseUntil ? Date.parse(t.leaseUntil) : undefined;
    }
    case "conflicts":
      return undefined;
  }
}

// ---- inputs ----------------------------------------------------------------------------------

/**
 * A record id: like a session id, with `.` and `:` besides. `__proto__` is
 * refused: records are kept in plain objects keyed by id.
 */
export const recordId = z.string().regex(
  /^[A-Za-z0-9_.:-]{1,128}$/,
  "Ids are 1-128 of [A-Za-z0-9_.:-]",
).refine((id) => id !== "__proto__", "An id may not be __proto__");

/** Longest wait: 10 years ahead. */
const MAX_AHEAD_MS = 10 * 365 * 86_400_000;

const durationText = z.union([z.number().positive().finite(), z.string().min(1).max(32)]);

/** A time to be due at: ISO-8601 text or epoch milliseconds. */
const instant = z.union([z.iso.datetime({ offset: true }), z.number().int().nonnegative()]);

/** The epoch ms of `{in}` (a duration from `now`) or `{at}`; 400 when both, neither, or too far. */
export function dueTime(when: { in?: string | number; at?: string | number }, now: number): number {
  if ((when.in === undefined) === (when.at === undefined)) {
    throw new ValidationError("Give exactly one of 'in' (a duration) and 'at' (a time)");
  }
  const due = when.in !== undefined
    ? now + parseDuration(when.in)
    : typeof when.at === "number"
    ? when.at
    : Date.parse(when.at!);
  if (!Number.isFinite(due) || due > now + MAX_AHEAD_MS) {
    throw new ValidationError("A due time is at most 10 years ahead");
  }
  return due;
}

/** A deadline: a duration from now (`"30m"`) or an ISO time. */
export function deadlineTime(deadline: string | number, now: number): number {
  if (typeof deadline === "number") return dueTime({ in: deadline }, now);
  if (/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(deadline.trim())) return dueTime({ in: deadline }, now);
  const at = Date.parse(deadline);
  if (!Number.isFinite(at) || !/^\d{4}-\d\d-\d\dT/.test(deadline)) {
    throw new ValidationError(
      `Invalid deadline '${deadline.slice(0, 64)}': a duration like 30m or an ISO time`,
    );
  }
  return dueTime({ at }, now);
}

/** `POST …/timers`. */
export const timerInput = z.object({
  id: recordId.optional(),
  in: durationText.optional(),
  at: instant.optional(),
  action: z.string().min(1).max(64).optional(),
  args: z.unknown().optional(),
  patch: patchOps.optional(),
  data: z.unknown().optional(),
}).strict().refine((t) => !(t.action !== undefined && t.patch !== undefined), {
  message: "A timer runs an action or applies a patch, not both",
});
/** A timer to schedule (`POST …/timers`). */
export interface TimerInput {
  /** Its id in the session; generated when absent. */
  id?: string;
  /** Due after this duration (`"10m"` or ms); give this or `at`. */
  in?: string | number;
  /** Due at this time (ISO-8601 or epoch ms); give this or `in`. */
  at?: string | number;
  /** The kind's action to run when due, with `args`. */
  action?: string;
  /** The action's arguments. */
  args?: unknown;
  /** A JSON Patch to apply when due, instead of an action. */
  patch?: PatchOperation[];
  /** The payload of a bare reminder's `timer.fired` event. */
  data?: unknown;
}
// The patch is checked op by op at run time (`patchOps`), as a patch command's ops are.
const _timerInputMatches: Same<
  Omit<TimerInput, "patch">,
  Omit<z.input<typeof timerInput>, "patch">
> = true;
/** Timer input as parsed. */
export type TimerSpec = z.output<typeof timerInput>;

/** `POST …/approvals` and the `approval` frame. */
export const approvalInput = z.object({
  id: recordId.optional(),
  prompt: z.string().min(1).max(4096),
  options: z.array(z.string().min(1).max(64)).min(1).max(16).optional(),
  deadline: z.union([z.string().min(1).max(64), z.number().positive().finite()]),
  onDeadline: z.string().min(1).max(64).optional(),
  data: z.unknown().optional(),
}).strict();
/** An approval to request (`POST …/approvals`, the `approval` frame, `ctx.requestApproval`). */
export interface ApprovalInput {
  /** Its id in the session; generated when absent. */
  id?: string;
  /** What the person is asked. */
  prompt: string;
  /** The options offered. Default `["approve", "reject"]`. */
  options?: string[];
  /** A duration from now (`"30m"`, or ms) or an ISO time. */
  deadline: string | number;
  /** The option taken when the deadline passes; without it the approval expires. */
  onDeadline?: string;
  /** Free-form context for the person. */
  data?: unknown;
}
const _approvalInputMatches: Same<ApprovalInput, z.input<typeof approvalInput>> = true;
/** Approval input as parsed. */
export type ApprovalSpec = z.output<typeof approvalInput>;

/** `POST …/approvals/:aid/decision` and the `decide` frame. */
export const decisionInput = z.object({
  option: z.string().min(1).max(64),
  by: z.string().min(1).max(128).optional(),
  comment: z.string().max(4096).optional(),
}).strict();
/** A decision (`POST …/approvals/:aid/decision`). */
export interface DecisionInput {
  /** One of the approval's options. */
  option: string;
  /** Who decides. */
  by?: string;
  /** Why. */
  comment?: string;
}
const _decisionInputMatches: Same<DecisionInput, z.input<typeof decisionInput>> = true;
/** Decision input as parsed. */
export type DecisionSpec = z.output<typeof decisionInput>;

const taskSpec = z.object({
  id: recordId,
  title: z.string().min(1).max(1024),
  deps: z.array(recordId).max(256).optional(),
  data: z.unknown().optional(),
  maxAttempts: z.number().int().min(1).max(100).optional(),
}).strict();

/** `POST …/tasks`. */
export const tasksInput = z.object({
  tasks: z.array(taskSpec).min(1).max(500),
  approval: approvalInput.omit({ options: true, onDeadline: true }).optional(),
}).strict();
/** Tasks to add to the plan (`POST …/tasks`), optionally behind an approval. */
export interface TasksInput {
  /** The tasks, 1 to 500 (each is a KV key of the same atomic). */
  tasks: {
    /** Unique in the session. */
    id: string;
    /** What to do. */
    title: string;
    /** Tasks that must be done first. */
    deps?: string[];
    /** Free-form input for the agent. */
    data?: unknown;
    /** Lapsed leases before the task fails. Default 3. */
    maxAttempts?: number;
  }[];
  /** Hold the tasks back until a person approves: `approve` releases them, `reject` drops them. */
  approval?: { id?: string; prompt: string; deadline: string | number; data?: unknown };
}
const _tasksInputMatches: Same<TasksInput, z.input<typeof tasksInput>> = true;
/** Tasks input as parsed. */
export type TasksSpec = z.output<typeof tasksInput>;

const leaseText = z.union([z.number().positive().finite(), z.string().min(1).max(32)]);

/** `POST …/tasks/claim` (HTTP names the agent; a socket's agent comes from its URL). */
export const claimInput = z.object({
  agent: agentName,
  lease: leaseText.optional(),
  task: recordId.optional(),
}).strict();
/** A claim (`POST …/tasks/claim`). */
export interface ClaimInput {
  /** The agent that claims. */
  agent: string;
  /** The lease (`"60s"` or ms). Default 60 s. */
  lease?: string | number;
  /** The task to claim; default the oldest ready one. */
  task?: string;
}
const _claimInputMatches: Same<ClaimInput, z.input<typeof claimInput>> = true;
/** Claim input as parsed. */
export type ClaimSpec = z.output<typeof claimInput>;

/** `POST …/tasks/:tid/heartbeat`. */
export const heartbeatInput = z.object({ agent: agentName, lease: leaseText.optional() }).strict();

/** `POST …/tasks/:tid/complete`. */
export const completeInput = z.object({ agent: agentName, result: z.unknown().optional() })
  .strict();

/** `POST …/tasks/:tid/fail`. */
export const failInput = z.object({ agent: agentName, error: z.string().min(1).max(4096) })
  .strict();

/** How much a conflict can matter, least first. */
export const SEVERITIES = ["low", "medium", "high", "critical"] as const;

/** One finding of a conflict, as recorded and as archived. */
export const findingSchema = z.object({
  agent: agentName,
  result: z.string().min(1).max(256).optional(),
  claim: z.string().min(1).max(4096),
}).strict();

/** `POST …/conflicts`. */
export const conflictInput = z.object({
  id: recordId.optional(),
  entity: z.string().min(1).max(512),
  type: z.string().min(1).max(128),
  findings: z.array(findingSchema).min(2).max(32),
  severity: z.enum(SEVERITIES),
  strategy: z.string().max(256).optional(),
}).strict();
/** A conflict to record (`POST …/conflicts`, `ctx.recordConflict`). */
export interface ConflictInput {
  /** Its id in the session; generated when absent. */
  id?: string;
  /** What the findings are about. */
  entity: string;
  /** What kind of contradiction. */
  type: string;
  /** The findings, 2 to 32. */
  findings: Finding[];
  /** How much it matters. */
  severity: Severity;
  /** How it should be resolved. */
  strategy?: string;
}
const _conflictInputMatches: Same<ConflictInput, z.input<typeof conflictInput>> = true;
/** Conflict input as parsed. */
export type ConflictSpec = z.output<typeof conflictInput>;

/** `POST …/conflicts/:cid/resolve`. */
export const resolveInput = z.object({
  resolution: z.unknown().refine((v) => v !== undefined, "A resolution is required"),
  by: z.string().min(1).max(128).optional(),
}).strict();
/** A resolution (`POST …/conflicts/:cid/resolve`). */
export interface ResolveInput {
  /** The resolution, any JSON. */
  resolution: unknown;
  /** Who resolved it. */
  by?: string;
}
const _resolveInputMatches: Same<ResolveInput, z.input<typeof resolveInput>> = true;
/** Resolve input as parsed. */
export type ResolveSpec = z.output<typeof resolveInput>;

/** A lease duration in ms, from its text or number. */
export function leaseMs(lease: string | number | undefined): number {
  const ms = lease === undefined ? DEFAULT_LEASE_MS : parseDuration(lease);
  if (ms > 7 * 86_400_000) throw new ValidationError("A lease is at most 7 days");
  return ms;
}
