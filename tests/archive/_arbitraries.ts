/**
 * fast-check arbitraries for archive contents: a session with its
 * coordination records (timers, approvals pending and decided, tasks in every
 * status, conflicts open and resolved), events, messages, checkpoints (with
 * and without coordination, agents and phase), results (inline, in blobs,
 * partial or not) and blobs. Rows come sorted by seq, as `readArchive`
 * returns them.
 *
 * @module
 */
import fc from "fast-check";
import type { ArchiveContents } from "../../src/archive/archive_format.ts";
import {
  type Approval,
  type Conflict,
  type Coordination,
  type Task,
  TASK_STATUSES,
  type Timer,
} from "../../src/coordination/model.ts";
import { STATUSES } from "../../src/session.ts";
import type { AgentState, Session, SessionEvent } from "../../src/session.ts";
import type { Checkpoint, Message, ResultRow } from "../../src/history/history_store.ts";

/** Any JSON value, normalized through JSON so it survives a round trip (no -0). */
const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const jsonObject = fc.dictionary(fc.string({ maxLength: 8 }), json, {
  maxKeys: 4,
  noNullPrototype: true,
})
  .map((v) => JSON.parse(JSON.stringify(v)) as Record<string, unknown>);
const at = fc.date({
  min: new Date("2000-01-01T00:00:00Z"),
  max: new Date("2100-01-01T00:00:00Z"),
  noInvalidDate: true,
}).map((d) => d.toISOString());
const text = fc.string({ maxLength: 24, unit: "grapheme" });
const idPart = fc.stringMatching(/^[A-Za-z0-9_-]{1,24}$/);
const blobName = fc.stringMatching(
  /^[a-z0-9_-][a-z0-9._-]{0,8}(\/[a-z0-9_-][a-z0-9._-]{0,8}){0,2}$/,
);

const word = fc.string({ minLength: 1, maxLength: 24, unit: "grapheme" });
const recordId = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,24}$/).filter((id) => id !== "__proto__");
const agentName = fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,16}$/);

const timer: fc.Arbitrary<Timer> = fc.tuple(
  fc.record({
    id: recordId,
    due: at,
    data: json,
    agent: agentName,
    createdAt: at,
  }, { noNullPrototype: true, requiredKeys: ["id", "due", "createdAt"] }),
  fc.oneof(
    fc.constant({}),
    fc.record({ action: fc.stringMatching(/^[a-z]{1,12}$/), args: json }, {
      noNullPrototype: true,
      requiredKeys: ["action"],
    }),
    fc.record({
      patch: fc.array(
        fc.oneof(
          json.map((value) => ({ op: "add" as const, path: "/a", value })),
          fc.constant({ op: "remove" as const, path: "/b" }),
          fc.constant({ op: "move" as const, path: "/c", from: "/d" }),
        ),
        { minLength: 1, maxLength: 3 },
      ),
    }, { noNullPrototype: true }),
  ),
).map(([t, what]) => ({ ...t, ...what }));

const approval: fc.Arbitrary<Approval> = fc.record({
  id: recordId,
  prompt: word,
  options: fc.uniqueArray(fc.stringMatching(/^[a-z]{1,10}$/), { minLength: 1, maxLength: 4 }),
  deadline: at,
  data: json,
  by: word,
  comment: text,
  reason: word,
  tasks: fc.array(recordId, { maxLength: 3 }),
  agent: agentName,
  requestedAt: at,
  decidedAt: at,
}, { noNullPrototype: true, requiredKeys: ["id", "prompt", "options", "deadline", "requestedAt"] })
  .chain((a) =>
    fc.record({
      status: fc.constantFrom("pending" as const, "decided" as const, "expired" as const),
      option: fc.constantFrom(...a.options),
      onDeadline: fc.option(fc.constantFrom(...a.options), { nil: undefined }),
    }, { noNullPrototype: true }).map(({ status, option, onDeadline }) => ({
      ...a,
      status,
      ...(status === "decided" ? { option } : {}),
      ...(onDeadline !== undefined ? { onDeadline } : {}),
    }))
  );

const task: fc.Arbitrary<Task> = fc.record({
  id: recordId,
  title: word,
  deps: fc.array(recordId, { maxLength: 3 }),
  data: json,
  maxAttempts: fc.integer({ min: 1, max: 100 }),
  status: fc.constantFrom(...TASK_STATUSES),
  attempt: fc.nat(100),
  holder: agentName,
  leaseUntil: at,
  gate: recordId,
  result: json,
  error: word,
  order: fc.nat(),
  addedAt: at,
  updatedAt: at,
}, {
  noNullPrototype: true,
  requiredKeys: [
    "id",
    "title",
    "deps",
    "maxAttempts",
    "status",
    "attempt",
    "holder",
    "leaseUntil",
    "order",
    "addedAt",
    "updatedAt",
  ],
}).map((t) => {
  if (t.status === "claimed") return t;
  const { holder: _h, leaseUntil: _l, ...rest } = t;
  return rest;
});

const conflict: fc.Arbitrary<Conflict> = fc.record({
  id: recordId,
  entity: word,
  type: fc.string({ minLength: 1, maxLength: 12 }),
  findings: fc.array(
    fc.record(
      { agent: agentName, result: fc.string({ minLength: 1, maxLength: 12 }), claim: word },
      {
        noNullPrototype: true,
        requiredKeys: ["agent", "claim"],
      },
    ),
    { minLength: 2, maxLength: 4 },
  ),
  severity: fc.constantFrom(
    "low" as const,
    "medium" as const,
    "high" as const,
    "critical" as const,
  ),
  strategy: text,
  status: fc.constantFrom("open" as const, "resolved" as const),
  resolution: json,
  by: word,
  recordedAt: at,
  resolvedAt: at,
}, {
  noNullPrototype: true,
  requiredKeys: ["id", "entity", "type", "findings", "severity", "status", "recordedAt"],
});

