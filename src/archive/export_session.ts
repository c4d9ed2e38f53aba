/**
 * Export: any session, hot or cold, as the streamed archive of SPEC §6.
 *
 * @module
 */
import type { Coordination } from "../coordination/model.ts";
import { ConflictError } from "../errors.ts";
import type { Session } from "../session.ts";
import type { ArchiveHost } from "./archive_host.ts";
import { historySource } from "./_history_source.ts";
import { writeArchive } from "./write_archive.ts";

/** Reads of a busy session before the export gives up with a 409. */
const SNAPSHOT_TRIES = 8;

/**
 * Streams the archive of session `id`: `session.json` is `host.get(id)`,
 * `coordination.json` is `host.coordination(id)` at the same version, the
 * rows come from the history store page by page (drained first, and cut at
 * the session's version, so a live session can keep working meanwhile),
 * and the blobs are those its results name. The session's own `archive`
 * location, a path on this machine, is left out. 404 for an unknown id;
 * 409 when a result names a blob the blob store lacks, or when the session
 * moves on between every read of its records.
 *
 * @example
 * ```ts
 * const body = await exportSession(host, "s1");
 * await body.pipeTo((await Deno.create("s1.tar.gz")).writable);
 * ```
 */
export async function exportSession(
  host: ArchiveHost,
  id: string,
): Promise<ReadableStream<Uint8Array>> {
  const { session, coordination } = await _snapshot(host, id);
  await host.flushSession(id);
  const source = await historySource(
    { history: host.history, blobs: host.blobs },
    session,
    coordination,
  );
  return writeArchive(source);
}

/**
 * The session and its records at one version. They are two reads, and every
 * change to the records commits a new version, so records read between two
 * reads of the same version are the records of that version.
 */
async function _snapshot(
  host: ArchiveHost,
  id: string,
): Promise<{ session: Session; coordination: Coordination }> {
  let session = await host.get(id);
  for (let i = 0; i < SNAPSHOT_TRIES; i++) {
    const coordination = await host.coordination(id);
    const after = await host.get(id);
    if (after.version === session.version && after.status === session.status) {
      return { session, coordination };
    }
    session = after;
  }
  throw new ConflictError(`Session '${id}' kept changing while it was exported`);
}
