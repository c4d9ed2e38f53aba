/**
 * The commands of SPEC §9: what the runtime queues on a session's actor for
 * each coordination call, and for each record the scheduler finds due.
 *
 * @module
 */
import type { Command } from "./session_actor.ts";
import type { Turn } from "./turn.ts";
import { type By, inContext, runAction, updateCommand, writable } from "./commands.ts";
import { DenizenError, ValidationError } from "../src/errors.ts";
import { TERMINAL } from "../src/session.ts";
import { parse, type PatchOperation, type UpdateInput, updateInput } from "../src/inputs.ts";
import {
  type Approval,
  type ApprovalInput,
  approvalInput,
  type ApprovalSpec,
  type ClaimInput,
  claimInput,
  completeInput,
  type Conflict,
  type ConflictInput,
  conflictInput,
  type ConflictSpec,
  type DecisionInput,
  decisionInput,
  failInput,
  heartbeatInput,
  leaseMs,
  recordId,
  type RecordType,
  type ResolveInput,
  resolveInput,
  type Task,
  type TasksInput,
  tasksInput,
  type TasksSpec,
  type Timer,
  type TimerInput,
  timerInput,
  type TimerSpec,
} from "../src/coordination/model.ts";
import * as rules from "./coord_rules.ts";
import { dueKeyOf } from "../src/hot/hot_tier.ts";

/** A command that only needs the session to take writes (`paused` says whether paused counts). */
function coordinated<R>(by: By, paused: boolean, fn: (turn: Turn) => R): Command<R> {
  return {
    id: by.id,
    apply(turn) {
      writable(turn, { paused });
      return fn(turn);
    },
  };
}

/** `POST …/timers`. */
export function scheduleCommand(input: TimerSpec, by: By = {}): Command<Timer> {
  return coordinated(by, true, (turn) => rules.scheduleTimer(turn, input, by.agent));
}

/** `DELETE …/timers/:tid`. */
export function cancelTimerCommand(tid: string, by: By = {}): Command<void> {
  return coordinated(by, true, (turn) => rules.cancelTimer(turn, tid, by.agent));
}

/** `POST …/approvals`. */
export function requestApprovalCommand(input: ApprovalSpec, by: By = {}): Command<Approval> {
  return coordinated(by, true, (turn) => rules.requestApproval(turn, input, by.agent));
}

/** `POST …/approvals/:aid/decision`; the kind's `onDecision` runs in the same turn. */
export function decideCommand(
  aid: string,
  d: { option: string; by?: string; comment?: string },
  by: By = {},
): Command<Approval> {
  return coordinated(by, true, (turn) => {
    const approval = rules.decide(turn, aid, d, by.agent);
    onDecision(turn, approval, by.agent);
    return approval;
  });
}

/** `POST …/tasks`. */
export function addTasksCommand(
  input: TasksSpec,
  by: By = {},
): Command<{ tasks: Task[]; approval?: Approval }> {
  return coordinated(by, true, (turn) => rules.addTasks(turn, input, by.agent));
}

/** `POST …/tasks/claim`: not while paused. */
export function claimCommand(
  agent: string,
  leaseMs: number,
  task: string | undefined,
  by: By = {},
): Command<Task | null> {
  return coordinated(by, false, (turn) => rules.claim(turn, agent, leaseMs, task));
}

/** `POST …/tasks/:tid/heartbeat`. */
export function heartbeatCommand(
  tid: string,
  agent: string,
  leaseMs: number,
  by: By = {},
): Command<Task> {
  return coordinated(by, true, (turn) => rules.heartbeat(turn, tid, agent, leaseMs));
}

/** `POST …/tasks/:tid/complete`. */
export function completeTaskCommand(
  tid: string,
  agent: string,
  result: unknown,
  by: By = {},
): Command<Task> {
  return coordinated(by, true, (turn) => rules.completeTask(turn, tid, agent, result));
}

/** `POST …/tasks/:tid/fail`. */
export function failTaskCommand(
  tid: string,
  agent: string,
  error: string,
  by: By = {},
): Command<Task> {
  return coordinated(by, true, (turn) => rules.failTask(turn, tid, agent, error));
}