/** Records of one type, each filed under its own id. */
function byId<T extends { id: string }>(record: fc.Arbitrary<T>): fc.Arbitrary<Record<string, T>> {
  return fc.uniqueArray(record, { selector: (r) => r.id, maxLength: 3 })
    .map((rs) => Object.fromEntries(rs.map((r) => [r.id, r])));
}

/** Any coordination records, valid one by one (the archive does not replay the rules). */
export const coordination: fc.Arbitrary<Coordination> = fc.record({
  timers: byId(timer),
  approvals: byId(approval),
  tasks: byId(task),
  conflicts: byId(conflict),
}, { noNullPrototype: true });

const agent: fc.Arbitrary<AgentState> = fc.record({
  status: text,
  progress: fc.integer({ min: 0, max: 100 }).map((n) => n / 100),
  task: text,
  error: text,
  updatedAt: at,
}, { noNullPrototype: true, requiredKeys: ["status", "progress", "updatedAt"] });

const agents = fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), agent, {
  maxKeys: 3,
  noNullPrototype: true,
});

const session: fc.Arbitrary<Session> = fc.record({
  id: idPart,
  kind: fc.constantFrom("default", "research"),
  name: text,
  tags: fc.array(text, { maxLength: 3 }),
  meta: jsonObject,
  status: fc.constantFrom(...STATUSES),
  phase: text,
  state: jsonObject,
  agents,
  progress: fc.integer({ min: 0, max: 100 }).map((n) => n / 100),
  pendingApprovals: fc.nat(10),
  openConflicts: fc.nat(10),
  version: fc.nat(1000),
  ttl: fc.record({ active: fc.nat(), paused: fc.nat() }, { noNullPrototype: true }),
  createdAt: at,
  updatedAt: at,
  completedAt: at,
  expiresAt: at,
  report: json,
  error: text,
  origin: fc.record({ session: idPart, version: fc.nat(), checkpoint: idPart }, {
    noNullPrototype: true,
    requiredKeys: ["session", "version"],
  }),
  archive: text,
}, {
  noNullPrototype: true,
  requiredKeys: [
    "id",
    "kind",
    "tags",
    "meta",
    "status",
    "phase",
    "state",
    "agents",
    "progress",
    "pendingApprovals",
    "openConflicts",
    "version",
    "ttl",
    "createdAt",
    "updatedAt",
    "expiresAt",
  ],
});

/** Distinct seqs in ascending order. */
const seqs = (maxLength: number) =>
  fc.uniqueArray(fc.integer({ min: 1, max: 10_000 }), { maxLength })
    .map((s) => s.sort((a, b) => a - b));

function events(sessionId: string): fc.Arbitrary<SessionEvent[]> {
  const event = fc.record({ type: idPart, agent: idPart, data: json, at }, {
    noNullPrototype: true,
    requiredKeys: ["type", "data", "at"],
  });
  return fc.array(event, { maxLength: 8 }).map((rows) =>
    rows.map((row, i) => ({ sessionId, seq: i + 1, ...row }))
  );
}

const messages: fc.Arbitrary<Message[]> = seqs(6).chain((s) =>
  fc.tuple(...s.map((seq) =>
    fc.record({
      id: idPart,
      seq: fc.constant(seq),
      role: fc.constantFrom("user", "assistant", "system"),
      content: fc.string({ maxLength: 64, unit: "binary" }),
      meta: jsonObject,
      agent: idPart,
      at,
    }, { noNullPrototype: true, requiredKeys: ["id", "seq", "role", "content", "at"] })
  ))
);

const checkpoints: fc.Arbitrary<Checkpoint[]> = seqs(4).chain((s) =>
  fc.tuple(...s.map((seq) =>
    fc.record({
      id: idPart,
      seq: fc.constant(seq),
      version: fc.nat(1000),
      label: text,
      final: fc.boolean(),
      state: jsonObject,
      coordination,
      agents,
      phase: text,
      at,
    }, { noNullPrototype: true, requiredKeys: ["id", "seq", "version", "final", "state", "at"] })
  ))
);

function results(blobNames: string[]): fc.Arbitrary<ResultRow[]> {
  const place = blobNames.length === 0 ? json.map((data) => ({ data })) : fc.oneof(
    json.map((data) => ({ data })),
    fc.constantFrom(...blobNames).map((blob) => ({ blob })),
  );
  return seqs(6).chain((s) =>
    fc.tuple(...s.map((seq) =>
      fc.tuple(
        fc.record({
          seq: fc.constant(seq),
          agent: idPart,
          key: idPart,
          partial: fc.boolean(),
          bytes: fc.nat(1 << 20),
          at,
        }, { noNullPrototype: true, requiredKeys: ["seq", "key", "partial", "bytes", "at"] }),
        place,
      ).map(([row, where]) => ({ ...row, ...where }))
    ))
  );
}

/** Random, valid archive contents. */
export const archiveContents: fc.Arbitrary<ArchiveContents> = fc.record({
  session,
  coordination,
  blobs: fc.dictionary(blobName, fc.uint8Array({ maxLength: 300 }), {
    maxKeys: 4,
    noNullPrototype: true,
  }),
  messages,
  checkpoints,
}, { noNullPrototype: true }).chain(({ session, coordination, blobs, messages, checkpoints }) =>
  fc.record({ events: events(session.id), results: results(Object.keys(blobs)) }, {
    noNullPrototype: true,
  }).map((
    { events, results },
  ) => ({
    session,
    coordination,
    events,
    messages,
    checkpoints,
    results,
    blobs: new Map(Object.entries(blobs)),
  }))
);
