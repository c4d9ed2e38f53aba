/**
 * A small valid archive and ways to rebuild it after tampering: `seal`
 * recomputes a correct manifest so content checks, not checksums, are what a
 * test reaches.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type ArchiveContents, FORMAT_VERSION } from "../../src/archive/archive_format.ts";
import { readArchive } from "../../src/archive/read_archive.ts";
import { writeArchive } from "../../src/archive/write_archive.ts";
import { type Coordination, emptyCoordination } from "../../src/coordination/model.ts";
import { DenizenError } from "../../src/errors.ts";
import { collect, entriesOf, sha256, streamOf, tarGzOf } from "./_tar_helpers.ts";
import type { RawEntry } from "./_tar_helpers.ts";

const AT = "2024-05-01T12:00:00.000Z";

/** A session with two events, a message, a checkpoint, an inline and a blob result, and no records. */
export function sampleContents(): ArchiveContents {
  return {
    session: {
      id: "s1",
      kind: "default",
      name: "sample",
      tags: ["t"],
      meta: {},
      status: "completed",
      phase: "done",
      state: { n: 1 },
      agents: {},
      progress: 1,
      pendingApprovals: 0,
      openConflicts: 0,
      version: 2,
      ttl: { active: 86_400_000, paused: 604_800_000 },
      createdAt: AT,
      updatedAt: AT,
      completedAt: AT,
      expiresAt: AT,
    },
    coordination: emptyCoordination(),
    events: [
      { sessionId: "s1", seq: 1, type: "created", data: {}, at: AT },
      { sessionId: "s1", seq: 2, type: "message", data: { text: "hi" }, at: AT },
    ],
    messages: [{ id: "m1", seq: 2, role: "user", content: "hi", at: AT }],
    checkpoints: [{ id: "c1", seq: 2, version: 2, final: true, state: { n: 1 }, at: AT }],
    results: [
      { seq: 2, key: "inline", partial: true, data: { ok: 1 }, bytes: 8, at: AT },
      { seq: 3, key: "big", partial: false, blob: "a", bytes: 3, at: AT },
    ],
    blobs: new Map([["a", new Uint8Array([1, 2, 3])]]),
  };
}

/** One record of each type, in the shapes the runtime makes them. */
export function sampleCoordination(): Coordination {
  return {
    timers: {
      tm1: { id: "tm1", due: AT, data: { ping: 1 }, createdAt: AT },
    },
    approvals: {
      ap1: {
        id: "ap1",
        prompt: "Ship it?",
        options: ["approve", "reject"],
        deadline: AT,
        status: "pending",
        requestedAt: AT,
      },
      ap2: {
        id: "ap2",
        prompt: "Go on?",
        options: ["yes", "no"],
        deadline: AT,
        status: "decided",
        option: "yes",
        by: "person",
        requestedAt: AT,
        decidedAt: AT,
      },
    },
    tasks: {
      t1: {
        id: "t1",
        title: "Find",
        deps: [],
        maxAttempts: 3,
        status: "done",
        attempt: 1,
        result: { found: true },
        order: 0,
        addedAt: AT,
        updatedAt: AT,
      },
      t2: {
        id: "t2",
        title: "Write",
        deps: ["t1"],
        maxAttempts: 3,
        status: "claimed",
        attempt: 1,
        holder: "writer",
        leaseUntil: AT,
        order: 1,
        addedAt: AT,
        updatedAt: AT,
      },
    },
    conflicts: {
      cf1: {
        id: "cf1",
        entity: "ACME",
        type: "revenue",
        findings: [{ agent: "a", claim: "up" }, { agent: "b", claim: "down" }],
        severity: "high",
        status: "open",
        recordedAt: AT,
      },
    },
  };
}

/** The valid archive of `sampleContents()`, as bytes. */
export async function sampleArchive(): Promise<Uint8Array> {
  return await collect(writeArchive(sampleContents()));
}

/** The files of the sample archive, without its manifest. */
export async function sampleFiles(): Promise<RawEntry[]> {
  return (await entriesOf(await sampleArchive())).filter((e) => e.name !== "manifest.json");
}

/** A tar.gz of `files` plus a manifest of format `format` that is correct for them. */
export async function seal(
  files: RawEntry[],
  session = "s1",
  format: number = FORMAT_VERSION,
): Promise<Uint8Array> {
  const listed: Record<string, { sha256: string; bytes: number }> = {};
  for (const f of files) {
    if ((f.type ?? "file") !== "file") continue;
    const body = typeof f.body === "string"
      ? new TextEncoder().encode(f.body)
      : f.body ?? new Uint8Array();
    listed[f.name] = { sha256: await sha256(body), bytes: body.byteLength };
  }
  const manifest = JSON.stringify({ format, session, files: listed });
  return tarGzOf([...files, { name: "manifest.json", body: manifest }]);
}

/** `files` with the body of `name` replaced. */
export function replaced(files: RawEntry[], name: string, body: string): RawEntry[] {
  return files.map((f) => (f.name === name ? { ...f, body } : f));
}

/**
 * Property: `bytes` cut short and with up to four bytes flipped, passed
 * through `encode` and read in chunks of `chunk` bytes, is either read or
 * refused with a 400 or 413 `DenizenError`, never anything else.
 */
export async function assertCorruptionRefused(
  bytes: Uint8Array,
  encode: (corrupted: Uint8Array) => Promise<Uint8Array>,
  chunk: number,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(bytes.byteLength - 1), fc.integer({ min: 1, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.nat(bytes.byteLength),
      async (flips, cut) => {
        const corrupted = bytes.slice(0, Math.max(cut, 1));
        for (const [at, xor] of flips) if (at < corrupted.byteLength) corrupted[at] ^= xor;
        try {
          await readArchive(streamOf(await encode(corrupted), chunk));
        } catch (err) {
          assert.ok(err instanceof DenizenError, `not a DenizenError: ${err}`);
          assert.ok(err.status === 400 || err.status === 413);
        }
      },
    ),
    { numRuns: 300 },
  );
}
