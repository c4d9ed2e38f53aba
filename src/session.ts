/**
 * The session model of SPEC §1: fields, statuses, the lifecycle table and the
 * limits. Pure data and rules; storage lives in `src/hot` and `src/history`.
 *
 * @module
 */
import { z } from "zod";
import { utf8Length } from "./batch_message.ts";
import { TooLargeError, TransitionError, ValidationError } from "./errors.ts";

export { utf8Length };

/** Where a session is in its lifecycle. */
export type Status = "active" | "paused" | "completed" | "failed" | "expired" | "archived";

/** Every status, in lifecycle order. */
export const STATUSES: readonly Status[] = [
  "active",
  "paused",
  "completed",
  "failed",
  "expired",
  "archived",
];

/** Statuses whose hot state has left KV and which are served from SQL. */
export const TERMINAL: ReadonlySet<Status> = new Set([
  "completed",
  "failed",
  "expired",
  "archived",
]);

/** One agent's view of its own work inside a session. */
export interface AgentState {
  /** Free-form status, such as `working` or `done`. */
  status: string;
  /** Progress from 0 to 1. */
  progress: number;
  /** What the agent is doing. */
  task?: string;
  /** The agent's last error. */
  error?: string;
  /** When the agent last reported, ISO-8601. */
  updatedAt: string;
}

/** Time-to-live settings in milliseconds. */
export interface Ttl {
  /** How long an active session lives without a command. */
  active: number;
  /** How long a paused session lives. */
  paused: number;
}

/** Where a forked or imported session came from. */
export interface Origin {
  /** The source session's id. */
  session: string;
  /** The source's version that was copied. */
  version: number;
  /** The checkpoint forked from, when there was one. */
  checkpoint?: string;
}

/** A session as users, agents and tests see it. */
export interface Session {
  /** Unique id, matching {@linkcode ID_PATTERN}. */
  id: string;
  /** The session kind's name. */
  kind: string;
  /** Display name. */
  name?: string;
  /** Free-form labels. */
  tags: string[];
  /** Free-form metadata. */
  meta: Record<string, unknown>;
  /** Where the session is in its lifecycle. */
  status: Status;
  /** Free-form phase (`planning`, `executing`, …). */
  phase: string;
  /** The state, valid against the kind's schema. */
  state: Record<string, unknown>;
  /** Each agent's own view of its work, by agent name. */
  agents: Record<string, AgentState>;
  /** Overall progress from 0 to 1. */
  progress: number;
  /** Approvals waiting for a decision (SPEC §9.2). */
  pendingApprovals: number;
  /** Conflicts not yet resolved (SPEC §9.4). */
  openConflicts: number;
  /** Seq of the last committed event. */
  version: number;
  /** Time-to-live settings. */
  ttl: Ttl;
  /** ISO-8601 creation time. */
  createdAt: string;
  /** ISO-8601 time of the last committed event. */
  updatedAt: string;
  /** ISO-8601 time the session completed, failed or expired. */
  completedAt?: string;
  /** ISO-8601 time after which the session reads as expired. */
  expiresAt: string;
  /** The report given to `complete`. */
  report?: unknown;
  /** The error given to `fail`. */
  error?: string;
  /** Where a forked or imported session came from. */
  origin?: Origin;
  /** Path of the archive file, once archived. */
  archive?: string;
}

/** One committed change. `seq` is per session, from 1, with no gap. */
export interface SessionEvent {
  /** The session's id. */
  sessionId: string;
  /** Position in the session's log, from 1. */
  seq: number;
  /** What happened, such as `patch`, `message` or `paused`. */
  type: string;
  /** The agent that sent the command, when known. */
  agent?: string;
  /** The event's payload; its shape depends on `type`. */
  data: unknown;
  /** ISO-8601 commit time. */
  at: string;
}

