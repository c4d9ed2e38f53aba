/**
 * The archive format of SPEC §6: what an archive holds, the files it is made
 * of, and the limits an import enforces.
 *
 * An archive is a gzip'd tar with these regular files, in this order:
 *
 * | path | holds |
 * |---|---|
 * | `session.json` | the {@linkcode Session}, one JSON object |
 * | `coordination.json` | its {@linkcode Coordination} records (SPEC §9), one JSON object |
 * | `events.jsonl` | every {@linkcode SessionEvent}, one per line, seq 1..n with no gap |
 * | `messages.jsonl` | {@linkcode Message} rows, ascending seq |
 * | `checkpoints.jsonl` | {@linkcode Checkpoint} rows, ascending seq, with their coordination, agents and phase when they have them |
 * | `results.jsonl` | {@linkcode ResultRow} rows, ascending seq |
 * | `blobs/<name>` | one file per blob, ascending name |
 * | `manifest.json` | {@linkcode ArchiveManifest}: the sha256 and size of every other file |
 *
 * JSON is canonical (object keys sorted, no whitespace, one `\n` after every
 * document and line), every tar header has mtime 0, mode 0o644 and uid/gid 0,
 * so the same contents always give the same bytes and the same manifest.
 *
 * Format 1 had no `coordination.json` (and no coordination, agents or phase
 * in its checkpoints). An import still reads it, as a session without
 * coordination records.
 *
 * @module
 */
import type { Coordination } from "../coordination/model.ts";
import type { Session, SessionEvent } from "../session.ts";
import { LIMITS } from "../session.ts";
import type { Checkpoint, Message, ResultRow } from "../history/history_store.ts";

/** Version written to `manifest.json`: the newest an import reads. */
export const FORMAT_VERSION = 2;

/** The oldest version an import reads. */
export const OLDEST_FORMAT_VERSION = 1;

/**
 * The fixed files, in the order they are written. `blobs/…` and
 * `manifest.json` follow. Every one is required, but `coordination.json` in
 * format 1, which had none.
 */
export const ARCHIVE_FILES = {
  session: "session.json",
  coordination: "coordination.json",
  events: "events.jsonl",
  messages: "messages.jsonl",
  checkpoints: "checkpoints.jsonl",
  results: "results.jsonl",
} as const;

/** The path of the manifest, always the last entry. */
export const MANIFEST_FILE = "manifest.json";

/** The folder that holds blobs. */
export const BLOBS_DIR = "blobs/";

/**
 * A blob name: a relative path of 1 to 8 segments joined by `/`, each segment
 * made of `A-Z a-z 0-9 . _ -` and not starting with a dot (so never `.` or
 * `..`, never hidden), at most 200 characters in all.
 *
 * Blob names are relative to the session: the exporter strips the
 * `<sessionId>/` prefix of a blob store key and the importer adds the new
 * session's prefix. A {@linkcode ResultRow}'s `blob` inside an archive is such
 * a name and must name a blob of the same archive, so an archive can never
 * point at another session's blobs.
 */
export const BLOB_NAME_PATTERN =
  /^[A-Za-z0-9_-][A-Za-z0-9._-]*(?:\/[A-Za-z0-9_-][A-Za-z0-9._-]*){0,7}$/;

/** Longest blob name, in characters. */
export const MAX_BLOB_NAME = 200;

/**
 * True when `name` is a safe blob name (see {@linkcode BLOB_NAME_PATTERN}).
 *
 * @example
 * ```ts
 * isBlobName("result-12/part.1"); // true
 * isBlobName("../x"); // false
 * ```
 */
export function isBlobName(name: string): boolean {
  return name.length <= MAX_BLOB_NAME && BLOB_NAME_PATTERN.test(name);
}

/** Everything a session archive holds, fully in memory. */
export interface ArchiveContents {
  /** The session as `session.json` holds it. */
  session: Session;
  /** Its coordination records; none for an archive of format 1. */
  coordination: Coordination;
  /** Ascending seq, 1..n. */
  events: SessionEvent[];
  /** Ascending seq. */
  messages: Message[];
  /** Ascending seq. */
  checkpoints: Checkpoint[];
  /** Ascending seq. A row's `blob`, when set, is a key of `blobs`. */
  results: ResultRow[];
  /** Blob bytes by blob name (see {@linkcode BLOB_NAME_PATTERN}). */
  blobs: Map<string, Uint8Array>;
}

