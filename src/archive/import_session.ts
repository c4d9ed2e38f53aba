/**
 * Import: an archive of SPEC §6 back into a runtime, as a session with the
 * archive's id. Verified in full before anything is written; undone in full
 * when a write fails, or, when the process dies in the middle, at the next
 * start ({@linkcode recoverImports}).
 *
 * @module
 */
import type { Coordination } from "../coordination/model.ts";
import { ConflictError, SessionNotFoundError, ValidationError } from "../errors.ts";
import type { SessionRecord } from "../history/history_store.ts";
import { assertSize, jsonBytes, LIMITS, type Session, type SessionEvent } from "../session.ts";
import { checkDerivedRows } from "./_derived_rows.ts";
import type { ArchiveHost } from "./archive_host.ts";
import { withSessionLock } from "./_session_lock.ts";
import type { ArchiveContents, ArchiveLimits } from "./archive_format.ts";
import { readArchive } from "./read_archive.ts";

/** A session head, without state, must fit one KV value (64 KiB) with room for bookkeeping. */
const HEAD_BYTES = 60 * 1024;

/**
 * How old the mark of an import must be before a runtime on a shared KV (Deno
 * Deploy) takes it for abandoned: another instance may be running it. A
 * runtime that is its KV's sole writer takes every mark it finds at start.
 */
export const IMPORT_ABANDONED_MS = 60 * 60 * 1000;

/**
 * Reads `body` (see `readArchive`: 400 for anything malformed, 413 over
 * `limits`), checks that its rows are the ones its events give, and writes
 * the session: a mark in KV (`["i", id]`), blobs under `<id>/…`, then events
 * and the index row in one history write, then, for an active or paused
 * session, its hot state in KV at its own version, and last it removes the
 * mark. Its coordination records go with it: into KV with the
 * hot state of a live session, into the index row of a terminal one; an
 * archive of format 1 has none. 409 when the id exists, hot or cold. Active
 * and paused sessions need their kind registered and a state the kind
 * accepts. An archived session comes in as archived without a local archive
 * file.
 *
 * @example
 * ```ts
 * const file = await Deno.open("s1.tar.gz");
 * const session = await importSession(host, file.readable);
 * ```
 */
export async function importSession(
  host: ArchiveHost,
  body: ReadableStream<Uint8Array>,
  limits: Partial<ArchiveLimits> = {},
): Promise<Session> {
  const contents = await readArchive(body, limits);
  const session = _checked(host, contents);
  const { coordination } = contents;
  const id = session.id;
  return await withSessionLock(host, id, async () => {
    if (await _exists(host, id)) throw new ConflictError(`Session '${id}' already exists`);
    // The mark goes first and comes off last: a process that dies in between leaves it, and the
    // next start finishes the import's undoing (see recoverImports).
    await host.imports.mark(id, host.clock.now());
    try {
      for (const [name, bytes] of contents.blobs) {
        await host.blobs.put(`${id}/${name}`, bytes);
      }
      await host.history.write({
        events: contents.events.map((e) => _storedEvent(e, id)),
        sessions: [_record(session, coordination)],
      });
      if (!_terminal(session)) await host.install(session, coordination);
    } catch (error) {
      await _undo(host, id).catch(() => {}); // the mark stays: the next start tries again
      throw error;
    }
    // A mark left behind by a failure here is found complete at the next start, and removed.
    await host.imports.unmark(id).catch(() => {});
    return await host.get(id);
  });
}

/**
 * Finishes the imports that a process died in the middle of, whose marks
 * are still in KV: one whose last write landed (the KV head of an active or
 * paused session, the history write of a terminal one) is whole and stays;
 * any other is removed, history rows and blobs, so that it can be imported
 * again. Run at start, before anything is served. On a shared KV it leaves
 * marks younger than {@linkcode IMPORT_ABANDONED_MS}. Returns the ids it
 * removed.
 *
 * @example
 * ```ts
 * const undone = await recoverImports(host);
 * ```
 */