/** `POST …/conflicts`. */
export function recordConflictCommand(input: ConflictSpec, by: By = {}): Command<Conflict> {
  return coordinated(by, true, (turn) => rules.recordConflict(turn, input, by.agent));
}

/** `POST …/conflicts/:cid/resolve`. */
export function resolveConflictCommand(
  cid: string,
  r: { resolution?: unknown; by?: string },
  by: By = {},
): Command<Conflict> {
  return coordinated(by, true, (turn) => rules.resolveConflict(turn, cid, r, by.agent));
}

/** Runs the kind's `onDecision` on a decision or an expiry, in the same turn. */
function onDecision(turn: Turn, approval: Approval, agent?: string): void {
  const hook = turn.kind?.onDecision;
  if (!hook) return;
  inContext(turn, agent, (ctx) => hook(ctx, approval), (ops) => {
    if (ops.length > 0) {
      turn.emit("hook", { name: "onDecision", approval: approval.id, ops }, agent);
    }
  });
}

/**
 * What a due command did: fired (or expired) the record; found the index key
 * stale (nothing due, or the session paused) and deleted it in a commit of
 * its own; or found the session ended or gone (the caller deletes the key: a
 * terminal session's head must not move again).
 */
export type DueOutcome = "done" | "stale" | "inactive";

/**
 * The command for one key of the scheduler's index: fires a timer, expires
 * an approval or a lease, if it is still due. A key that names nothing due
 * any more is deleted in the commit. A timer's command has the id
 * `timer:<tid>:<due>`, so its effect happens once even when two instances
 * fire it; the due time in the id lets a timer id be used again later.
 */
export function dueCommand(key: Deno.KvKey): Command<DueOutcome> {
  const { due, type, id: rid } = dueKeyOf(key);
  return {
    id: type === "timers" ? `timer:${rid}:${due}` : undefined,
    apply(turn) {
      // An ended session never comes back to the index: its key goes without a commit. A paused
      // one's key goes in a commit checked against its head, so a resume that put the same key
      // back in the meantime keeps it.
      if (!turn.exists || TERMINAL.has(turn.head.status)) return "inactive";
      if (turn.head.status === "active" && fire(turn, type, rid)) return "done";
      turn.stale.push(key);
      turn.force = true;
      return "stale";
    },
  };
}

function fire(turn: Turn, type: RecordType, rid: string): boolean {
  switch (type) {
    case "timers": {
      const timer = rules.takeDueTimer(turn, rid);
      if (timer === undefined) return false;
      runTimer(turn, timer);
      return true;
    }
    case "approvals": {
      const approval = rules.expireApproval(turn, rid);
      if (approval === undefined) return false;
      onDecision(turn, approval);
      return true;
    }
    case "tasks":
      return rules.expireLease(turn, rid) !== undefined;
    case "conflicts":
      return false;
  }
}

/**
 * `timer.fired`, then the timer's action or patch in the same commit. An
 * action or patch that fails leaves no change but the fired event, which
 * says why, so a bad timer never fires again and again.
 */
function runTimer(turn: Turn, timer: Timer): void {
  const { id, due, action, agent } = timer;
  const fired = { id, due, ...(action !== undefined ? { action } : {}) };
  const mark = turn.mark();
  turn.emit(
    "timer.fired",
    timer.action || timer.patch ? fired : { ...fired, data: timer.data ?? null },
    agent,
  );
  try {
    if (action !== undefined) runAction(turn, action, timer.args ?? {}, agent);
    else if (timer.patch !== undefined) {
      const ops = turn.patch(timer.patch as PatchOperation[] as never);
      turn.emit("patch", { ops }, agent);
    }
  } catch (error) {
    turn.rollback(mark);
    const e = error instanceof DenizenError
      ? { code: error.code, message: error.message }
      : { code: "internal", message: "Timer failed" };
    turn.coord.remove("timers", id);
    turn.emit("timer.fired", { ...fired, error: e }, agent);
  }
}