/** Rows that are iterable (sync or async). */
export type Rows<T> = Iterable<T> | AsyncIterable<T>;

/**
 * A streaming source for `writeArchive`, for sessions too large to hold in
 * memory. The row functions are called twice (once to size a file, once to
 * write it) and must yield the same rows, in ascending seq, both times; a
 * source that reads a live store should stop at a fixed seq. A result's
 * `blob` must be the name of a blob the source yields, or the archive will
 * not import.
 */
export interface ArchiveSource {
  /** The session as `session.json` holds it. */
  readonly session: Session;
  /** Its coordination records at `session.version`, as `coordination.json` holds them. */
  readonly coordination: Coordination;
  /** Events, ascending seq 1..n. */
  events(): Rows<SessionEvent>;
  /** Messages, ascending seq. */
  messages(): Rows<Message>;
  /** Checkpoints, ascending seq. */
  checkpoints(): Rows<Checkpoint>;
  /** Results, ascending seq. */
  results(): Rows<ResultRow>;
  /** Each blob once, as `[name, bytes]`, in ascending name order. */
  blobs(): Rows<readonly [string, Uint8Array]>;
}

/** The size and sha256 of one file of an archive. */
export interface ManifestEntry {
  /** Lower-case hex. */
  sha256: string;
  /** Size of the file. */
  bytes: number;
}

/** `manifest.json`: the format version, the session id and every other file. */
export interface ArchiveManifest {
  /**
   * {@linkcode FORMAT_VERSION} when written; from {@linkcode OLDEST_FORMAT_VERSION}
   * to {@linkcode FORMAT_VERSION} when read.
   */
  format: number;
  /** The id of the archived session. */
  session: string;
  /** Every file but the manifest, by path. */
  files: Record<string, ManifestEntry>;
}

/** Limits enforced while an archive is read. All sizes are in bytes. */
export interface ArchiveLimits {
  /** Gzip'd input, counted as it arrives. Default 256 MiB. */
  maxCompressedBytes: number;
  /** Inflated tar stream (headers and padding included), counted as it inflates. Default 512 MiB. */
  maxTotalBytes: number;
  /** One `session.json`, `manifest.json` or blob. Default 64 MiB, the largest result. */
  maxEntryBytes: number;
  /**
   * One `.jsonl` file. Default 80 MiB: the largest single item (a 64 MiB
   * result) plus 16 MiB of slack for the JSON framing of the other rows.
   */
  maxJsonlBytes: number;
  /** Tar entries, of any type. Default 100,000. */
  maxEntries: number;
  /** One message's `content`, UTF-8. Default `LIMITS.message` (1 MiB). */
  maxMessageBytes: number;
  /** The JSON of a session's or checkpoint's `state`. Default `LIMITS.state` (512 KiB). */
  maxStateBytes: number;
  /**
   * `coordination.json`, and the JSON of a checkpoint's `coordination`.
   * Default 16 MiB. Each record is also held to `RECORD_BYTES` (48 KiB), as
   * the runtime holds it, and each type to `MAX_RECORDS`.
   */
  maxCoordinationBytes: number;
  /** The JSON of a result's inline `data`, or a blob. Default `LIMITS.result` (64 MiB). */
  maxResultBytes: number;
}

const MiB = 1024 * 1024;

/** The default {@linkcode ArchiveLimits}. */
export const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  maxCompressedBytes: 256 * MiB,
  maxTotalBytes: 512 * MiB,
  maxEntryBytes: 64 * MiB,
  maxJsonlBytes: 80 * MiB,
  maxEntries: 100_000,
  maxMessageBytes: LIMITS.message,
  maxStateBytes: LIMITS.state,
  maxCoordinationBytes: 16 * MiB,
  maxResultBytes: LIMITS.result,
});

/**
 * Extra bytes a jsonl line may take on top of its item's limit, for ids, seq,
 * timestamps, meta and a checkpoint's agents. A message line also allows for
 * JSON escaping of its content (at most 6 bytes per content byte); state,
 * coordination and result limits are measured on JSON already, and a
 * checkpoint line may hold both a state and a coordination at their limits.
 */
export const LINE_SLACK_BYTES = 64 * 1024;