/**
 * Where an event keeps its JSON, made once however many need it (the batch's
 * budget, the outbox, every socket): a non-enumerable symbol property, which
 * `JSON.stringify`, spreads and structured clones leave out, so a copy never
 * carries its original's text. (A WeakMap did the same, but its entries are
 * cleared only by full GCs: under figure 2's load their number made those
 * pauses four times longer, up to 73 ms.)
 */
const JSON_TEXT = Symbol("json");

/** The JSON of `e`, made on first use: an event is not changed once emitted. */
export function eventJson(e: SessionEvent): string {
  const cached = (e as SessionEvent & { [JSON_TEXT]?: string })[JSON_TEXT];
  if (cached !== undefined) return cached;
  const json = JSON.stringify(e);
  if (Object.isExtensible(e)) Object.defineProperty(e, JSON_TEXT, { value: json });
  return json;
}

/** Limits of SPEC §1, in bytes of UTF-8 JSON. */
export const LIMITS = {
  state: 512 * 1024,
  message: 1024 * 1024,
  resultInline: 1024 * 1024,
  result: 64 * 1024 * 1024,
  frame: 1024 * 1024,
  /** Name, tags, meta and agents live in the head key, which KV caps at 64 KiB. */
  meta: 16 * 1024,
  agents: 128,
  tags: 64,
} as const;

/** The id rule: anything else is rejected, never turned into a path. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** zod schema for a session id. */
export const sessionId = z.string().regex(ID_PATTERN, "Id must match ^[A-Za-z0-9_-]{1,128}$");

/** Throws a 400 unless `id` is a valid session id. */
export function assertId(id: string): string {
  if (!ID_PATTERN.test(id)) {
    throw new ValidationError(`Invalid session id '${id.slice(0, 140)}'`, {
      pattern: ID_PATTERN.source,
    });
  }
  return id;
}

/** The transitions of SPEC §1 that a caller can ask for. */
export type Transition = "pause" | "resume" | "complete" | "fail" | "expire" | "archive";

const ALLOWED: Record<Transition, readonly Status[]> = {
  pause: ["active"],
  resume: ["paused"],
  complete: ["active", "paused"],
  fail: ["active", "paused"],
  expire: ["active", "paused"],
  archive: ["completed", "failed", "expired"],
};

const TARGET: Record<Transition, Status> = {
  pause: "paused",
  resume: "active",
  complete: "completed",
  fail: "failed",
  expire: "expired",
  archive: "archived",
};

/** Returns the status `t` leads to from `from`, or throws 409 naming the current status. */
export function transition(id: string, from: Status, t: Transition): Status {
  if (ALLOWED[t].includes(from)) return TARGET[t];
  if (t === "resume" && TERMINAL.has(from)) {
    throw new TransitionError(`Cannot resume ${from} session`, { id, status: from });
  }
  throw new TransitionError(`Cannot ${t} session '${id}': it is ${from}`, { id, status: from });
}

/** Throws 409 unless the session takes commands (active, or paused for agent and message updates). */
export function assertWritable(id: string, status: Status): void {
  if (status === "active" || status === "paused") return;
  throw new TransitionError(`Session '${id}' is ${status}`, { id, status });
}

/** UTF-8 byte length of the JSON form of `value`. */
export function jsonBytes(value: unknown): number {
  const s = JSON.stringify(value);
  return s === undefined ? 0 : utf8Length(s);
}

/** Throws 413 when `bytes` is over `limit`. */
export function assertSize(what: string, bytes: number, limit: number): void {
  if (bytes > limit) {
    throw new TooLargeError(`${what} is ${bytes} bytes, over the limit of ${limit}`, {
      bytes,
      limit,
    });
  }
}

/** Mean of the agents' progress, 0 when there are none. */
export function meanProgress(agents: Record<string, AgentState>): number {
  const values = Object.values(agents);
  if (values.length === 0) return 0;
  return values.reduce((sum, a) => sum + a.progress, 0) / values.length;
}

/** Default TTLs of SPEC §1. */
export const DEFAULT_TTL: Ttl = { active: 24 * 3_600_000, paused: 7 * 24 * 3_600_000 };
