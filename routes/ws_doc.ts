/**
 * The WebSocket protocol (SPEC §5 and the frames of §9) as the OpenAPI
 * document describes it: a zod schema of every frame the server sends (the
 * client's are `clientFrame` in `ws_frames.ts`), the tables of the upgrade
 * route's description, generated from those schemas, and its
 * `x-websocket` extension. docs/protocol.md says the rest.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { coordinationSchema, sessionSchema, sessionSummarySchema } from "./_responses.ts";
import { CLOSE } from "./ws_connection.ts";
import { type ClientFrame, clientFrame, type ServerFrame } from "./ws_frames.ts";

/** `true` only when `A` and `B` are mutually assignable: keeps the schema in step with the type. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;

const seq = z.number().int().min(0);

/** Every frame the server sends. */
export const serverFrame = z.discriminatedUnion("t", [
  z.object({
    t: z.literal("welcome"),
    conn: z.string(),
    session: z.union([sessionSchema, sessionSummarySchema]).openapi({
      description: "The snapshot; after a replay, the session without its state",
    }),
    seq,
    replayed: z.number().int().min(0).optional(),
    coordination: coordinationSchema.optional(),
  }),
  z.object({
    t: z.literal("ack"),
    id: z.string(),
    version: seq,
    result: z.unknown().optional(),
  }),
  z.object({
    t: z.literal("error"),
    id: z.string().optional(),
    code: z.string(),
    message: z.string(),
  }),
  z.object({
    t: z.literal("event"),
    seq,
    type: z.string(),
    agent: z.string().optional(),
    data: z.unknown(),
    at: z.string(),
  }),
  z.object({ t: z.literal("presence"), agents: z.array(z.string()) }),
  z.object({ t: z.literal("ping") }),
  z.object({ t: z.literal("pong") }),
]);
const _serverFrame: Same<ServerFrame, z.output<typeof serverFrame>> = true;

const CLIENT: Record<ClientFrame["t"], string> = {
  action: "runs the kind's action `name`; the ack's `result` is what it returned",
  patch: "applies RFC 6902 `ops` to the state, all or none; with `ifVersion`, only at that version",
  agent: "sets this connection's agent entry",
  message: "appends a message; the ack's `result` is `{id}`",
  result: "records a result under `key` for this agent",
  ping: "asks for a `pong` (no ack)",
  claim: "claims the oldest ready task, or the one named; the ack's `result` is `{task}`",
  heartbeat: "extends this agent's lease on `task`",
  complete: "ends this agent's `task` as done; its dependants become ready",
  fail: "ends this agent's `task` as failed",
  decide: "decides `approval` with `option`",
  approval: "asks a person to choose before `deadline`; the ack's `result` is `{approval}`",
  timer: "schedules a durable timer; the ack's `result` is `{timer}`",
  conflict: "records a conflict between findings; the ack's `result` is `{conflict}`",
  update: "changes the session's metadata",
};

const SERVER: Record<ServerFrame["t"], string> = {
  welcome: "once per connection, first (after a `?since` replay): the snapshot and its seq",
  event: "every committed change of the session, in seq order; state changes carry `ops`",
  ack: "a command was committed; `version` is the seq of its own last event",
  error: "a command or a frame was refused; `id` when the frame had a usable one",
  presence: "the agents connected to the session",
  ping: "the client has been silent for 60 s",
  pong: "the answer to a client's `ping`",
};

const CLOSES: Record<keyof typeof CLOSE, string> = {
  idle: "silent for 5 minutes: reconnect if still needed",
  gone: "the session is gone: stop",
  behind: "too far behind (over 1,000 frames queued) or an event gap: reconnect with `since`",
  failed: "the welcome failed on the server's side: retry",
  flood: "flooding after `rate_limited` errors: slow down, then reconnect",
  restart: "the server is shutting down: reconnect",
};

/** A frame's fields, its command `id` first, `?` after the optional ones. */
function fields(frame: z.ZodObject): string {
  const names = Object.keys(frame.shape).filter((name) => name !== "t");
  names.sort((a, b) => Number(b === "id") - Number(a === "id"));
  return names
    .map((name) => (frame.shape[name] as z.ZodType)._zod.optin === "optional" ? `${name}?` : name)
    .join(", ") || "(none)";
}

function table(
  frames: readonly z.ZodObject[],
  does: Record<string, string>,
): string {
  const rows = frames.map((f) => {
    const t = (f.shape.t as z.ZodLiteral<string>).value;
    return `| \`${t}\` | ${fields(f)} | ${does[t]} |`;
  });
  return ["| `t` | fields | does |", "| --- | --- | --- |", ...rows].join("\n");
}

/** The upgrade route's description: the protocol, with a table of the frames each way. */
export const WS_DESCRIPTION = [
  "Upgrades to a WebSocket that speaks JSON text frames, each an object with a type field `t` " +
  "(SPEC §5; every detail is in docs/protocol.md). Everything that can be checked is checked " +
  "before the upgrade and answered as JSON. A browser passes its token as the subprotocol " +
  "`bearer.<token>`.",
  "Every client frame but `ping` is a command: it carries a command `id` and gets exactly one " +
  "`ack` or one `error` with that id; a resent id is answered with the first result. With " +
  "`?batch=1` the server may send several frames as one JSON array, and a client may always " +
  "send an array of up to 1,000 frames.",
  "**Client → server** (schema `ClientFrame`)",
  table(clientFrame.options as readonly z.ZodObject[], CLIENT),
  "**Server → client** (schema `ServerFrame`)",
  table(serverFrame.options as readonly z.ZodObject[], SERVER),
  "**Close codes**: " +
  Object.entries(CLOSE).map(([name, code]) => `${code} ${CLOSES[name as keyof typeof CLOSE]}`)
    .join("; ") +
  ".",
].join("\n\n");

/** The route's `x-websocket` extension: the frame schemas by reference, and the close codes. */
export const WS_EXTENSION = {
  subprotocol: "bearer.<token>: the token, for browsers, which cannot set Authorization",
  clientFrame: { $ref: "#/components/schemas/ClientFrame" },
  serverFrame: { $ref: "#/components/schemas/ServerFrame" },
  batch: "a message may be a JSON array of 1 to 1,000 frames (from the server with ?batch=1)",
  maxMessageBytes: 1024 * 1024,
  closeCodes: Object.fromEntries(
    Object.entries(CLOSE).map(([name, code]) => [code, CLOSES[name as keyof typeof CLOSE]]),
  ),
};
