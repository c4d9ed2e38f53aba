/**
 * What archive, export and import need of the runtime that runs them: its
 * stores, its clock, which kinds it knows, and four of its operations. The
 * runtime builds one of these privately; the archive code sees nothing else
 * of it.
 *
 * @module
 */
import type { BlobStore } from "../blobs/blob_store.ts";
import type { Clock } from "../clock.ts";
import type { Coordination } from "../coordination/model.ts";
import type { HistoryStore } from "../history/history_store.ts";
import type { Session } from "../session.ts";

/** A registered session kind, as far as an import needs it. */
export interface ArchiveKind {
  /** Whether `state` is one the kind accepts. */
  accepts(state: unknown): boolean;
}

/**
 * The runtime as the archive code uses it. The same object for the life of
 * its runtime: it also keys the lock that keeps an import and an archive of
 * one id apart.
 */
export interface ArchiveHost {
  /** The SQL history store. */
  readonly history: HistoryStore;
  /** The blob store of large results. */
  readonly blobs: BlobStore;
  /** Where archive files go; without one (memory mode), a temp dir. */
  readonly archiveDir: string | undefined;
  /** The runtime's clock. */
  readonly clock: Clock;
  /** The registered kind of that name, if any. */
  kind(name: string): ArchiveKind | undefined;
  /** The session, hot or cold; 404 when unknown. */
  get(id: string): Promise<Session>;
  /** The session's coordination records, live or as it ended. */
  coordination(id: string): Promise<Coordination>;
  /** 404 unless the session exists; afterwards its history in SQL is complete up to now. */
  flushSession(id: string): Promise<void>;
  /** Whether this runtime is its KV's only writer (a locked data directory, or memory). */
  readonly soleWriter: boolean;
  /** The marks of imports in progress, kept in KV beside the sessions. */
  readonly imports: ImportMarks;
  /** Installs an imported active or paused session in KV at its own version (its history is in SQL). */
  install(session: Session, coordination: Coordination): Promise<void>;
}

/** Marks of imports in progress: set first, removed last, so a dead process's import is found at the next start. */
export interface ImportMarks {
  /** Marks session `id`'s import as begun at `at` (epoch ms). */
  mark(id: string, at: number): Promise<void>;
  /** Removes the mark of `id`'s import. */
  unmark(id: string): Promise<void>;
  /** Every mark, with when its import began. */
  marks(): AsyncIterable<{ id: string; at: number }>;
  /** Whether session `id` has hot state in KV (an import's last write, for a live session). */
  live(id: string): Promise<boolean>;
}
