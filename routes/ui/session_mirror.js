/**
 * The page's mirror of one session: the head (status, phase, agents, …),
 * the state kept exact by the events' JSON Patch ops, and the coordination
 * records of SPEC §9 kept from the records the coordination events carry.
 * Applying events says which parts changed, so that only those panels are
 * drawn again, and remembers what the last state change touched.
 *
 * @module
 */
import { applyOps, parsePointer } from "./json_patch.js";

/**
 * @typedef {{timers: Record<string, any>, approvals: Record<string, any>,
 *   tasks: Record<string, any>, conflicts: Record<string, any>}} Coordination
 * @typedef {"head" | "state" | "agents" | "timers" | "approvals" | "tasks" | "conflicts" |
 *   "messages" | "results" | "checkpoints" | "progress"} Part
 * @typedef {{seq: number, type: string, ops: {op: string, path: string, from?: string}[]}} Change
 */

const LIFECYCLE = new Set(["paused", "resumed", "completed", "failed", "expired", "archived"]);

/** @returns {Coordination} */
function emptyCoordination() {
  return { timers: {}, approvals: {}, tasks: {}, conflicts: {} };
}

export class SessionMirror {
  /** The session without its state. @type {Record<string, any>} */
  head = {};
  /** @type {unknown} */
  state = {};
  /** @type {Coordination} */
  coordination = emptyCoordination();
  /** Seq of the last event applied. */
  seq = 0;
  /** What the last state change touched. @type {Change | undefined} */
  lastChange;
  /** True once a welcome came. */
  ready = false;

  /**
   * A welcome: the snapshot (state and records) or, after a replay, the head only.
   *
   * @param {import("./session_socket.js").WelcomeFrame} f
   * @returns {Set<Part>}
   */
  welcome(f) {
    const { state, ...head } = f.session;
    this.head = head;
    if (f.replayed === undefined) {
      this.state = state ?? {};
      this.coordination = normalize(f.coordination);
      this.lastChange = undefined;
    }
    this.seq = f.seq;
    this.ready = true;
    return new Set([
      "head",
      "state",
      "agents",
      "timers",
      "approvals",
      "tasks",
      "conflicts",
      "progress",
      "messages",
      "results",
      "checkpoints",
    ]);
  }

  /**
   * Replaces the head with a fresher one from `GET /v1/sessions/:id` (its
   * state is ignored: the events keep the state exact).
   *
   * @param {Record<string, any>} session
   * @returns {boolean} whether the head was as new as the mirror
   */
  refreshHead(session) {
    if (session.version < this.seq) return false;
    const { state: _state, ...head } = session;
    this.head = head;
    return true;
  }

  /**
   * Applies events in seq order. Throws when an op does not apply (the
   * mirror diverged); the caller then asks for a snapshot.
   *
   * @param {import("./session_socket.js").EventFrame[]} events
   * @returns {Set<Part>}
   */
  apply(events) {
    /** @type {Set<Part>} */
    const dirty = new Set(["head"]);
    for (const e of events) {
      if (e.seq <= this.seq) continue;
      this.#one(e, dirty);
      this.seq = e.seq;
      this.head.version = e.seq;
      this.head.updatedAt = e.at;
    }
    if (dirty.has("agents") || dirty.has("tasks")) this.#progress(dirty);
    return dirty;
  }

