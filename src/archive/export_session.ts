/**
 * Export: any session, hot or cold, as the streamed archive of SPEC §6.
 *
 * @module
 */
import type { Coordination } from "../coordination/model.ts";
import { ConflictError } from "../errors.ts";
import type { Runtime } from "../../actors/runtime.ts";
import type { Session } from "../session.ts";
import { historySource } from "./_history_source.ts";
import { writeArchive } from "./write_archive.ts";

/** Reads of a busy session before the export gives up with a 409. */
const SNAPSHOT_TRIES = 8;

/**
 * Streams the archive of session `id`: `session.json` is `rt.get(id)`,
 * `coordination.json` is `rt.coordination(id)` at the same version, the
 * rows come from the history store page by page (drained first, and cut at
 * the session's version, so a live session can keep working meanwhile),
 * and the blobs are those its results name. The session's own `archive`
 * location, a path on this machine, is left out. 404 for an unknown id;
 * 409 when a result names a blob the blob store lacks, or when the session
 * moves on between every read of its records.
 *
 * @example
 * ```ts
 * const body = await exportSession(rt, "s1");
 * await body.pipeTo((await Deno.create("s1.tar.gz")).writable);
 * ```
 */
export async function exportSession(rt: Runtime, id: string): Promise<ReadableStream<Uint8Array>> {
  const { session, coordination } = await _snapshot(rt, id);
  await rt.flushSession(id);
  const source = await historySource(
    { history: rt.history, blobs: rt.stores.blobs },
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
  rt: Runtime,
  id: string,
): Promise<{ session: Session; coordination: Coordination }> {
  let session = await rt.get(id);
  for (let i = 0; i < SNAPSHOT_TRIES; i++) {
    const coordination = await rt.coordination(id);
    const after = await rt.get(id);
    if (after.version === session.version && after.status === session.status) {
      return { session, coordination };
    }
    session = after;
  }
  throw new ConflictError(`Session '${id}' kept changing while it was exported`);
}
