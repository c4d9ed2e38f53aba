/**
 * The commands of SPEC §3–§5 as functions of a {@linkcode Turn}. Input is
 * validated before a command is built (see `inputs.ts`); a command checks
 * only what depends on the session's current state.
 *
 * @module
 */
import jsonpatch, { type Operation } from "fast-json-patch";
import type { Turn } from "./turn.ts";
import type { Command } from "./session_actor.ts";
import { iso } from "../src/clock.ts";
import {
  ConflictError,
  NotFoundError,
  PreconditionError,
  SessionNotFoundError,
  TransitionError,
  ValidationError,
} from "../src/errors.ts";
import type { ActionContext, ResultView, SessionKind } from "./kind.ts";
import {
  type AgentInput,
  type CreateInput,
  type MessageInput,
  parse,
  type ResultInput,
  type UpdateInput,
} from "../src/inputs.ts";
import {
  approvalInput,
  conflictInput,
  type Coordination,
  emptyCoordination,
  RECORD_TYPES,
  type RecordType,
  timerInput,
} from "../src/coordination/model.ts";
import { recordCount } from "./coord_draft.ts";
import type { Checkpoint } from "../src/history/history_store.ts";
import {
  cancelTimer,
  endCoordination,
  recordConflict,
  requestApproval,
  scheduleTimer,
} from "./coord_rules.ts";
import {
  assertSize,
  assertWritable,
  jsonBytes,
  LIMITS,
  type Origin,
  type Session,
  type Transition,
  transition,
  utf8Length,
} from "../src/session.ts";

/**
 * Who sends a command, the last argument of every runtime method that
 * commits one: its client command id, which makes it exactly-once (SPEC §2),
 * and the agent it comes from.
 */
export interface By {
  /** Client command id: a resent id answers with the first result and is not applied again. */
  id?: string;
  /** The agent that sends it. */
  agent?: string;
}

/** Fails with 404 unless the session exists, and with 409 if it no longer takes commands. */
export function writable(turn: Turn, opts: { paused: boolean }): void {
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
  coordination?: Coordination,
): Command<void> {
  return {
    apply(turn) {
      if (turn.exists) throw new ConflictError(`Session '${input.id}' already exists`);
      const parsed = kind.state.safeParse(input.state ?? {});
      if (!parsed.success) {
        throw new ValidationError(`State does not match kind '${kind.kind}'`, parsed.error.issues);
      }
      const state = parsed.data as Record<string, unknown>;
      assertSize("Meta", jsonBytes(input.meta ?? {}), LIMITS.meta);
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
      if (coordination !== undefined && recordCount(coordination) > 0) {
        replaceCoordination(turn, coordination);
        turn.planChanged();
        turn.emit("coordination.copied", { coordination });
      }
    },
  };
}

/** Runs a kind's action on a draft of the state. */
export function actionCommand(name: string, args: unknown, by: By = {}): Command<unknown> {
  return {
    id: by.id,
    apply(turn) {
      writable(turn, { paused: false });
      return runAction(turn, name, args, by.agent);
    },
  };
}

/** Runs action `name` in `turn` (an `action` event with its ops); returns its JSON result. */
export function runAction(turn: Turn, name: string, args: unknown, agent?: string): unknown {
  const kind = turn.kind!;
  const def = Object.hasOwn(kind.actions, name) ? kind.actions[name] : undefined;
  if (!def) throw new NotFoundError(`Action '${name}' not found on kind '${kind.kind}'`);
  const parsed = def.args.safeParse(args ?? {});
  if (!parsed.success) {
    throw new ValidationError(`Invalid arguments for action '${name}'`, parsed.error.issues);
  }
  let result: unknown;
  inContext(turn, agent, (ctx) => {
    const out = def.run(ctx, parsed.data);
    if (out instanceof Promise) {
      throw new ValidationError(
        `Action '${name}' returned a promise: actions run synchronously inside the turn`,
      );
    }
    result = toJson(out);
  }, (ops) => {
    const data: Record<string, unknown> = { name, args: parsed.data, ops };
    if (result !== undefined) data.result = result;
    turn.emit("action", data, agent);
  });
  return result;
}

/**
 * Runs a kind's code (an action, or a hook such as `onDecision`) with an
 * {@linkcode ActionContext} on a draft of the state. `done` emits the event
 * that carries the state's ops; what the code emitted or scheduled through
 * the context follows it, in the order it was asked for.
 */
