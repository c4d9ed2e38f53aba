/**
 * Builders and a test harness shared by the history conformance suites.
 *
 * @module
 */
import type { Kysely } from "kysely";
import type { Approval } from "../../src/coordination/model.ts";
import type { HistoryStore, SessionRecord } from "../../src/history/history_store.ts";
import type { HistoryDatabase, SqlDialectName } from "../../src/history/history_database.ts";
import type { SessionEvent } from "../../src/session.ts";

/** Opens a fresh, empty, migrated store. */
export type OpenStore = () => Promise<HistoryStore>;

/** A fresh, empty database that no migration has touched, and how to drop it once closed. */
export interface EmptyDatabase {
  db: Kysely<HistoryDatabase>;
  dialect: SqlDialectName;
  /** Runs after `db` is destroyed. */
  drop(): Promise<void>;
}

/** How the suite registers its tests. */
export interface ConformanceOptions {
  /** Deno's resource and op sanitizers; a driver with a pool (pg) needs them off. Default true. */
  sanitize?: boolean;
  /** Opens an unmigrated database, for the upgrade tests; they are skipped without it. */
  openEmpty?: () => Promise<EmptyDatabase>;
}

/** Registers `fn` as a test that gets a fresh store and closes it afterwards. */
export function harness(suite: string, open: OpenStore, options: ConformanceOptions = {}) {
  const sanitize = options.sanitize ?? true;
  return (title: string, fn: (store: HistoryStore) => Promise<void>): void => {
    Deno.test({
      name: `${suite}: ${title}`,
      sanitizeResources: sanitize,
      sanitizeOps: sanitize,
      async fn() {
        const store = await open();
        try {
          await fn(store);
        } finally {
          await store.close();
        }
      },
    });
  };
}

const T0 = Date.parse("2024-01-01T00:00:00.000Z");

/** The ISO time `minutes` after 2024-01-01T00:00:00.000Z. */
export function at(minutes: number): string {
  return new Date(T0 + minutes * 60_000).toISOString();
}

/** An active session row at version 1, created and updated at `at(0)`, with `over` applied. */
export function session(id: string, over: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id,
    kind: "default",
    tags: [],
    meta: {},
    status: "active",
    phase: "init",
    agents: {},
    progress: 0,
    pendingApprovals: 0,
    openConflicts: 0,
    version: 1,
    ttl: { active: 86_400_000, paused: 604_800_000 },
    createdAt: at(0),
    updatedAt: at(0),
    expiresAt: at(24 * 60),
    ...over,
  };
}

/** An event of `type` at seq `seq`, at `at(seq)`. */
export function event(
  sessionId: string,
  seq: number,
  type = "patch",
  data: unknown = { ops: [] },
  agent?: string,
): SessionEvent {
  const e: SessionEvent = { sessionId, seq, type, data, at: at(seq) };
  if (agent !== undefined) e.agent = agent;
  return e;
}

/** A `message` event. */
export function messageEvent(
  sessionId: string,
  seq: number,
  content: string,
  agent?: string,
): SessionEvent {
  return event(sessionId, seq, "message", { id: `m${seq}`, role: "user", content }, agent);
}

/** A `result` event. */
export function resultEvent(
  sessionId: string,
  seq: number,
  r: { agent?: string; key: string; partial?: boolean; data?: unknown; blob?: string },
): SessionEvent {
  return event(sessionId, seq, "result", { partial: false, bytes: 10, ...r });
}

/** A `checkpoint` event. */
export function checkpointEvent(sessionId: string, seq: number, final = false): SessionEvent {
  return event(sessionId, seq, "checkpoint", {
    id: `cp${seq}`,
    label: `at ${seq}`,
    version: seq,
    state: { n: seq },
    final,
  });
}

/** An approval record: pending, asked at `at(0)`, due at `at(deadline)`, with `over` applied. */
export function approval(id: string, deadline: number, over: Partial<Approval> = {}): Approval {
  return {
    id,
    prompt: `Approve ${id}?`,
    options: ["approve", "reject"],
    deadline: at(deadline),
    status: "pending",
    requestedAt: at(0),
    ...over,
  };
}

/** The `approval.*` event of `a`'s status (`approval.requested` while pending). */
export function approvalEvent(sessionId: string, seq: number, a: Approval): SessionEvent {
  const type = a.status === "pending" ? "approval.requested" : `approval.${a.status}`;
  return event(sessionId, seq, type, { approval: a });
}