  /**
   * @param {import("./session_socket.js").EventFrame} e
   * @param {Set<Part>} dirty
   */
  #one(e, dirty) {
    const d = e.data ?? {};
    const c = this.coordination;
    switch (e.type) {
      case "created":
        this.state = structuredClone(d.state ?? {});
        this.#changed(e, [{ op: "replace", path: "" }], dirty);
        return;
      case "patch":
      case "action":
      case "hook":
        this.#ops(e, d.ops, dirty);
        return;
      case "restored":
        this.#ops(e, d.ops, dirty);
        this.coordination = normalize(d.coordination);
        if (d.agents) this.head.agents = d.agents;
        if (d.phase !== undefined) this.head.phase = d.phase;
        for (const p of /** @type {Part[]} */ (["timers", "approvals", "tasks", "conflicts"])) {
          dirty.add(p);
        }
        dirty.add("agents");
        dirty.add("checkpoints");
        this.#counts();
        return;
      case "coordination.copied":
        this.coordination = normalize(d.coordination);
        for (const p of /** @type {Part[]} */ (["timers", "approvals", "tasks", "conflicts"])) {
          dirty.add(p);
        }
        this.#counts();
        return;
      case "agent": {
        const { name, ...entry } = d;
        this.head.agents = { ...this.head.agents, [name]: entry };
        dirty.add("agents");
        return;
      }
      case "updated":
        for (const k of ["name", "tags", "meta", "phase"]) {
          if (!(k in d)) continue;
          if (d[k] === null) delete this.head[k];
          else this.head[k] = d[k];
        }
        return;
      case "message":
        dirty.add("messages");
        return;
      case "result":
        dirty.add("results");
        return;
      case "checkpoint":
        dirty.add("checkpoints");
        return;
      case "approval.requested":
      case "approval.decided":
      case "approval.expired":
        if (d.approval) c.approvals[d.approval.id] = d.approval;
        dirty.add("approvals");
        this.#counts();
        return;
      case "task.added":
        for (const t of d.tasks ?? []) c.tasks[t.id] = t;
        dirty.add("tasks");
        return;
      case "task.claimed":
      case "task.lease_extended":
      case "task.failed":
      case "task.lease_expired":
        if (d.task) c.tasks[d.task.id] = d.task;
        dirty.add("tasks");
        return;
      case "task.done":
        if (d.task) c.tasks[d.task.id] = d.task;
        for (const id of d.ready ?? []) this.#setTask(id, { status: "ready" }, e.at);
        dirty.add("tasks");
        return;
      case "task.released":
        for (const t of Object.values(c.tasks)) {
          if (t.gate !== d.approval) continue;
          const { gate: _gate, ...rest } = t;
          c.tasks[t.id] = {
            ...rest,
            status: (d.ready ?? []).includes(t.id) ? "ready" : "blocked",
            updatedAt: e.at,
          };
        }
        dirty.add("tasks");
        return;
      case "task.dropped":
        for (const id of d.ids ?? []) delete c.tasks[id];
        dirty.add("tasks");
        return;
      case "timer.scheduled":
        if (d.timer) c.timers[d.timer.id] = d.timer;
        dirty.add("timers");
        return;
      case "timer.fired":
      case "timer.cancelled":
        delete c.timers[d.id];
        dirty.add("timers");
        return;
      case "timer.dropped":
        for (const id of d.ids ?? []) delete c.timers[id];
        dirty.add("timers");
        return;
      case "conflict.recorded":
      case "conflict.resolved":
        if (d.conflict) c.conflicts[d.conflict.id] = d.conflict;
        dirty.add("conflicts");
        this.#counts();
        return;
      default:
        if (LIFECYCLE.has(e.type)) {
          this.head.status = e.type === "resumed" ? "active" : e.type;
          if (e.type === "failed" && d.error) this.head.error = d.error;
          if (e.type === "completed" || e.type === "failed" || e.type === "expired") {
            this.head.completedAt = e.at;
          }
        }
    }
  }

  /**
   * @param {import("./session_socket.js").EventFrame} e
   * @param {any} ops
   * @param {Set<Part>} dirty
   */
  #ops(e, ops, dirty) {
    if (!Array.isArray(ops) || ops.length === 0) return;
    /** @type {{op: string, path: string, from?: string}[]} */
    const touched = [];
    for (const op of ops) {
      touched.push(resolveAppend(this.state, op));
      this.state = applyOps(this.state, [op]);
    }
    this.#changed(e, touched, dirty);
  }

  /**
   * @param {import("./session_socket.js").EventFrame} e
   * @param {{op: string, path: string, from?: string}[]} ops
   * @param {Set<Part>} dirty
   */
  #changed(e, ops, dirty) {
    this.lastChange = {
      seq: e.seq,
      type: e.type,
      ops: ops.slice(0, 200).map((
        { op, path, from },
      ) => (from === undefined ? { op, path } : { op, path, from })),
    };
    dirty.add("state");
  }

  /**
   * @param {string} id
   * @param {Record<string, unknown>} change
   * @param {string} at
   */
  #setTask(id, change, at) {
    const t = this.coordination.tasks[id];
    if (t) this.coordination.tasks[id] = { ...t, ...change, updatedAt: at };
  }

  #counts() {
    const c = this.coordination;
    this.head.pendingApprovals = Object.values(c.approvals)
      .filter((a) => a.status === "pending").length;
    this.head.openConflicts = Object.values(c.conflicts).filter((x) => x.status === "open").length;
  }

  /**
   * Progress as the server derives it when the kind does not override it:
   * the plan's done ÷ total, else the agents' mean. Other kinds keep the
   * server's figure, refreshed by the page.
   *
   * @param {Set<Part>} dirty
   */
  #progress(dirty) {
    if (this.head.kind !== "default") return;
    const tasks = Object.values(this.coordination.tasks);
    const agents = Object.values(this.head.agents ?? {});
    const p = tasks.length > 0
      ? tasks.filter((t) => t.status === "done").length / tasks.length
      : agents.length > 0
      ? agents.reduce((sum, a) => sum + (a.progress ?? 0), 0) / agents.length
      : 0;
    this.head.progress = Math.min(1, Math.max(0, p));
    dirty.add("progress");
  }
}

/**
 * The op with an append (`/list/-`) named by the index it lands at, so
 * that the tree can highlight the new element.
 *
 * @param {unknown} state before the op
 * @param {{op: string, path: string, from?: string}} op
 * @returns {{op: string, path: string, from?: string}}
 */
function resolveAppend(state, op) {
  if (!op.path.endsWith("/-") || (op.op !== "add" && op.op !== "move" && op.op !== "copy")) {
    return op;
  }
  const parent = op.path.slice(0, -2);
  let node = state;
  for (const key of parsePointer(parent)) {
    node = node !== null && typeof node === "object" ? /** @type {any} */ (node)[key] : undefined;
  }
  return Array.isArray(node) ? { ...op, path: `${parent}/${node.length}` } : op;
}

/**
 * @param {any} c
 * @returns {Coordination}
 */
function normalize(c) {
  const out = emptyCoordination();
  if (!c) return out;
  for (
    const k of /** @type {(keyof Coordination)[]} */ (["timers", "approvals", "tasks", "conflicts"])
  ) {
    out[k] = structuredClone(c[k] ?? {});
  }
  return out;
}