export function inContext(
  turn: Turn,
  agent: string | undefined,
  body: (ctx: ActionContext<Record<string, unknown>>) => void,
  done: (ops: Operation[]) => void,
): void {
  const after: (() => void)[] = [];
  const reserved = new Set<string>();
  const reserve = (type: RecordType, prefix: string, id?: string) => {
    const taken = (x: string) => reserved.has(x) || turn.coord.get(type, x) !== undefined;
    let chosen = id ?? `${prefix}${turn.head.version + 1}`;
    if (id === undefined) {
      for (let n = 2; taken(chosen); n++) chosen = `${prefix}${turn.head.version + 1}-${n}`;
    }
    reserved.add(chosen);
    return chosen;
  };
  let phase: string | undefined;
  const session = turn.head;
  let coordination: Coordination | undefined;
  const ops = turn.mutate((draft) => {
    const ctx: ActionContext<Record<string, unknown>> = {
      state: draft,
      session,
      agent,
      now: turn.now,
      get coordination() {
        return coordination ??= turn.coord.result(); // a copy of what changed: only on use
      },
      emit: (type, data) => {
        const d = toJson(data);
        after.push(() => void turn.emit(String(type), d, agent));
      },
      setPhase: (p) => void (phase = String(p)),
      schedule: (when, action, args, o = {}) => {
        const input = parse(timerInput, { ...when, action, args, id: o.id, data: o.data }, "timer");
        const id = reserve("timers", "tm", input.id);
        after.push(() => void scheduleTimer(turn, { ...input, id }, agent));
        return id;
      },
      cancel: (timerId) => {
        if (turn.coord.get("timers", timerId) === undefined) return false;
        after.push(() => cancelTimer(turn, timerId, agent));
        return true;
      },
      requestApproval: (input) => {
        const parsed = parse(approvalInput, input, "approval");
        const id = reserve("approvals", "ap", parsed.id);
        after.push(() => void requestApproval(turn, { ...parsed, id }, agent));
        return id;
      },
      recordConflict: (input) => {
        const parsed = parse(conflictInput, input, "conflict");
        const id = reserve("conflicts", "cf", parsed.id);
        after.push(() => void recordConflict(turn, { ...parsed, id }, agent));
        return id;
      },
    };
    body(ctx);
  });
  if (phase !== undefined) turn.head = { ...turn.head, phase };
  done(ops);
  for (const fn of after) fn();
}

/** Applies RFC 6902 ops atomically: all or none. */
export function patchCommand(
  ops: Operation[],
  opts: By & { ifVersion?: number } = {},
): Command<void> {
  return {
    id: opts.id,
    apply(turn) {
      writable(turn, { paused: false });
      if (opts.ifVersion !== undefined && opts.ifVersion !== turn.head.version) {
        throw new PreconditionError(opts.ifVersion, turn.head.version);
      }
      applyPatch(turn, ops, opts.agent);
    },
  };
}

/** Applies RFC 6902 ops to the turn's state, all or none, with a `patch` event. */
export function applyPatch(turn: Turn, ops: Operation[], agent?: string): void {
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
  // A patch that changes nothing (empty, or tests only) commits nothing: no event, no version.
  if (recorded.length > 0) turn.emit("patch", { ops: recorded }, agent);
}

function patchError(error: unknown): unknown {
  if (!(error instanceof jsonpatch.JsonPatchError)) return error;
  const detail = { op: error.index, reason: error.name };
  if (error.name === "TEST_OPERATION_FAILED") {
    return new ConflictError(`Patch test failed at op ${error.index}`);
  }
  return new ValidationError(`Invalid patch: ${error.message.split("\n")[0]}`, detail);
}

/** Changes name, tags, meta (a JSON merge) or phase (`updated`, with the new values). */
export function updateCommand(
  input: UpdateInput,
  by: By = {},
): Command<void> {
  return {
    id: by.id,
    apply(turn) {
      writable(turn, { paused: true });
      const head = { ...turn.head };
      const changed: Record<string, unknown> = {};
      if (input.name === null) {
        delete head.name;
        changed.name = null;
      } else if (input.name !== undefined) head.name = changed.name = input.name;
      if (input.tags !== undefined) head.tags = changed.tags = [...new Set(input.tags)];
      if (input.meta !== undefined) head.meta = changed.meta = mergePatch(head.meta, input.meta);
      if (input.phase !== undefined) head.phase = changed.phase = input.phase;
      assertSize("Meta", jsonBytes(head.meta), LIMITS.meta);
      turn.head = head;
      turn.emit("updated", changed, by.agent);
    },
  };
}

