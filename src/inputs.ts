/**
 * zod schemas for everything that enters from outside: library calls, route
 * bodies and WebSocket frames share them. Inputs are `.strict()`; defaults
 * live here.
 *
 * @module
 */
import { z } from "zod";
import type { Operation } from "fast-json-patch";
import { type Duration, parseDuration } from "./duration.ts";
import { ValidationError } from "./errors.ts";
import { LIMITS, sessionId } from "./session.ts";

/** `true` only when `A` and `B` are mutually assignable: keeps the input interfaces in step with their schemas. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;

const jsonObject = z.record(z.string(), z.unknown());
/** Longest TTL: 100 years, so that every `expiresAt` is a valid date. */
const MAX_TTL_MS = 100 * 365 * 86_400_000;
const duration = z.union([z.number().positive().finite(), z.string().max(32)]).refine((d) => {
  try {
    return parseDuration(d) <= MAX_TTL_MS;
  } catch {
    return false;
  }
}, "A TTL is a duration like 90s, 5m, 24h or 7d, of at most 100 years");
const agentName = z.string().regex(
  /^[A-Za-z0-9_.:@-]{1,128}$/,
  "Agent names are 1-128 of [A-Za-z0-9_.:@-]",
);

/** `POST /v1/sessions`. */
export const createInput = z.object({
  kind: z.string().min(1).max(64).optional(),
  id: sessionId.optional(),
  name: z.string().max(256).optional(),
  state: jsonObject.optional(),
  tags: z.array(z.string().min(1).max(64)).max(LIMITS.tags).optional(),
  meta: jsonObject.optional(),
  phase: z.string().min(1).max(128).optional(),
  ttl: z.object({ active: duration.optional(), paused: duration.optional() }).strict().optional(),
}).strict();
/** Options of `create`: what `POST /v1/sessions` accepts. */
export interface CreateInput {
  /** The session kind. Default `default`. */
  kind?: string;
  /** The session id; generated when absent. */
  id?: string;
  /** A display name, at most 256 characters. */
  name?: string;
  /** The initial state; the kind's schema fills in its defaults. */
  state?: Record<string, unknown>;
  /** Free-form labels, at most 64. */
  tags?: string[];
  /** Free-form metadata. */
  meta?: Record<string, unknown>;
  /** The initial free-form phase. */
  phase?: string;
  /** TTLs that override the kind's. */
  ttl?: { active?: Duration; paused?: Duration };
}
const _createInputMatches: Same<CreateInput, z.output<typeof createInput>> = true;

/** `PATCH /v1/sessions/:id` and the `update` frame: a JSON merge of the metadata. */
export const updateInput = z.object({
  name: z.string().max(256).nullable().optional(),
  tags: z.array(z.string().min(1).max(64)).max(LIMITS.tags).optional(),
  meta: jsonObject.optional(),
  phase: z.string().min(1).max(128).optional(),
}).strict().refine(
  (u) => Object.keys(u).length > 0,
  "Give at least one of name, tags, meta, phase",
);
/** What `update` changes: `name` (null removes it), `tags` (replaced), `meta` (merged: a null value removes its key), `phase`. */
export interface UpdateInput {
  /** The new display name; null removes it. */
  name?: string | null;
  /** The new tags, replacing the old. */
  tags?: string[];
  /** Merged into the metadata (RFC 7386): a null value removes its key. */
  meta?: Record<string, unknown>;
  /** The new phase. */
  phase?: string;
}
const _updateInputMatches: Same<UpdateInput, z.output<typeof updateInput>> = true;

/** `PUT …/agents/:agent` and the `agent` frame. */
export const agentInput = z.object({
  status: z.string().min(1).max(64),
  progress: z.number().min(0).max(1).optional(),
  task: z.string().max(4096).optional(),
  error: z.string().max(4096).optional(),
}).strict();
/** An agent's update. */
export interface AgentInput {
  /** Free-form status, such as `working` or `done`. */
  status: string;
  /** Progress from 0 to 1. */
  progress?: number;
  /** What the agent is doing. */
  task?: string;
  /** The agent's last error. */
  error?: string;
}
const _agentInputMatches: Same<AgentInput, z.output<typeof agentInput>> = true;

