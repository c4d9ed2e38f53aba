/**
 * The rules of SPEC §9 as changes to a {@linkcode Turn}: each checks what
 * depends on the session's records, changes them, and emits the events that
 * describe the change. Inputs are parsed before (see `model.ts`).
 *
 * @module
 */
import type { Turn } from "./turn.ts";
import { iso } from "../src/clock.ts";
import {
  ConflictError,
  NotFoundError,
  TooLargeError,
  TransitionError,
  ValidationError,
} from "../src/errors.ts";
import { utf8Length } from "../src/session.ts";
import {
  type Approval,
  type ApprovalSpec,
  type Conflict,
  type ConflictSpec,
  deadlineTime,
  DEFAULT_MAX_ATTEMPTS,
  dueTime,
  MAX_RECORDS,
  RECORD_BYTES,
  type RecordOf,
  type RecordType,
  type Task,
  type TasksSpec,
  type Timer,
  type TimerSpec,
} from "../src/coordination/model.ts";

/** Puts a record, within the limits on its size and on records of its type. */
function put<T extends RecordType>(turn: Turn, type: T, record: RecordOf[T]): void {
  const bytes = utf8Length(JSON.stringify(record));
  if (bytes > RECORD_BYTES) {
    throw new TooLargeError(
      `A ${type.slice(0, -1)} is ${bytes} bytes, over the limit of ${RECORD_BYTES}`,
      { bytes, limit: RECORD_BYTES },
    );
  }
  if (
    turn.coord.get(type, record.id) === undefined && turn.coord.count(type) >= MAX_RECORDS
  ) {
    throw new TooLargeError(`A session holds at most ${MAX_RECORDS} ${type}`);
  }
  turn.coord.put(type, record);
}

/** A fresh id in this session: the type's letter, the seq of the next event, and a counter. */
function freshId(turn: Turn, type: RecordType, prefix: string): string {
  const base = `${prefix}${turn.head.version + 1}`;
  let id = base;
  for (let n = 2; turn.coord.get(type, id) !== undefined; n++) id = `${base}-${n}`;
  return id;
}

function taken(turn: Turn, type: RecordType, id: string): void {
  if (turn.coord.get(type, id) !== undefined) {
    throw new ConflictError(
      `A ${type.slice(0, -1)} '${id}' already exists in session '${turn.id}'`,
    );
  }
}

function notFound(turn: Turn, type: RecordType, id: string): never {
  const what = type.slice(0, -1);
  throw new NotFoundError(
    `${what[0].toUpperCase()}${what.slice(1)} '${id}' not found in session '${turn.id}'`,
  );
}

// ---- timers --------------------------------------------------------------------------------

/** Schedules a timer (`timer.scheduled`); a known action is checked now, not when it fires. */
export function scheduleTimer(turn: Turn, input: TimerSpec, agent?: string): Timer {
  if (input.action !== undefined && !Object.hasOwn(turn.kind!.actions, input.action)) {
    throw new NotFoundError(`Action '${input.action}' not found on kind '${turn.kind!.kind}'`);
  }
  const id = input.id ?? freshId(turn, "timers", "tm");
  taken(turn, "timers", id);
  const timer: Timer = {
    id,
    due: iso(dueTime({ in: input.in, at: input.at }, turn.now)),
    createdAt: turn.at,
  };
  if (input.action !== undefined) timer.action = input.action;
  if (input.args !== undefined) timer.args = input.args;
  if (input.patch !== undefined) timer.patch = input.patch as Timer["patch"];
  if (input.data !== undefined) timer.data = input.data;
  if (agent !== undefined) timer.agent = agent;
  put(turn, "timers", timer);
  turn.emit("timer.scheduled", { timer }, agent);
  return timer;
}

/** Cancels a pending timer (`timer.cancelled`); 404 when unknown or already fired. */
export function cancelTimer(turn: Turn, id: string, agent?: string): void {
  if (turn.coord.get("timers", id) === undefined) notFound(turn, "timers", id);
  turn.coord.remove("timers", id);
  turn.emit("timer.cancelled", { id }, agent);
}