export async function recoverImports(host: ArchiveHost): Promise<string[]> {
  const undone: string[] = [];
  for await (const { id, at } of host.imports.marks()) {
    if (!host.soleWriter && host.clock.now() - at < IMPORT_ABANDONED_MS) continue;
    if (await _landed(host, id)) {
      await host.imports.unmark(id);
    } else {
      await _undo(host, id);
      undone.push(id);
    }
  }
  return undone;
}

/** Whether the last write of the import of `id` landed: nothing after it can fail. */
async function _landed(host: ArchiveHost, id: string): Promise<boolean> {
  const record = await host.history.getSession(id);
  if (record === undefined) return false;
  if (_terminal(record)) return true;
  return await host.imports.live(id);
}

/** Removes what an import of `id` wrote (history rows, blobs), then its mark. */
async function _undo(host: ArchiveHost, id: string): Promise<void> {
  await host.history.deleteSession(id);
  await host.blobs.deletePrefix(`${id}/`);
  await host.imports.unmark(id);
}

/** The session to import, once it is known to fit this runtime; 400 or 413 otherwise. */
function _checked(host: ArchiveHost, contents: ArchiveContents): Session {
  checkDerivedRows(contents);
  const { archive: _elsewhere, ...listed } = contents.session;
  // The counts are recomputed from coordination.json rather than taken from session.json: the
  // records are what the runtime acts on, so the counts must agree with them whatever
  // session.json says (format 1 has no records, so its sessions count none).
  const session: Session = { ...listed, ..._counts(contents.coordination) };
  if (session.version !== contents.events.length) {
    throw new ValidationError(
      `Archive session is at version ${session.version} but has ${contents.events.length} events`,
    );
  }
  if (_terminal(session)) return session;
  const kind = host.kind(session.kind);
  if (kind === undefined) {
    throw new ValidationError(
      `Kind '${session.kind}' is not registered, so a ${session.status} session of it cannot be imported`,
    );
  }
  if (!kind.accepts(session.state)) {
    throw new ValidationError(`Archive state does not match kind '${session.kind}'`);
  }
  if (Object.keys(session.agents).length > LIMITS.agents) {
    throw new ValidationError(`A session has at most ${LIMITS.agents} agents`);
  }
  const { state: _state, report: _report, ...head } = session;
  assertSize("Archive session head", jsonBytes(head), HEAD_BYTES);
  return session;
}

function _terminal(session: Pick<Session, "status">): boolean {
  return session.status !== "active" && session.status !== "paused";
}

async function _exists(host: ArchiveHost, id: string): Promise<boolean> {
  if (await host.history.getSession(id)) return true;
  try {
    await host.get(id);
    return true;
  } catch (error) {
    if (error instanceof SessionNotFoundError) return false;
    throw error;
  }
}

/**
 * The index row: terminal rows keep their final state, report and records,
 * live rows keep them in KV.
 */
function _record(session: Session, coordination: Coordination): SessionRecord {
  if (_terminal(session)) return { ...session, coordination };
  const { state: _state, report: _report, ...record } = session;
  return record;
}

/** The counts a session shows of its records (SPEC §9.2, §9.4). */
function _counts(
  coordination: Coordination,
): Pick<Session, "pendingApprovals" | "openConflicts"> {
  return {
    pendingApprovals: Object.values(coordination.approvals)
      .filter((a) => a.status === "pending").length,
    openConflicts: Object.values(coordination.conflicts).filter((c) => c.status === "open").length,
  };
}

/** A `result` event with its archive blob name turned back into this session's blob key. */
function _storedEvent(e: SessionEvent, id: string): SessionEvent {
  if (e.type !== "result" || e.data === null || typeof e.data !== "object") return e;
  const data = e.data as Record<string, unknown>;
  return typeof data.blob === "string"
    ? { ...e, data: { ...data, blob: `${id}/${data.blob}` } }
    : e;
}