/** RFC 7386 JSON merge of `patch` into `target`: a null value removes its key. */
function mergePatch(
  target: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (
      typeof v === "object" && !Array.isArray(v) && typeof out[k] === "object" && out[k] !== null &&
      !Array.isArray(out[k])
    ) {
      out[k] = mergePatch(out[k] as Record<string, unknown>, v as Record<string, unknown>);
    } else out[k] = v;
  }
  return out;
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
  by: By = {},
): Command<{ id: string }> {
  return {
    id: by.id,
    apply(turn) {
      writable(turn, { paused: true });
      assertSize("Message", utf8Length(JSON.stringify(input)), LIMITS.message);
      turn.emit("message", input, by.agent);
      return { id: input.id };
    },
  };
}

/** Records an agent result (inline data, or a blob key for large data). */
export function resultCommand(
  input: Omit<ResultInput, "data"> & { data?: unknown; blob?: string; bytes: number },
  by: By = {},
): Command<void> {
  return {
    id: by.id,
    apply(turn) {
      writable(turn, { paused: true });
      const agent = input.agent ?? by.agent;
      const partial = input.partial ?? false;
      turn.emit("result", { ...input, partial, agent }, agent);
      const hook = turn.kind?.detectConflicts;
      if (!hook) return;
      const view: ResultView = { key: input.key, partial };
      if (agent !== undefined) view.agent = agent;
      if (input.blob === undefined) view.data = input.data;
      inContext(turn, agent, (ctx) => hook(ctx, view), (ops) => {
        if (ops.length > 0) {
          turn.emit("hook", { name: "detectConflicts", key: input.key, ops }, agent);
        }
      });
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
  const data: Record<string, unknown> = {
    id: cpId,
    label,
    version: turn.head.version,
    state: turn.state,
    final,
  };
  const coordination = turn.coord.result();
  if (recordCount(coordination) > 0) data.coordination = coordination;
  const { agents, phase } = turn.head;
  data.agents = agents;
  data.phase = phase;
  turn.emit("checkpoint", data);
}

/**
 * Restores a checkpoint: its state, agents, phase and coordination records
 * (a checkpoint from before coordination restores none), as a new version
 * with a `restored` event.
 */
export function restoreCommand(cp: Checkpoint, id?: string): Command<void> {
  return {
    id,
    apply(turn) {
      writable(turn, { paused: false });
      const ops = turn.replace(structuredClone(cp.state));
      const coordination = cp.coordination ?? emptyCoordination();
      replaceCoordination(turn, coordination);
      if (cp.agents !== undefined) {
        turn.head = { ...turn.head, agents: structuredClone(cp.agents) };
      }
      if (cp.phase !== undefined) turn.head = { ...turn.head, phase: cp.phase };
      turn.planChanged();
      turn.emit("restored", {
        checkpoint: cp.id,
        from: cp.version,
        ops,
        coordination,
        agents: turn.head.agents,
        phase: turn.head.phase,
      });
    },
  };
}

/** Makes `coordination` the turn's records, and the head's counts match them. */
function replaceCoordination(turn: Turn, coordination: Coordination): void {
  for (const type of RECORD_TYPES) {
    for (const r of turn.coord.values(type)) {
      if (!Object.hasOwn(coordination[type], r.id)) turn.coord.remove(type, r.id);
    }
    for (const r of Object.values(coordination[type])) turn.coord.put(type, structuredClone(r));
  }
  turn.head = {
    ...turn.head,
    pendingApprovals: Object.values(coordination.approvals)
      .filter((a) => a.status === "pending").length,
    openConflicts: Object.values(coordination.conflicts).filter((c) => c.status === "open").length,
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
          endCoordination(turn, status);
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
export function installCommand(
  session: Session,
  kind: SessionKind,
  coordination: Coordination = emptyCoordination(),
): Command<void> {
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
      for (const type of RECORD_TYPES) {
        for (const r of Object.values(coordination[type])) turn.coord.put(type, r);
      }
    },
  };
}