/**
 * Removes a due timer and emits `timer.fired`; returns it, or undefined when
 * it is not due (fired already, cancelled, or moved later).
 */
export function takeDueTimer(turn: Turn, id: string): Timer | undefined {
  const timer = turn.coord.get("timers", id);
  if (timer === undefined || Date.parse(timer.due) > turn.now) return undefined;
  turn.coord.remove("timers", id);
  return timer;
}

// ---- approvals -----------------------------------------------------------------------------

/** Requests an approval (`approval.requested`). */
export function requestApproval(
  turn: Turn,
  input: ApprovalSpec,
  agent?: string,
  tasks?: string[],
): Approval {
  const options = input.options ?? ["approve", "reject"];
  if (new Set(options).size !== options.length) {
    throw new ValidationError("Approval options must differ");
  }
  if (input.onDeadline !== undefined && !options.includes(input.onDeadline)) {
    throw new ValidationError(`onDeadline '${input.onDeadline}' is not one of the options`, {
      options,
    });
  }
  const id = input.id ?? freshId(turn, "approvals", "ap");
  taken(turn, "approvals", id);
  const approval: Approval = {
    id,
    prompt: input.prompt,
    options,
    deadline: iso(deadlineTime(input.deadline, turn.now)),
    status: "pending",
    requestedAt: turn.at,
  };
  if (input.onDeadline !== undefined) approval.onDeadline = input.onDeadline;
  if (input.data !== undefined) approval.data = input.data;
  if (tasks !== undefined) approval.tasks = tasks;
  if (agent !== undefined) approval.agent = agent;
  put(turn, "approvals", approval);
  turn.head = { ...turn.head, pendingApprovals: turn.head.pendingApprovals + 1 };
  turn.emit("approval.requested", { approval }, agent);
  return approval;
}

/**
 * Records a decision (`approval.decided`): 400 for an option not offered,
 * 409 for a second decision (naming the first) or one after the deadline.
 * Releases or drops the tasks the approval holds back.
 */
export function decide(
  turn: Turn,
  id: string,
  d: { option: string; by?: string; comment?: string },
  agent?: string,
): Approval {
  const a = turn.coord.get("approvals", id) ?? notFound(turn, "approvals", id);
  if (a.status === "decided") {
    throw new TransitionError(
      `Approval '${id}' was already decided: '${a.option}'${a.by ? ` by ${a.by}` : ""}`,
      { approval: id, option: a.option, by: a.by },
    );
  }
  if (a.status === "expired" || turn.now > Date.parse(a.deadline)) {
    throw new TransitionError(`Approval '${id}' expired at ${a.deadline}`, { approval: id });
  }
  if (!a.options.includes(d.option)) {
    throw new ValidationError(`Option '${d.option}' is not offered by approval '${id}'`, {
      options: a.options,
    });
  }
  return settle(
    turn,
    a,
    { status: "decided", option: d.option, by: d.by, comment: d.comment },
    agent,
  );
}

/** At its deadline: decided with `onDeadline` (by `deadline`), or expired. Undefined when not due. */
export function expireApproval(turn: Turn, id: string, reason = "deadline"): Approval | undefined {
  const a = turn.coord.get("approvals", id);
  if (a === undefined || a.status !== "pending") return undefined;
  if (reason === "deadline" && Date.parse(a.deadline) > turn.now) return undefined;
  if (reason === "deadline" && a.onDeadline !== undefined) {
    return settle(turn, a, { status: "decided", option: a.onDeadline, by: "deadline" });
  }
  return settle(turn, a, { status: "expired", reason });
}

