/**
 * The frames of the WebSocket protocol (SPEC §5, and the coordination frames
 * of §9): zod schemas for what a client may send, and the shapes the server
 * sends back. Every client frame is parsed here, strictly, before anything
 * else looks at it. A frame's `id` is always its command id; records the
 * command creates get fresh ids from the session.
 *
 * @module
 */
import { z } from "zod";
import {
  approvalInput,
  claimInput,
  completeInput,
  conflictInput,
  type Coordination,
  decisionInput,
  failInput,
  heartbeatInput,
  recordId,
  timerInput,
} from "../src/coordination/model.ts";
import { agentInput, messageInput, resultInput, updateInput } from "../src/inputs.ts";
import { LIMITS, type Session, utf8Length } from "../src/session.ts";
import { BATCH_MAX } from "../src/batch_message.ts";

/** A command id: what the server dedupes a resent command by. */
const commandId = z.string().min(1).max(128);

const action = z.object({
  t: z.literal("action"),
  id: commandId,
  name: z.string().min(1).max(64),
  args: z.unknown().optional(),
}).strict();

const patch = z.object({
  t: z.literal("patch"),
  id: commandId,
  ops: z.array(z.unknown()),
  ifVersion: z.number().int().min(0).optional(),
}).strict();

const agent = agentInput.extend({ t: z.literal("agent"), id: commandId }).strict();

const message = messageInput.omit({ id: true }).extend({ t: z.literal("message"), id: commandId })
  .strict();

const result = resultInput.omit({ agent: true }).extend({ t: z.literal("result"), id: commandId })
  .strict();

const ping = z.object({ t: z.literal("ping") }).strict();

// Coordination frames (§9). Fields come from the runtime's input schemas, whose cross-field
// rules (a timer's `in` or `at`, an update's one field at least) the runtime checks.

const claim = z.object({
  t: z.literal("claim"),
  id: commandId,
  lease: claimInput.shape.lease,
  task: claimInput.shape.task,
}).strict();

const heartbeat = z.object({
  t: z.literal("heartbeat"),
  id: commandId,
  task: recordId,
  lease: heartbeatInput.shape.lease,
}).strict();

const complete = z.object({
  t: z.literal("complete"),
  id: commandId,
  task: recordId,
  result: completeInput.shape.result,
}).strict();

const fail = z.object({
  t: z.literal("fail"),
  id: commandId,
  task: recordId,
  error: failInput.shape.error,
}).strict();

const decide = z.object({
  t: z.literal("decide"),
  id: commandId,
  approval: recordId,
  option: decisionInput.shape.option,
  comment: decisionInput.shape.comment,
}).strict();

const { id: _approvalId, ...approvalFields } = approvalInput.shape;
const approval = z.object({ t: z.literal("approval"), id: commandId, ...approvalFields }).strict();

const { id: _timerId, ...timerFields } = timerInput.shape;
const timer = z.object({ t: z.literal("timer"), id: commandId, ...timerFields }).strict();

const { id: _conflictId, ...conflictFields } = conflictInput.shape;
const conflict = z.object({ t: z.literal("conflict"), id: commandId, ...conflictFields }).strict();

const update = z.object({ t: z.literal("update"), id: commandId, ...updateInput.shape }).strict();

/** Every frame a client may send. */
export const clientFrame = z.discriminatedUnion("t", [
  action,
  patch,
  agent,
  message,
  result,
  ping,
  claim,
  heartbeat,
  complete,
  fail,
  decide,
  approval,
  timer,
  conflict,
  update,
]);

/** A parsed client frame. */
export type ClientFrame = z.infer<typeof clientFrame>;

/** A client frame that changes the session: it carries an `id` and gets an ack or an error. */
export type CommandFrame = Exclude<ClientFrame, { t: "ping" }>;

/** Why a frame was refused, and the command id to answer when the frame had a usable one. */
export interface FrameProblem {
  code: "invalid" | "too_large";
  message: string;
  id?: string;
}

/** Most frames one batch message may carry (`src/batch_message.ts`). */
export { BATCH_MAX };

/**
 * Parses one incoming message: a frame, or (the batch extension of SPEC §5)
 * a JSON array of 1 to {@linkcode BATCH_MAX} frames, each parsed on its own.
 * Never throws: a bad frame gives a {@linkcode FrameProblem} in its place,
 * and a message that is bad as a whole (binary, over the size limit, not
 * JSON, an empty or oversized batch) gives one problem and no frames.
 *
 * @example
 * ```ts
 * import { parseMessage } from "./ws_frames.ts";
 * const [a, b] = parseMessage('[{"t":"ping"},{"t":"nope"}]');
 * console.log("t" in a ? a.t : a.code, "t" in b ? b.t : b.code); // ping invalid
 * ```
 */
export function parseMessage(data: unknown): (ClientFrame | FrameProblem)[] {
  if (typeof data !== "string") {
    return [{ code: "invalid", message: "Frames are JSON text, not binary" }];
  }
  // UTF-8 takes at most 3 bytes per UTF-16 unit: most frames need no count at all.
  if (
    data.length > LIMITS.frame ||
    (data.length * 3 > LIMITS.frame && utf8Length(data) > LIMITS.frame)
  ) {
    return [{ code: "too_large", message: `Frame is over the limit of ${LIMITS.frame} bytes` }];
  }
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return [{ code: "invalid", message: "Frame is not valid JSON" }];
  }
  if (!Array.isArray(value)) return [frameOf(value)];
  if (value.length === 0 || value.length > BATCH_MAX) {
    return [{ code: "invalid", message: `A batch holds 1 to ${BATCH_MAX} frames` }];
  }
  return value.map(frameOf);
}

/** Validates one parsed frame. */
function frameOf(value: unknown): ClientFrame | FrameProblem {
  const r = clientFrame.safeParse(value);
  if (r.success) return r.data;
  const id = commandId.safeParse((value as { id?: unknown } | null)?.id);
  const issue = r.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at '${issue.path.join(".")}'` : "";
  return {
    code: "invalid",
    message: `Invalid frame${where}: ${issue?.message ?? "unknown shape"}`,
    ...(id.success ? { id: id.data } : {}),
  };
}

/** `{t:"welcome"}`: the snapshot, or after a replay the session without its state. */
export interface WelcomeFrame {
  /** The frame type. */
  t: "welcome";
  /** This connection's id. */
  conn: string;
  /** The snapshot; after a replay, the session without its state. */
  session: Session | Omit<Session, "state">;
  /** Seq of the last event the client has now: live events continue from `seq + 1`. */
  seq: number;
  /** Events replayed before this welcome, when the client asked with `?since`. */
  replayed?: number;
  /**
   * The session's timers, approvals, tasks and conflicts (SPEC §9), with the
   * snapshot when the session has any; absent after a replay.
   */
  coordination?: Coordination;
}

/** Every frame the server sends. */
export type ServerFrame =
  | WelcomeFrame
  | { t: "ack"; id: string; version: number; result?: unknown }
  | { t: "error"; id?: string; code: string; message: string }
  | { t: "event"; seq: number; type: string; agent?: string; data: unknown; at: string }
  | { t: "presence"; agents: string[] }
  | { t: "ping" }
  | { t: "pong" };