/** `POST …/messages` and the `message` frame. */
export const messageInput = z.object({
  id: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/).optional(),
  role: z.string().min(1).max(64),
  content: z.string(),
  meta: jsonObject.optional(),
}).strict();
/** A message to append. */
export interface MessageInput {
  /** A client-given id; generated when absent. */
  id?: string;
  /** Who speaks, such as `user` or `assistant`. */
  role: string;
  /** The message text. */
  content: string;
  /** Free-form metadata. */
  meta?: Record<string, unknown>;
}
const _messageInputMatches: Same<MessageInput, z.output<typeof messageInput>> = true;

/** `POST …/results` and the `result` frame. */
export const resultInput = z.object({
  agent: agentName.optional(),
  key: z.string().min(1).max(256),
  data: z.unknown(),
  partial: z.boolean().optional(),
}).strict();
/** An agent result. */
export interface ResultInput {
  /** The agent that produced it. */
  agent?: string;
  /** What the result is about; `latest` reads keep the newest per agent and key. */
  key: string;
  /** Any JSON value, up to 64 MiB; over 1 MiB it goes to the blob store. */
  data: unknown;
  /** True for an intermediate result. */
  partial?: boolean;
}
const _resultInputMatches: Same<ResultInput, z.output<typeof resultInput>> = true;

/**
 * One RFC 6902 operation as callers pass it. Its shape is checked at run time
 * by {@linkcode patchOps}, so any fast-json-patch `Operation` fits.
 */
export interface PatchOperation {
  /** `add`, `remove`, `replace`, `move`, `copy` or `test`. */
  op: string;
  /** JSON pointer to the target. */
  path: string;
  /** The value of `add`, `replace` and `test`. */
  value?: unknown;
  /** JSON pointer to the source of `move` and `copy`. */
  from?: string;
}

const pointer = z.string().max(4096).refine((p) => p === "" || p.startsWith("/"), {
  message: "A JSON pointer is empty or starts with /",
}).refine(prototypeFree, {
  message: "A JSON pointer may not name __proto__ or constructor/prototype",
});

/** fast-json-patch refuses `__proto__` and `constructor/prototype` segments: reject them as input. */
function prototypeFree(p: string): boolean {
  // Neither name has a `~` or `/` to escape, so a pointer that names one spells it out.
  if (!p.includes("__proto__") && !p.includes("prototype")) return true;
  const keys = p.split("/").map((k) => k.replaceAll("~1", "/").replaceAll("~0", "~"));
  return keys.every((k, i) =>
    k !== "__proto__" && !(k === "prototype" && keys[i - 1] === "constructor")
  );
}

/**
 * One RFC 6902 operation. Members an operation does not define are ignored
 * (RFC 6902 §4), so they are stripped, not refused.
 */
export const patchOp = z.discriminatedUnion("op", [
  z.object({ op: z.literal("add"), path: pointer, value: z.unknown() }),
  z.object({ op: z.literal("replace"), path: pointer, value: z.unknown() }),
  z.object({ op: z.literal("test"), path: pointer, value: z.unknown() }),
  z.object({ op: z.literal("remove"), path: pointer }),
  z.object({ op: z.literal("move"), path: pointer, from: pointer }),
  z.object({ op: z.literal("copy"), path: pointer, from: pointer }),
]);

/** A JSON Patch document: up to 10,000 operations; an empty one is valid and changes nothing. */
export const patchOps = z.array(patchOp).max(10_000).transform((ops) => {
  for (const op of ops) {
    if ((op.op === "add" || op.op === "replace" || op.op === "test") && op.value === undefined) {
      throw new ValidationError(`Op '${op.op}' at '${op.path}' needs a value`);
    }
  }
  return ops as Operation[];
});

/** `GET /v1/sessions` query. */
export const listInput = z.object({
  status: z.enum(["active", "paused", "completed", "failed", "expired", "archived"]).optional(),
  kind: z.string().max(64).optional(),
  tag: z.string().max(64).optional(),
  agent: z.string().max(128).optional(),
  q: z.string().max(512).optional(),
  createdAfter: z.iso.datetime().optional(),
  createdBefore: z.iso.datetime().optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().max(512).optional(),
}).strict();

/** Parses `value` with `schema`, throwing a 400 that carries zod's issues. */
export function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new ValidationError(`Invalid ${what}`, r.error.issues);
  return r.data;
}

export { agentName };