function settle(
  turn: Turn,
  a: Approval,
  change: Pick<Approval, "status" | "option" | "by" | "comment" | "reason">,
  agent?: string,
): Approval {
  const approval: Approval = { ...a, status: change.status, decidedAt: turn.at };
  for (const k of ["option", "by", "comment", "reason"] as const) {
    if (change[k] !== undefined) approval[k] = change[k];
  }
  put(turn, "approvals", approval);
  turn.head = { ...turn.head, pendingApprovals: Math.max(0, turn.head.pendingApprovals - 1) };
  turn.emit(approval.status === "decided" ? "approval.decided" : "approval.expired", {
    approval,
  }, agent);
  if (approval.tasks?.length) {
    if (approval.option === "approve") releaseGate(turn, approval);
    else dropGated(turn, approval);
  }
  return approval;
}

function releaseGate(turn: Turn, a: Approval): void {
  const ready: string[] = [];
  for (const id of a.tasks ?? []) {
    const t = turn.coord.get("tasks", id);
    if (t?.gate !== a.id) continue;
    const { gate: _g, ...rest } = t;
    const status = depsDone(turn, t) ? "ready" : "blocked";
    if (status === "ready") ready.push(id);
    put(turn, "tasks", { ...rest, status, updatedAt: turn.at });
  }
  turn.planChanged();
  turn.emit("task.released", { approval: a.id, ready });
}

function dropGated(turn: Turn, a: Approval): void {
  const dropped = (a.tasks ?? []).filter((id) => turn.coord.get("tasks", id)?.gate === a.id);
  for (const id of dropped) turn.coord.remove("tasks", id);
  turn.planChanged();
  turn.emit("task.dropped", { approval: a.id, ids: dropped });
}

// ---- tasks ---------------------------------------------------------------------------------

function depsDone(turn: Turn, t: Task): boolean {
  return t.deps.every((d) => turn.coord.get("tasks", d)?.status === "done");
}

/**
 * Adds tasks to the plan (`task.added`): unknown deps, a taken id or a
 * cycle refuses them all. Behind `approval`, they wait for its decision.
 */
export function addTasks(
  turn: Turn,
  input: TasksSpec,
  agent?: string,
): { tasks: Task[]; approval?: Approval } {
  const fresh = new Map(input.tasks.map((t) => [t.id, t]));
  if (fresh.size !== input.tasks.length) throw new ValidationError("Task ids repeat");
  for (const t of input.tasks) {
    if (turn.coord.get("tasks", t.id) !== undefined) {
      throw new ValidationError(`Task '${t.id}' already exists in session '${turn.id}'`);
    }
    for (const d of t.deps ?? []) {
      if (!fresh.has(d) && turn.coord.get("tasks", d) === undefined) {
        throw new ValidationError(`Task '${t.id}' depends on unknown task '${d}'`);
      }
    }
  }
  // Only new tasks can form a cycle: a task added before cannot depend on one added now.
  const state = new Map<string, "visiting" | "done">();
  const visit = (id: string, path: string[]): void => {
    if (state.get(id) === "done" || !fresh.has(id)) return;
    if (state.get(id) === "visiting") {
      throw new ValidationError(`Tasks form a cycle: ${[...path, id].join(" -> ")}`);
    }
    state.set(id, "visiting");
    for (const d of fresh.get(id)!.deps ?? []) visit(d, [...path, id]);
    state.set(id, "done");
  };
  for (const id of fresh.keys()) visit(id, []);

  let order = turn.coord.values("tasks").reduce((n, t) => Math.max(n, t.order + 1), 0);
  const gate = input.approval === undefined ? undefined : freshGateId(turn, input.approval.id);
  const tasks: Task[] = input.tasks.map((t) => ({
    id: t.id,
    title: t.title,
    deps: t.deps ?? [],
    ...(t.data !== undefined ? { data: t.data } : {}),
    maxAttempts: t.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    status: "blocked",
    attempt: 0,
    ...(gate !== undefined ? { gate } : {}),
    order: order++,
    addedAt: turn.at,
    updatedAt: turn.at,
  }));
  for (const t of tasks) put(turn, "tasks", t);
  // A task is ready once its deps are done and no approval holds it back; resolved in order.
  for (const t of tasks) {
    if (gate === undefined && depsDone(turn, t)) {
      put(turn, "tasks", { ...turn.coord.get("tasks", t.id)!, status: "ready" });
    }
  }
  const added = tasks.map((t) => turn.coord.get("tasks", t.id)!);
  turn.planChanged();
  turn.emit("task.added", { tasks: added }, agent);
  if (input.approval === undefined) return { tasks: added };
  const approval = requestApproval(
    turn,
    { ...input.approval, id: gate },
    agent,
    added.map((t) => t.id),
  );
  return { tasks: added, approval };
}

