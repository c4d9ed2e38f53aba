/**
 * Export: any session, hot or cold, as the streamed archive of SPEC §6.
 *
 * @module
 */
import type { Runtime } from "../runtime.ts";
import { historySource } from "./_history_source.ts";
import { writeArchive } from "./write_archive.ts";

/**
 * Streams the archive of session `id`: `session.json` is `rt.get(id)`, the
 * rows come from the history store page by page (drained first, and cut at
 * the session's version, so a live session can keep working meanwhile),
 * and the blobs are those its results name. The session's own `archive`
 * location, a path on this machine, is left out. 404 for an unknown id;
 * 409 when a result names a blob the blob store lacks.
 *
 * @example
 * ```ts
 * const body = await exportSession(rt, "s1");
 * await body.pipeTo((await Deno.create("s1.tar.gz")).writable);
 * ```
 */
export async function exportSession(rt: Runtime, id: string): Promise<ReadableStream<Uint8Array>> {
  const session = await rt.get(id);
  await rt.flushSession(id);
  const source = await historySource({ history: rt.history, blobs: rt.stores.blobs }, session);
  return writeArchive(source);
}