/** Every coordination command by name: what it takes (parsed here) and what it answers. */
export interface CoordinationOps {
  /** Schedules a timer. */
  schedule: { input: TimerInput; result: Timer };
  /** Cancels a pending timer. */
  cancelTimer: { input: { timer: string }; result: void };
  /** Requests an approval. */
  requestApproval: { input: ApprovalInput; result: Approval };
  /** Decides an approval. */
  decide: { input: DecisionInput & { approval: string }; result: Approval };
  /** Adds tasks to the plan. */
  addTasks: { input: TasksInput; result: { tasks: Task[]; approval?: Approval } };
  /** Claims a ready task for `agent`. */
  claim: { input: ClaimInput; result: Task | null };
  /** Extends the holder's lease. */
  heartbeat: { input: { task: string; agent: string; lease?: string | number }; result: Task };
  /** Ends the holder's task as done. */
  completeTask: { input: { task: string; agent: string; result?: unknown }; result: Task };
  /** Ends the holder's task as failed. */
  failTask: { input: { task: string; agent: string; error: string }; result: Task };
  /** Records a conflict. */
  recordConflict: { input: ConflictInput; result: Conflict };
  /** Resolves a conflict. */
  resolveConflict: { input: ResolveInput & { conflict: string }; result: Conflict };
  /** Changes name, tags, meta or phase. */
  update: { input: UpdateInput; result: void };
}

/** The command of `op`, its input parsed (400 on a bad one) before anything is queued. */
export function coordinationCommand<O extends keyof CoordinationOps>(
  op: O,
  input: CoordinationOps[O]["input"],
  by: By,
): Command<CoordinationOps[O]["result"]> {
  const i = input as Record<string, unknown>;
  const rid = (what: string, v: unknown) => parse(recordId, v, `${what} id`);
  switch (op) {
    case "schedule":
      return scheduleCommand(parse(timerInput, input, "timer"), by) as never;
    case "cancelTimer":
      return cancelTimerCommand(rid("timer", i.timer), by) as never;
    case "requestApproval":
      return requestApprovalCommand(parse(approvalInput, input, "approval"), by) as never;
    case "decide": {
      const { approval, ...d } = i;
      return decideCommand(
        rid("approval", approval),
        parse(decisionInput, d, "decision"),
        by,
      ) as never;
    }
    case "addTasks":
      return addTasksCommand(parse(tasksInput, input, "tasks"), by) as never;
    case "claim": {
      const c = parse(claimInput, input, "claim");
      return claimCommand(c.agent, leaseMs(c.lease), c.task, { ...by, agent: c.agent }) as never;
    }
    case "heartbeat": {
      const { task, ...h } = i;
      const hb = parse(heartbeatInput, h, "heartbeat");
      const cmd = heartbeatCommand(rid("task", task), hb.agent, leaseMs(hb.lease), {
        ...by,
        agent: hb.agent,
      });
      return cmd as never;
    }
    case "completeTask": {
      const { task, ...c } = i;
      const done = parse(completeInput, c, "completion");
      const cmd = completeTaskCommand(rid("task", task), done.agent, done.result, {
        ...by,
        agent: done.agent,
      });
      return cmd as never;
    }
    case "failTask": {
      const { task, ...f } = i;
      const failed = parse(failInput, f, "failure");
      const cmd = failTaskCommand(rid("task", task), failed.agent, failed.error, {
        ...by,
        agent: failed.agent,
      });
      return cmd as never;
    }
    case "recordConflict":
      return recordConflictCommand(parse(conflictInput, input, "conflict"), by) as never;
    case "resolveConflict": {
      const { conflict, ...r } = i;
      const resolution = parse(resolveInput, r, "resolution");
      return resolveConflictCommand(rid("conflict", conflict), resolution, by) as never;
    }
    case "update":
      return updateCommand(parse(updateInput, input, "update"), by) as never;
  }
  throw new ValidationError(`Unknown coordination command '${String(op)}'`);
}
