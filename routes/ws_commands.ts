/**
 * Turns a command frame into a runtime call. The call is made synchronously
 * (the runtime queues it before the first `await`), so the commands of one
 * connection reach the actor in the order they arrived, many in flight.
 *
 * @module
 */
import type { TimerInput } from "../src/coordination/model.ts";
import { ValidationError } from "../src/errors.ts";
import type { PatchOperation } from "../src/inputs.ts";
import type { Reply } from "../actors/session_actor.ts";
import type { Runtime } from "../src/runtime.ts";
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
  /**
   * Seq of the last event the connection has sent. The runtime's
   * coordination methods return their record but not their version, so
   * their acks carry this: at ack time the command's events are sent, so it
   * is at least the command's own last seq.
   */
  seen(): number;
}

/**
 * Submits `frame` to the source's session on behalf of its agent and
 * answers through `reply` once it is durable. Patches, the bulk of the
 * traffic, go straight to the actor's queue (`rt.postPatch`), so the many a
 * socket keeps in flight hold no promise chain each.
 *
 * @example
 * ```ts
 * import { createRuntime } from "../mod.ts";
 * import { startCommand } from "./ws_commands.ts";
 * const rt = await createRuntime({ memory: true, tickMs: 0 });
 * const s = await rt.create("default", { state: {} });
 * const source = { session: s.id, agent: "bot", seen: () => 0 };
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
  rt.postPatch(source.session, ops, {
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
  /** An ack for a coordination command: its result, at the seq the connection has reached. */
  const acked = (result?: unknown): CommandAck =>
    result === undefined ? { version: source.seen() } : { version: source.seen(), result };
  switch (frame.t) {
    case "action": {
      const r = await rt.action(session, frame.name, frame.args ?? {}, by);
      return r.result === undefined
        ? { version: r.version }
        : { version: r.version, result: r.result };
    }
    case "agent": {
      const { t: _t, id: _id, ...input } = frame;
      return await rt.updateAgent(session, named(agent, "Agent"), input, id);
    }
    case "message": {
      const { t: _t, id: _id, ...input } = frame;
      const r = await rt.addMessage(session, input, { cmdId: id, agent });
      return { version: r.version, result: { id: r.id } };
    }
    case "result": {
      const { t: _t, id: _id, ...input } = frame;
      const r = await rt.addResult(session, input, { cmdId: id, agent });
      return { version: r.version };
    }
    case "claim": {
      const { t: _t, id: _id, ...input } = frame;
      const task = await rt.claim(session, { ...input, agent: named(agent, "Claim") }, by);
      return acked({ task });
    }
    case "heartbeat": {
      const { t: _t, id: _id, task, ...input } = frame;
      const holder = named(agent, "Heartbeat");
      return acked({ task: await rt.heartbeat(session, task, { ...input, agent: holder }, by) });
    }
    case "complete": {
      const { t: _t, id: _id, task, ...input } = frame;
      const holder = named(agent, "Complete");
      return acked({ task: await rt.completeTask(session, task, { ...input, agent: holder }, by) });
    }
    case "fail": {
      const { t: _t, id: _id, task, ...input } = frame;
      const holder = named(agent, "Fail");
      return acked({ task: await rt.failTask(session, task, { ...input, agent: holder }, by) });
    }
    case "decide": {
      const { t: _t, id: _id, approval, ...input } = frame;
      const decision = agent === undefined ? input : { ...input, by: agent };
      return acked({ approval: await rt.decide(session, approval, decision, by) });
    }
    case "approval": {
      const { t: _t, id: _id, ...input } = frame;
      return acked({ approval: await rt.requestApproval(session, input, by) });
    }
    case "timer": {
      const { t: _t, id: _id, ...input } = frame;
      // The frame's schema gives the patch's parsed type; the runtime parses it again.
      return acked({ timer: await rt.schedule(session, input as TimerInput, by) });
    }
    case "conflict": {
      const { t: _t, id: _id, ...input } = frame;
      return acked({ conflict: await rt.recordConflict(session, input, by) });
    }
    case "update": {
      const { t: _t, id: _id, ...input } = frame;
      await rt.update(session, input, by);
      return acked();
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
