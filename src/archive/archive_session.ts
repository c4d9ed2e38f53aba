/**
 * The `archive` transition of SPEC §1: a completed, failed or expired
 * session gets its archive written to disk and is recorded as archived.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { iso } from "../clock.ts";
import { ConflictError, SessionNotFoundError } from "../errors.ts";
import type { ArchiveHost } from "./archive_host.ts";
import { assertId, type Session, transition } from "../session.ts";
import { withSessionLock } from "./_session_lock.ts";
import { exportSession } from "./export_session.ts";
import { diskFull } from "../blobs/disk_full.ts";

/** Temp dirs of runtimes without an `archiveDir` (memory mode), made on first use. */
const tempDirs = new WeakMap<ArchiveHost, Promise<string>>();

/** What an archive file is called while it is written: `<id>.tar.gz.tmp-<uuid>`. */
const PARTIAL = /\.tar\.gz\.tmp-[0-9a-f-]{36}$/;

/**
 * completed, failed or expired → archived. Writes the session's archive to
 * `<archiveDir>/<id>.tar.gz` (a temp dir when the runtime has none) through
 * a temporary name and a rename, then records, in one history write, an
 * `archived` event (`{bytes, sha256}` of the file) with the next seq and the
 * index row with `status: "archived"` and `archive` set to the file's
 * absolute path. The archive holds the session as it was before the
 * transition, so it imports as completed, failed or expired. 409 naming the
 * status for any other session; the file is removed again if the history
 * write fails. A full disk is a 503 and leaves no file (not even part of one):
 * the same call succeeds once there is space. A process killed while it
 * writes leaves its temporary file, which the next start removes
 * ({@linkcode removePartialArchives}); killed between the rename and the
 * history write, it leaves a whole archive file of a session still
 * completed (or failed, or expired), which archiving it again replaces.
 *
 * @example
 * ```ts
 * // `host` is what a runtime hands its archive code; `s1` has completed
 * const archived = await archiveSession(host, "s1");
 * console.log(archived.status, archived.archive); // "archived", "/…/s1.tar.gz"
 * ```
 */
export async function archiveSession(host: ArchiveHost, id: string): Promise<Session> {
  assertId(id);
  return await withSessionLock(host, id, async () => {
    transition(id, (await host.get(id)).status, "archive");
    await host.flushSession(id); // a terminal session leaves KV once drained: SQL then has the whole of it
    const record = await host.history.getSession(id);
    if (!record) throw new SessionNotFoundError(id);
    transition(id, record.status, "archive");
    if (await host.history.lastSeq(id) !== record.version) {
      throw new ConflictError(`Session '${id}' history does not end at version ${record.version}`);
    }
    const path = `${await _archiveDir(host)}/${id}.tar.gz`;
    const file = await _writeFile(path, await exportSession(host, id));
    const at = iso(host.clock.now());
    const version = record.version + 1;
    try {
      await host.history.write({
        events: [{ sessionId: id, seq: version, type: "archived", data: file, at }],
        sessions: [{ ...record, status: "archived", archive: path, version, updatedAt: at }],
      });
    } catch (error) {
      await Deno.remove(path).catch(() => {});
      throw error;
    }
    return await host.get(id);
  });
}

/**
 * Removes the temporary files that archive writes cut short by a dead process
 * left in the runtime's archive directory; returns how many. Run at start, and
 * only by a runtime that holds its data directory (no other can be writing).
 *
 * @example
 * ```ts
 * const removed = await removePartialArchives(host);
 * ```
 */
export async function removePartialArchives(host: ArchiveHost): Promise<number> {
  const dir = host.archiveDir;
  if (dir === undefined || !host.soleWriter) return 0;
  let removed = 0;
  try {
    for await (const e of Deno.readDir(dir)) {
      if (!e.isFile || !PARTIAL.test(e.name)) continue;
      await Deno.remove(`${dir}/${e.name}`);
      removed++;
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return removed;
}

/** The runtime's archive directory as an absolute path, created if needed. */
async function _archiveDir(host: ArchiveHost): Promise<string> {
  const dir = host.archiveDir;
  if (dir === undefined) {
    let temp = tempDirs.get(host);
    if (temp === undefined) {
      temp = Deno.makeTempDir({ prefix: "denizen-archives-" });
      tempDirs.set(host, temp);
    }
    return await temp;
  }
  await Deno.mkdir(dir, { recursive: true });
  return await Deno.realPath(dir);
}

/**
 * Writes `body` to `path` through a temporary file; returns its size and
 * sha256. On any failure the temporary file is removed; a full disk is a 503.
 */
async function _writeFile(
  path: string,
  body: ReadableStream<Uint8Array>,
): Promise<{ bytes: number; sha256: string }> {
  const temp = `${path}.tmp-${crypto.randomUUID()}`;
  const hash = createHash("sha256");
  let bytes = 0;
  const tap = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  try {
    const out = await Deno.open(temp, { write: true, createNew: true });
    await body.pipeThrough(tap).pipeTo(out.writable);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw diskFull(error, `archive '${path}'`);
  }
  return { bytes, sha256: hash.digest("hex") };
}
