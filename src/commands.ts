/**
 * The commands of SPEC §3–§5 as functions of a {@linkcode Turn}. Input is
 * validated before a command is built (see `inputs.ts`); a command checks
 * only what depends on the session's current state.
 *
 * @module
 */
import jsonpatch, { type Operation } from "fast-json-patch";
import type { Turn } from "../actors/turn.ts";
import type { Command } from "../actors/session_actor.ts";
import { iso } from "./clock.ts";
import {
  ConflictError,
  NotFoundError,
  PreconditionError,
  SessionNotFoundError,
  TransitionError,
  ValidationError,
} from "./errors.ts";
import type { ActionContext, SessionKind } from "./kind.ts";
import type { AgentInput, CreateInput, MessageInput, ResultInput } from "./inputs.ts";
import {
  assertSize,
  assertWritable,
  LIMITS,
  type Origin,
  type Session,
  type Transition,
  transition,
  utf8Length,
} from "./session.ts";

/** Fails with 404 unless the session exists, and with 409 if it no longer takes commands. */
function writable(turn: Turn, opts: { paused: boolean }): void {
  if (!turn.exists) throw new SessionNotFoundError(turn.id);
  const status = turn.head.status;
  if (status === "paused" && !opts.paused) {
    throw new TransitionError(`Session '${turn.id}' is paused; resume it first`, {
      id: turn.id,
      status,
    });
  }
  assertWritable(turn.id, status);
}

/** Creates the session; 409 when the id is taken. */
export function createCommand(
  input: CreateInput & { id: string },
  kind: SessionKind,
  ttl: { active: number; paused: number },
  origin?: Origin,
): Command<void> {
  return {
    apply(turn) {
      if (turn.exists) throw new ConflictError(`Session '${input.id}' already exists`);
      const parsed = kind.state.safeParse(input.state ?? {});
      if (!parsed.success) {
        throw new ValidationError(`State does not match kind '${kind.kind}'`, parsed.error.issues);
      }
      const state = parsed.data as Record<string, unknown>;
      const bytes = utf8Length(JSON.stringify(state));
      assertSize("State", bytes, LIMITS.state);
      const at = turn.at;
      turn.kind = kind;
      turn.exists = true;
      turn.state = state;
      turn.stateBytes = bytes;
      turn.snapshot = true;
      turn.head = {
        ...turn.head,
        kind: kind.kind,
        tags: input.tags ?? [],
        meta: input.meta ?? {},
        phase: input.phase ?? "init",
        ttl,
        createdAt: at,
        updatedAt: at,
        expiresAt: iso(turn.now + ttl.active),
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(origin ? { origin } : {}),
      };
      const { name, tags, meta, phase } = turn.head;
      turn.emit("created", { kind: kind.kind, name, tags, meta, phase, ttl, origin, state });
    },
  };
}

/** Runs a kind's action on a draft of the state. */
export function actionCommand(
  name: string,
  args: unknown,
  opts: { id?: string; agent?: string } = {},
): Command<unknown> {
  return {
    id: opts.id,
    apply(turn) {
      writable(turn, { paused: false });
      const kind = turn.kind!;
      const def = Object.hasOwn(kind.actions, name) ? kind.actions[name] : undefined;
      if (!def) throw new NotFoundError(`Action '${name}' not found on kind '${kind.kind}'`);
      const parsed = def.args.safeParse(args ?? {});
      if (!parsed.success) {
        throw new ValidationError(`Invalid arguments for action '${name}'`, parsed.error.issues);
      }
      const emitted: [string, unknown][] = [];
      let phase: string | undefined;
      let result: unknown;
      const session = turn.head;
      const ops = turn.mutate((draft) => {
        const ctx: ActionContext<Record<string, unknown>> = {
          state: draft,
          session,
          agent: opts.agent,
          now: turn.now,
          emit: (type, data) => void emitted.push([String(type), toJson(data)]),
          setPhase: (p) => void (phase = String(p)),
        };
        const out = def.run(ctx, parsed.data);
        if (out instanceof Promise) {
          throw new ValidationError(
            `Action '${name}' returned a promise: actions run synchronously inside the turn`,
          );
        }
        result = toJson(out);
      });
      if (phase !== undefined) turn.head = { ...turn.head, phase };
      const data: Record<string, unknown> = { name, args: parsed.data, ops };
      if (result !== undefined) data.result = result;
      turn.emit("action", data, opts.agent);
      for (const [type, d] of emitted) turn.emit(type, d, opts.agent);
      return result;
    },
  };
}

/** Applies RFC 6902 ops atomically: all or none. */
export function patchCommand(
  ops: Operation[],
  opts: { id?: string; agent?: string; ifVersion?: number } = {},
): Command<void> {
  return {
    id: opts.id,
    apply(turn) {
      writable(turn, { paused: false });
      if (opts.ifVersion !== undefined && opts.ifVersion !== turn.head.version) {
        throw new PreconditionError(opts.ifVersion, turn.head.version);
      }
      let recorded: Operation[];
      try {
        if (ops.some((op) => op.path === "" || ("from" in op && op.from === ""))) {
          const next = jsonpatch.applyPatch(structuredClone(turn.state), ops, true, true)
            .newDocument;
          if (typeof next !== "object" || next === null || Array.isArray(next)) {
            throw new ValidationError("State must stay a JSON object");
          }
          recorded = turn.replace(next as Record<string, unknown>);
        } else {
          recorded = turn.patch(ops);
        }
      } catch (error) {
        throw patchError(error);
      }
      turn.emit("patch", { ops: recorded }, opts.agent);
    },
  };
}

