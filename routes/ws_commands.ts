/**
 * Turns a command frame into a runtime call. The call is made synchronously
 * (the runtime queues it before the first `await`), so the commands of one
 * connection reach the actor in the order they arrived, many in flight.
 *
 * @module
 */
import { ValidationError } from "../src/errors.ts";
import type { PatchOperation } from "../src/inputs.ts";
import type { Reply } from "../actors/session_actor.ts";
import { internals, type Runtime } from "../actors/runtime.ts";
import type { CommandFrame } from "./ws_frames.ts";

/** What an ack carries besides the command id. */
export interface CommandAck {
  version: number;
  result?: unknown;
}

/** Where a command comes from. */
export interface CommandSource {
  /** The session the socket is connected to. */
  session: string;
  /** The connection's agent (`?agent=` or the token's), if any. */
  agent?: string;
}

/**
 * Submits `frame` to the source's session on behalf of its agent and
 * answers through `reply` once it is durable. Patches, the bulk of the
 * traffic, go straight to the actor's queue (`postPatch` of the runtime's
 * internals), so the many a
 * socket keeps in flight hold no promise chain each.
 *
 * @example
 * ```ts
 * import { createRuntime } from "../mod.ts";
 * import { startCommand } from "./ws_commands.ts";
 * const rt = await createRuntime({ memory: true, tickMs: 0 });
 * const s = await rt.create("default", { state: {} });
 * const source = { session: s.id, agent: "bot" };
 * startCommand(rt, source, { t: "patch", id: "c1", ops: [{ op: "add", path: "/n", value: 1 }] }, {
 *   resolve: (ack) => console.log(ack.version), // 2
 *   reject: (error) => console.error(error),
 * });
 * ```
 */
export function startCommand(
  rt: Runtime,
  source: CommandSource,
  frame: CommandFrame,
  reply: Reply<CommandAck>,
): void {
  if (frame.t !== "patch") {
    commandPromise(rt, source, frame).then(reply.resolve, reply.reject);
    return;
  }
  const ops = frame.ops as PatchOperation[]; // checked by the runtime's patchOps schema
  internals(rt).postPatch(source.session, ops, {
    ifVersion: frame.ifVersion,
    id: frame.id,
    agent: source.agent,
  }, reply);
}

async function commandPromise(
  rt: Runtime,
  source: CommandSource,
  frame: Exclude<CommandFrame, { t: "patch" }>,
): Promise<CommandAck> {
  const { session, agent } = source;
  const id = frame.id;
  const by = agent === undefined ? { id } : { id, agent };
  const { coordinate } = internals(rt);
  switch (frame.t) {
    case "action": {
      const r = await rt.action(session, frame.name, frame.args ?? {}, by);
      return r.result === undefined
        ? { version: r.version }
        : { version: r.version, result: r.result };
    }
    case "agent": {
      const { t: _t, id: _id, ...input } = frame;
      return await rt.updateAgent(session, named(agent, "Agent"), input, { id });
    }
    case "message": {
      const { t: _t, id: _id, ...input } = frame;
      const r = await rt.addMessage(session, input, by);
      return { version: r.version, result: { id: r.id } };
    }
    case "result": {
      const { t: _t, id: _id, ...input } = frame;
      const r = await rt.addResult(session, input, by);
      return { version: r.version };
    }
    case "claim": {
      const { t: _t, id: _id, ...input } = frame;
      const r = await coordinate(
        session,
        "claim",
        { ...input, agent: named(agent, "Claim") },
        by,
      );
      return { version: r.version, result: { task: r.result } };
    }
    case "heartbeat":
    case "complete":
    case "fail": {
      const { t, id: _id, ...input } = frame;
      const holder = named(agent, t[0].toUpperCase() + t.slice(1));
      const op = t === "complete" ? "completeTask" : t === "fail" ? "failTask" : "heartbeat";
      const r = await coordinate(session, op, { ...input, agent: holder } as never, by);
      return { version: r.version, result: { task: r.result } };
    }
    case "decide": {
      const { t: _t, id: _id, ...input } = frame;
      const decision = agent === undefined ? input : { ...input, by: agent };
      const r = await coordinate(session, "decide", decision, by);
      return { version: r.version, result: { approval: r.result } };
    }
    case "approval": {
      const { t: _t, id: _id, ...input } = frame;
      const r = await coordinate(session, "requestApproval", input, by);
      return { version: r.version, result: { approval: r.result } };
    }
    case "timer": {
      const { t: _t, id: _id, ...input } = frame;
      const r = await coordinate(session, "schedule", input, by);
      return { version: r.version, result: { timer: r.result } };
    }
    case "conflict": {
      const { t: _t, id: _id, ...input } = frame;
      const r = await coordinate(session, "recordConflict", input, by);
      return { version: r.version, result: { conflict: r.result } };
    }
    case "update": {
      const { t: _t, id: _id, ...input } = frame;
      return { version: (await coordinate(session, "update", input, by)).version };
    }
  }
}

/** The connection's agent, which `what` frames need; 400 without one. */
function named(agent: string | undefined, what: string): string {
  if (agent === undefined) {
    throw new ValidationError(`${what} frames need an agent name: connect with ?agent=NAME`);
  }
  return agent;
}