function freshGateId(turn: Turn, id: string | undefined): string {
  if (id === undefined) return freshId(turn, "approvals", "ap");
  taken(turn, "approvals", id);
  return id;
}

/**
 * Gives `agent` the oldest ready task, or the one named (409 unless it is
 * ready), with a lease (`task.claimed`). Null when none is ready.
 */
export function claim(
  turn: Turn,
  agent: string,
  leaseMs: number,
  taskId?: string,
): Task | null {
  let task: Task | undefined;
  if (taskId !== undefined) {
    task = turn.coord.get("tasks", taskId) ?? notFound(turn, "tasks", taskId);
    if (task.status !== "ready") {
      throw new TransitionError(
        task.status === "claimed"
          ? `Task '${taskId}' is held by '${task.holder}'`
          : `Task '${taskId}' is ${task.status}, not ready`,
        { task: taskId, status: task.status, holder: task.holder },
      );
    }
  } else {
    task = turn.coord.oldestReady();
    if (task === undefined) return null;
  }
  const claimed: Task = {
    ...task,
    status: "claimed",
    holder: agent,
    leaseUntil: iso(turn.now + leaseMs),
    attempt: task.attempt + 1,
    updatedAt: turn.at,
  };
  put(turn, "tasks", claimed);
  turn.emit("task.claimed", { task: claimed }, agent);
  return claimed;
}

/** The task `agent` holds with a live lease, or 409 naming the holder. */
function held(turn: Turn, id: string, agent: string): Task {
  const t = turn.coord.get("tasks", id) ?? notFound(turn, "tasks", id);
  if (t.status !== "claimed") {
    throw new TransitionError(`Task '${id}' is ${t.status}, not claimed`, {
      task: id,
      status: t.status,
    });
  }
  if (t.holder !== agent) {
    throw new TransitionError(`Task '${id}' is held by '${t.holder}', not '${agent}'`, {
      task: id,
      holder: t.holder,
    });
  }
  if (Date.parse(t.leaseUntil!) < turn.now) {
    throw new TransitionError(
      `The lease of '${agent}' on task '${id}' expired at ${t.leaseUntil}`,
      {
        task: id,
        holder: t.holder,
      },
    );
  }
  return t;
}

/** Extends the holder's lease (`task.lease_extended`). */
export function heartbeat(turn: Turn, id: string, agent: string, leaseMs: number): Task {
  const t = held(turn, id, agent);
  const task: Task = { ...t, leaseUntil: iso(turn.now + leaseMs), updatedAt: turn.at };
  put(turn, "tasks", task);
  turn.emit("task.lease_extended", { task }, agent);
  return task;
}

/** Ends the holder's task as done (`task.done`); its dependants whose deps are all done become ready. */
export function completeTask(turn: Turn, id: string, agent: string, result?: unknown): Task {
  const t = held(turn, id, agent);
  const { holder: _h, leaseUntil: _l, ...rest } = t;
  const task: Task = { ...rest, status: "done", updatedAt: turn.at };
  if (result !== undefined) task.result = result;
  put(turn, "tasks", task);
  const ready: string[] = [];
  for (const d of turn.coord.dependants(id)) {
    if (d.status === "blocked" && d.gate === undefined && depsDone(turn, d)) {
      put(turn, "tasks", { ...d, status: "ready", updatedAt: turn.at });
      ready.push(d.id);
    }
  }
  turn.planChanged();
  turn.emit("task.done", { task, ready }, agent);
  return task;
}

