/**
 * fast-check arbitraries for archive contents: a session with its events,
 * messages, checkpoints, results (inline, in blobs, partial or not) and blobs.
 * Rows come sorted by seq, as `readArchive` returns them.
 *
 * @module
 */
import fc from "fast-check";
import type { ArchiveContents } from "../../src/archive/archive_format.ts";
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

const agent: fc.Arbitrary<AgentState> = fc.record({
  status: text,
  progress: fc.integer({ min: 0, max: 100 }).map((n) => n / 100),
  task: text,
  error: text,
  updatedAt: at,
}, { noNullPrototype: true, requiredKeys: ["status", "progress", "updatedAt"] });

const session: fc.Arbitrary<Session> = fc.record({
  id: idPart,
  kind: fc.constantFrom("default", "research"),
  name: text,
  tags: fc.array(text, { maxLength: 3 }),
  meta: jsonObject,
  status: fc.constantFrom(...STATUSES),
  phase: text,
  state: jsonObject,
  agents: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), agent, {
    maxKeys: 3,
    noNullPrototype: true,
  }),
  progress: fc.integer({ min: 0, max: 100 }).map((n) => n / 100),
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
  blobs: fc.dictionary(blobName, fc.uint8Array({ maxLength: 300 }), {
    maxKeys: 4,
    noNullPrototype: true,
  }),
  messages,
  checkpoints,
}, { noNullPrototype: true }).chain(({ session, blobs, messages, checkpoints }) =>
  fc.record({ events: events(session.id), results: results(Object.keys(blobs)) }, {
    noNullPrototype: true,
  }).map((
    { events, results },
  ) => ({
    session,
    events,
    messages,
    checkpoints,
    results,
    blobs: new Map(Object.entries(blobs)),
  }))
);
