/**
 * An {@linkcode ArchiveSource} over the history store: a session's rows are
 * paged out of SQL rather than loaded at once, and every pass stops at the
 * session's version so that the two passes `writeArchive` makes agree even
 * while a live session moves on.
 *
 * @module
 */
import type { BlobStore } from "../blobs/blob_store.ts";
import type { Coordination } from "../coordination/model.ts";
import { ConflictError } from "../errors.ts";
import type { Checkpoint, HistoryStore, Message, ResultRow } from "../history/history_store.ts";
import type { Session, SessionEvent } from "../session.ts";
import type { ArchiveSource } from "./archive_format.ts";

/** Rows per history query: items run up to 1 MiB each, so a page stays well under 128 MiB. */
const PAGE = 128;

/** Where the source reads from. */
export interface HistorySourceStores {
  /** Rows: events, messages, checkpoints, results. */
  readonly history: HistoryStore;
  /** Bytes of results over the inline limit. */
  readonly blobs: BlobStore;
}

/**
 * The archive source of `session` and its `coordination` records (both as of
 * `session.version`), with its rows as the history store holds them, up to
 * that version. Checkpoints (few, and pruned as a session moves on) are
 * read once, up front; blob store keys `<id>/<name>` become archive names
 * `<name>` in result rows and `result` events. Throws a 409 when a result
 * names a blob the blob store lacks, before anything is streamed.
 *
 * @example
 * ```ts
 * const body = writeArchive(await historySource({ history, blobs }, session, coordination));
 * ```
 */
export async function historySource(
  stores: HistorySourceStores,
  session: Session,
  coordination: Coordination,
): Promise<ArchiveSource> {
  const { history, blobs } = stores;
  const id = session.id;
  const last = session.version;
  const prefix = `${id}/`;
  const relative = (key: string): string => {
    if (!key.startsWith(prefix)) {
      throw new ConflictError(`Session '${id}' names blob '${key}' outside its own blobs`);
    }
    return key.slice(prefix.length);
  };
  const checkpoints: Checkpoint[] = (await history.checkpoints(id))
    .filter((c) => c.seq <= last)
    .reverse();
  const blobKeys = await _resultBlobs(history, id, last);
  const stored = new Set(await blobs.list(prefix));
  for (const key of blobKeys) {
    if (!stored.has(key)) {
      throw new ConflictError(`Session '${id}' names blob '${key}', which the blob store lacks`);
    }
  }
  const names = blobKeys.map(relative).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let messagePages: number[] | undefined;
  // Only the archived session's own location is left out: it is a path on this machine.
  const { archive: _here, ...portable } = session;

  return {
    session: portable,
    coordination,
    async *events() {
      for await (
        const e of _ascending((after) => history.events(id, { after, limit: PAGE }), last)
      ) {
        yield _portableEvent(e, relative);
      }
    },
    async *messages() {
      messagePages ??= await _messagePages(history, id, last);
      for (const before of messagePages) yield* await history.messages(id, { before, limit: PAGE });
    },
    checkpoints: () => checkpoints,
    async *results() {
      for await (
        const r of _ascending((after) => history.results(id, { after, limit: PAGE }), last)
      ) {
        yield _portableResult(r, relative);
      }
    },
    async *blobs() {
      for (const name of names) {
        const bytes = await blobs.get(prefix + name);
        if (bytes === undefined) {
          throw new ConflictError(
            `Blob '${prefix + name}' of session '${id}' vanished during export`,
          );
        }
        yield [name, bytes] as const;
      }
    },
  };
}

/** Rows of an ascending `after`-paged query, up to seq `last`. */
async function* _ascending<T extends { seq: number }>(
  page: (after: number) => Promise<T[]>,
  last: number,
): AsyncGenerator<T> {
  let after = 0;
  for (;;) {
    const rows = await page(after);
    for (const row of rows) {
      if (row.seq > last) return;
      yield row;
    }
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1].seq;
  }
}

/**
 * The `before` bounds of the message pages up to seq `last`, oldest page
 * first. Messages page backwards, so the bounds are found once and each
 * page is read again, in ascending order, when it is written.
 */
async function _messagePages(history: HistoryStore, id: string, last: number): Promise<number[]> {
  const bounds: number[] = [];
  let before = last + 1;
  for (;;) {
    const rows: Message[] = await history.messages(id, { before, limit: PAGE });
    if (rows.length === 0) break;
    bounds.push(before);
    if (rows.length < PAGE) break;
    before = rows[0].seq;
  }
  return bounds.reverse();
}

/** Blob store keys named by the session's results up to seq `last`, each once. */
async function _resultBlobs(history: HistoryStore, id: string, last: number): Promise<string[]> {
  const keys = new Set<string>();
  for await (const r of _ascending((after) => history.results(id, { after, limit: PAGE }), last)) {
    if (r.blob !== undefined) keys.add(r.blob);
  }
  return [...keys];
}

/**
 * A result row with its blob named relative to the session. A stored `null`
 * reads back as no data at all; the archive spells it out.
 */
function _portableResult(r: ResultRow, relative: (key: string) => string): ResultRow {
  if (r.blob !== undefined) return { ...r, blob: relative(r.blob) };
  return r.data === undefined ? { ...r, data: null } : r;
}

/** A `result` event with its blob named relative to the session; other events as they are. */
function _portableEvent(e: SessionEvent, relative: (key: string) => string): SessionEvent {
  if (e.type !== "result" || e.data === null || typeof e.data !== "object") return e;
  const data = e.data as Record<string, unknown>;
  return typeof data.blob === "string" ? { ...e, data: { ...data, blob: relative(data.blob) } } : e;
}
