/**
 * zod schemas for everything read back from an archive: the session, each
 * jsonl row and the manifest. Free-form JSON (state, meta, event data) is
 * checked for its kind only and passed through untouched.
 *
 * @module
 */
import { z } from "zod";
import { ValidationError } from "../errors.ts";
import { sessionId, STATUSES } from "../session.ts";
import type { Session, SessionEvent } from "../session.ts";
import type { Checkpoint, Message, ResultRow } from "../history/history_store.ts";
import { FORMAT_VERSION, isBlobName } from "./archive_format.ts";
import type { ArchiveManifest } from "./archive_format.ts";

const jsonObject = z.custom<Record<string, unknown>>(
  (v) => typeof v === "object" && v !== null && !Array.isArray(v),
  "Expected a JSON object",
);
const jsonValue = z.custom<unknown>((v) => v !== undefined, "Expected a JSON value");
const timestamp = z.iso.datetime();
const seq = z.number().int().min(1);
const name = z.string().min(1).max(1024);

const agentState = z.object({
  status: z.string(),
  progress: z.number().min(0).max(1),
  task: z.string().optional(),
  error: z.string().optional(),
  updatedAt: timestamp,
}).strict();

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
  agents: z.record(name, agentState),
  progress: z.number().min(0).max(1),
  pendingApprovals: z.number().int().min(0).default(0), // archives of format 1 lack the counts
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

/** One line of `checkpoints.jsonl`. */
export const checkpointSchema: z.ZodType<Checkpoint> = z.object({
  id: name,
  seq,
  version: z.number().int().min(0),
  label: z.string().optional(),
  final: z.boolean(),
  state: jsonObject,
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

/** `manifest.json`. */
export const manifestSchema: z.ZodType<ArchiveManifest> = z.object({
  format: z.literal(FORMAT_VERSION),
  session: sessionId,
  files: z.record(
    z.string(),
    z.object({
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      bytes: z.number().int().min(0),
    }).strict(),
  ),
}).strict();

/**
 * Parses `value` with `schema`, or throws a 400 naming `where` and the first issue.
 *
 * @example
 * ```ts
 * const event = parseArchiveValue(eventSchema, JSON.parse(line), "events.jsonl line 3");
 * ```
 */
export function parseArchiveValue<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
  throw new ValidationError(`Archive ${where} is invalid${path}: ${issue?.message}`, {
    issues: parsed.error.issues,
  });
}