/** Ends the holder's task as failed (`task.failed`). */
export function failTask(turn: Turn, id: string, agent: string, error: string): Task {
  const t = held(turn, id, agent);
  const { holder: _h, leaseUntil: _l, ...rest } = t;
  const task: Task = { ...rest, status: "failed", error, updatedAt: turn.at };
  put(turn, "tasks", task);
  turn.planChanged();
  turn.emit("task.failed", { task }, agent);
  return task;
}

/**
 * A lease that passed (`task.lease_expired`): back to ready, or failed once
 * `maxAttempts` claims have lapsed. Undefined when not due.
 */
export function expireLease(turn: Turn, id: string): Task | undefined {
  const t = turn.coord.get("tasks", id);
  if (t?.status !== "claimed" || Date.parse(t.leaseUntil!) > turn.now) return undefined;
  const { holder, leaseUntil: _l, ...rest } = t;
  const failed = t.attempt >= t.maxAttempts;
  const task: Task = failed
    ? {
      ...rest,
      status: "failed",
      error: `Lease expired on attempt ${t.attempt} of ${t.maxAttempts}`,
      updatedAt: turn.at,
    }
    : { ...rest, status: "ready", updatedAt: turn.at };
  put(turn, "tasks", task);
  turn.planChanged();
  turn.emit("task.lease_expired", { task, holder });
  if (failed) turn.emit("task.failed", { task });
  return task;
}

// ---- conflicts -----------------------------------------------------------------------------

/** Records a conflict (`conflict.recorded`). */
export function recordConflict(turn: Turn, input: ConflictSpec, agent?: string): Conflict {
  const id = input.id ?? freshId(turn, "conflicts", "cf");
  taken(turn, "conflicts", id);
  const conflict: Conflict = {
    id,
    entity: input.entity,
    type: input.type,
    findings: input.findings,
    severity: input.severity,
    status: "open",
    recordedAt: turn.at,
  };
  if (input.strategy !== undefined) conflict.strategy = input.strategy;
  put(turn, "conflicts", conflict);
  turn.head = { ...turn.head, openConflicts: turn.head.openConflicts + 1 };
  turn.emit("conflict.recorded", { conflict }, agent);
  return conflict;
}

/** Resolves an open conflict (`conflict.resolved`); 409 when resolved already. */
export function resolveConflict(
  turn: Turn,
  id: string,
  r: { resolution?: unknown; by?: string },
  agent?: string,
): Conflict {
  const c = turn.coord.get("conflicts", id) ?? notFound(turn, "conflicts", id);
  if (c.status === "resolved") {
    throw new TransitionError(`Conflict '${id}' was already resolved${c.by ? ` by ${c.by}` : ""}`, {
      conflict: id,
    });
  }
  const conflict: Conflict = {
    ...c,
    status: "resolved",
    resolution: r.resolution,
    resolvedAt: turn.at,
  };
  if (r.by !== undefined) conflict.by = r.by;
  put(turn, "conflicts", conflict);
  turn.head = { ...turn.head, openConflicts: Math.max(0, turn.head.openConflicts - 1) };
  turn.emit("conflict.resolved", { conflict }, agent);
  return conflict;
}

// ---- the session ends ----------------------------------------------------------------------

/**
 * A session reached a terminal status: its timers are dropped
 * (`timer.dropped`) and its pending approvals expire with the session as the
 * reason, so no inbox waits on them.
 */
export function endCoordination(turn: Turn, status: string): void {
  const timers = turn.coord.values("timers").map((t) => t.id).sort();
  for (const id of timers) turn.coord.remove("timers", id);
  if (timers.length > 0) turn.emit("timer.dropped", { ids: timers, reason: `session ${status}` });
  const pending = turn.coord.values("approvals").filter((a) => a.status === "pending");
  for (const a of pending.sort((x, y) => x.id < y.id ? -1 : 1)) {
    expireApproval(turn, a.id, `session ${status}`);
  }
}