function patchError(error: unknown): unknown {
  if (!(error instanceof jsonpatch.JsonPatchError)) return error;
  const detail = { op: error.index, reason: error.name };
  if (error.name === "TEST_OPERATION_FAILED") {
    return new ConflictError(`Patch test failed at op ${error.index}`);
  }
  return new ValidationError(`Invalid patch: ${error.message.split("\n")[0]}`, detail);
}

/** Sets one agent's entry. */
export function agentCommand(agent: string, input: AgentInput, id?: string): Command<void> {
  return {
    id,
    apply(turn) {
      writable(turn, { paused: true });
      const entry = {
        status: input.status,
        progress: input.progress ?? turn.head.agents[agent]?.progress ?? 0,
        updatedAt: turn.at,
        ...(input.task !== undefined ? { task: input.task } : {}),
        ...(input.error !== undefined ? { error: input.error } : {}),
      };
      turn.setAgent(agent, entry);
      turn.emit("agent", { name: agent, ...entry }, agent);
    },
  };
}

/** Appends a conversation message; returns its id. */
export function messageCommand(
  input: MessageInput & { id: string },
  opts: { cmdId?: string; agent?: string } = {},
): Command<{ id: string }> {
  return {
    id: opts.cmdId,
    apply(turn) {
      writable(turn, { paused: true });
      assertSize("Message", utf8Length(JSON.stringify(input)), LIMITS.message);
      turn.emit("message", input, opts.agent);
      return { id: input.id };
    },
  };
}

/** Records an agent result (inline data, or a blob key for large data). */
export function resultCommand(
  input: Omit<ResultInput, "data"> & { data?: unknown; blob?: string; bytes: number },
  opts: { cmdId?: string; agent?: string } = {},
): Command<void> {
  return {
    id: opts.cmdId,
    apply(turn) {
      writable(turn, { paused: true });
      const agent = input.agent ?? opts.agent;
      turn.emit("result", { ...input, partial: input.partial ?? false, agent }, agent);
    },
  };
}

/** Takes a checkpoint of the current state; returns its id. */
export function checkpointCommand(
  cpId: string,
  label?: string,
  id?: string,
): Command<{ checkpoint: string }> {
  return {
    id,
    apply(turn) {
      writable(turn, { paused: true });
      checkpoint(turn, cpId, label ?? "manual", false);
      return { checkpoint: cpId };
    },
  };
}

function checkpoint(turn: Turn, cpId: string, label: string, final: boolean): void {
  turn.emit("checkpoint", {
    id: cpId,
    label,
    version: turn.head.version,
    state: turn.state,
    final,
  });
}

/** Replaces the state with a checkpoint's, as a new version with a `restored` event. */
export function restoreCommand(
  cp: { id: string; version: number; state: Record<string, unknown> },
  id?: string,
): Command<void> {
  return {
    id,
    apply(turn) {
      writable(turn, { paused: false });
      const ops = turn.replace(structuredClone(cp.state));
      turn.emit("restored", { checkpoint: cp.id, from: cp.version, ops });
    },
  };
}

/** A lifecycle transition of SPEC §1. `cpId` names the checkpoint pause and the terminal moves take. */
export function lifecycleCommand(
  t: Exclude<Transition, "archive">,
  opts: { cpId: string; report?: unknown; error?: string; id?: string },
): Command<void> {
  return {
    id: opts.id,
    apply(turn) {
      if (!turn.exists) throw new SessionNotFoundError(turn.id);
      if (t === "expire" && turn.now <= Date.parse(turn.head.expiresAt)) return;
      const status = transition(turn.id, turn.head.status, t);
      const at = turn.at;
      switch (t) {
        case "pause":
          checkpoint(turn, opts.cpId, "pause", false);
          turn.head = { ...turn.head, status, expiresAt: iso(turn.now + turn.head.ttl.paused) };
          turn.emit("paused", {});
          return;
        case "resume":
          turn.head = { ...turn.head, status, expiresAt: iso(turn.now + turn.head.ttl.active) };
          turn.emit("resumed", {});
          return;
        default: {
          checkpoint(turn, opts.cpId, "final", true);
          turn.head = { ...turn.head, status, completedAt: at };
          if (t === "fail") turn.head = { ...turn.head, error: opts.error };
          turn.terminal = true;
          turn.report = opts.report;
          const data = t === "complete"
            ? { report: opts.report ?? null }
            : t === "fail"
            ? { error: opts.error }
            : {};
          turn.emit(status, data);
        }
      }
    },
  };
}

/** JSON form of an action's value: what a client will see, and what is stored. */
function toJson(value: unknown): unknown {
  if (value === undefined) return undefined;
  const s = JSON.stringify(value);
  return s === undefined ? undefined : JSON.parse(s);
}

/**
 * Installs an imported active or paused session in KV at its own version,
 * without new events: its history was written to SQL by the importer.
 */
export function installCommand(session: Session, kind: SessionKind): Command<void> {
  return {
    apply(turn) {
      if (turn.exists) throw new ConflictError(`Session '${session.id}' already exists`);
      const { state, report: _r, ...rest } = session;
      turn.kind = kind;
      turn.exists = true;
      turn.state = state;
      turn.stateBytes = utf8Length(JSON.stringify(state));
      turn.snapshot = true;
      turn.force = true;
      turn.head = { ...turn.head, ...rest };
    },
  };
}
