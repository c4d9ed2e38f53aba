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
import type { Runtime } from "../src/runtime.ts";
import type { CommandFrame } from "./ws_frames.ts";

/** What an ack carries besides the command id. */
export interface CommandAck {
  version: number;
  result?: unknown;
}

/**
 * Submits `frame` to session `session` on behalf of `agent` and answers
 * through `reply` once it is durable. Patches, the bulk of the traffic, go
 * straight to the actor's queue (`rt.postPatch`), so the many a socket
 * keeps in flight hold no promise chain each.
 *
 * @example
 * ```ts
 * import { createRuntime } from "../mod.ts";
 * import { startCommand } from "./ws_commands.ts";
 * const rt = await createRuntime({ memory: true, tickMs: 0 });
 * const s = await rt.create("default", { state: {} });
 * startCommand(rt, s.id, "bot", { t: "patch", id: "c1", ops: [{ op: "add", path: "/n", value: 1 }] }, {
 *   resolve: (ack) => console.log(ack.version), // 2
 *   reject: (error) => console.error(error),
 * });
 * ```
 */
export function startCommand(
  rt: Runtime,
  session: string,
  agent: string | undefined,
  frame: CommandFrame,
  reply: Reply<CommandAck>,
): void {
  if (frame.t !== "patch") {
    commandPromise(rt, session, agent, frame).then(reply.resolve, reply.reject);
    return;
  }
  const ops = frame.ops as PatchOperation[]; // checked by the runtime's patchOps schema
  rt.postPatch(session, ops, { ifVersion: frame.ifVersion, id: frame.id, agent }, reply);
}

async function commandPromise(
  rt: Runtime,
  session: string,
  agent: string | undefined,
  frame: Exclude<CommandFrame, { t: "patch" }>,
): Promise<CommandAck> {
  const id = frame.id;
  switch (frame.t) {
    case "action": {
      const r = await rt.action(session, frame.name, frame.args ?? {}, { id, agent });
      return r.result === undefined
        ? { version: r.version }
        : { version: r.version, result: r.result };
    }
    case "agent": {
      if (agent === undefined) {
        throw new ValidationError("Agent frames need an agent name: connect with ?agent=NAME");
      }
      const { t: _t, id: _id, ...input } = frame;
      return await rt.updateAgent(session, agent, input, id);
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
  }
}
