/**
 * Import: the gzip'd tar of SPEC §6 back into {@linkcode ArchiveContents},
 * streamed and checked as it goes.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { z } from "zod";
import { type Coordination, emptyCoordination } from "../coordination/model.ts";
import { DenizenError, TooLargeError, ValidationError } from "../errors.ts";
import type { Session } from "../session.ts";
import { checkManifest, checkRows } from "./_archive_checks.ts";
import { admitEntry, quote } from "./_entry_path.ts";
import { gunzipLimited } from "./_gunzip_limited.ts";
import { jsonlValues } from "./_jsonl_values.ts";
import { tarEntries } from "./_tar_entries.ts";
import {
  ARCHIVE_FILES,
  BLOBS_DIR,
  DEFAULT_ARCHIVE_LIMITS,
  FORMAT_VERSION,
  LINE_SLACK_BYTES,
  MANIFEST_FILE,
  OLDEST_FORMAT_VERSION,
} from "./archive_format.ts";
import type {
  ArchiveContents,
  ArchiveLimits,
  ArchiveManifest,
  ManifestEntry,
} from "./archive_format.ts";
import {
  checkpointSchema,
  coordinationSchema,
  eventSchema,
  manifestSchema,
  messageSchema,
  parseArchiveValue,
  resultSchema,
  sessionSchema,
} from "./archive_schema.ts";

type RowFile = "events" | "messages" | "checkpoints" | "results";

interface _JsonlFile {
  rows: RowFile;
  schema: z.ZodType<unknown, unknown>;
  maxLineBytes: (limits: ArchiveLimits) => number;
}

/** Every jsonl file: where its rows go, their schema and the longest line allowed. */
const JSONL: ReadonlyMap<string, _JsonlFile> = new Map([
  [ARCHIVE_FILES.events, {
    rows: "events",
    schema: eventSchema,
    maxLineBytes: (l) => l.maxResultBytes + LINE_SLACK_BYTES,
  }],
  [ARCHIVE_FILES.messages, {
    rows: "messages",
    schema: messageSchema,
    maxLineBytes: (l) => 6 * l.maxMessageBytes + LINE_SLACK_BYTES,
  }],
  [ARCHIVE_FILES.checkpoints, {
    rows: "checkpoints",
    schema: checkpointSchema,
    maxLineBytes: (l) => l.maxStateBytes + l.maxCoordinationBytes + LINE_SLACK_BYTES,
  }],
  [ARCHIVE_FILES.results, {
    rows: "results",
    schema: resultSchema,
    maxLineBytes: (l) => l.maxResultBytes + LINE_SLACK_BYTES,
  }],
]);

/**
 * Reads and fully checks an archive. Every failure is a `DenizenError`: a
 * 413 `TooLargeError` for input over a limit (counted while streaming, so a
 * gzip bomb stops at the limit), a 400 `ValidationError` for anything else
 * (corrupt or truncated gzip or tar, unsafe paths, links, unknown or
 * duplicate files, a missing or wrong manifest, a format version newer than
 * {@linkcode FORMAT_VERSION}, a checksum mismatch, rows or records that fail
 * their schema or disagree with each other). An archive of format 1 reads
 * with no coordination records.
 *
 * @example
 * ```ts
 * const contents = await readArchive(req.body!, { maxCompressedBytes: 64 * 1024 * 1024 });
 * console.log(contents.session.id, contents.events.length);
 * ```
 */
export async function readArchive(
  body: ReadableStream<Uint8Array>,
  limits: Partial<ArchiveLimits> = {},
): Promise<ArchiveContents> {
  const resolved: ArchiveLimits = { ...DEFAULT_ARCHIVE_LIMITS, ...limits };
  const done = new AbortController();
  try {
    return await _read(body, resolved, done.signal);
  } catch (err) {
    if (err instanceof DenizenError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new ValidationError(`Archive could not be read: ${reason}`);
  } finally {
    done.abort(); // stops reading `body` at once, also when it stalls after a rejected entry
  }
}

async function _read(
  body: ReadableStream<Uint8Array>,
  limits: ArchiveLimits,
  signal: AbortSignal,
): Promise<ArchiveContents> {
  const files = new Map<string, ManifestEntry>();
  const rows: Record<RowFile, unknown[]> = {
    events: [],
    messages: [],
    checkpoints: [],
    results: [],
  };
  const blobs = new Map<string, Uint8Array>();
  let manifest: ArchiveManifest | undefined;
  let session: Session | undefined;
  let coordination: Coordination | undefined;
  let entries = 0;
  for await (const entry of tarEntries(gunzipLimited(body, { ...limits, signal }))) {
    entries += 1;
    if (entries > limits.maxEntries) {
      throw new TooLargeError(`Archive has over the limit of ${limits.maxEntries} entries`, {
        limit: limits.maxEntries,
      });
    }
    if (!admitEntry(entry.header)) {
      for await (const _ of entry.body) { /* a skipped directory entry has no body to keep */ }
      continue;
    }
    const name = entry.header.name;
    if (files.has(name) || (name === MANIFEST_FILE && manifest !== undefined)) {
      throw new ValidationError(`Archive entry ${quote(name)} appears twice`);
    }
    const jsonl = JSONL.get(name);
    const tap = new _HashingTap(entry.body, name, _entryLimit(name, jsonl, limits));
    tap.checkDeclared(entry.header.size);
    if (name === MANIFEST_FILE) {
      manifest = parseArchiveValue(manifestSchema, _json(await tap.bytes(), name), name);
      continue;
    }
    if (name === ARCHIVE_FILES.session) {
      session = parseArchiveValue(sessionSchema, _json(await tap.bytes(), name), name);
    } else if (name === ARCHIVE_FILES.coordination) {
      coordination = parseArchiveValue(coordinationSchema, _json(await tap.bytes(), name), name);
    } else if (jsonl !== undefined) {
      for await (
        const [line, value] of jsonlValues(tap.chunks(), name, jsonl.maxLineBytes(limits))
      ) {
        rows[jsonl.rows].push(parseArchiveValue(jsonl.schema, value, `${name} line ${line}`));
      }
    } else {
      blobs.set(name.slice(BLOBS_DIR.length), await tap.bytes());
    }
    files.set(name, tap.digest());
  }
  if (manifest === undefined) throw new ValidationError(`Archive has no ${MANIFEST_FILE}`);
  _checkFormat(manifest.format, files);
  for (const file of Object.values(ARCHIVE_FILES)) {
    if (!files.has(file) && !(file === ARCHIVE_FILES.coordination && manifest.format === 1)) {
      throw new ValidationError(`Archive has no ${file}`);
    }
  }
  if (session === undefined) throw new ValidationError(`Archive has no ${ARCHIVE_FILES.session}`);
  checkManifest(manifest, session.id, files);
  const contents = {
    session,
    coordination: coordination ?? emptyCoordination(),
    ...rows,
    blobs,
  } as ArchiveContents;
  checkRows(contents, limits);
  return contents;
}

/**
 * Throws a 400 for a format this runtime does not read, or for a file the
 * archive's format does not have (`coordination.json` came with format 2).
 */
function _checkFormat(format: number, files: ReadonlyMap<string, ManifestEntry>): void {
  if (format > FORMAT_VERSION) {
    throw new ValidationError(
      `Archive format ${format} is newer than this runtime reads (${OLDEST_FORMAT_VERSION} to ${FORMAT_VERSION})`,
      { format, newest: FORMAT_VERSION },
    );
  }
  if (format === 1 && files.has(ARCHIVE_FILES.coordination)) {
    throw new ValidationError(
      `Archive of format 1 has a ${ARCHIVE_FILES.coordination}, which came with format 2`,
    );
  }
}

function _entryLimit(name: string, jsonl: _JsonlFile | undefined, limits: ArchiveLimits): number {
  if (jsonl !== undefined) return limits.maxJsonlBytes;
  if (name === ARCHIVE_FILES.coordination) {
    return Math.min(limits.maxEntryBytes, limits.maxCoordinationBytes);
  }
  if (name.startsWith(BLOBS_DIR)) return Math.min(limits.maxEntryBytes, limits.maxResultBytes);
  return limits.maxEntryBytes;
}

function _json(bytes: Uint8Array, name: string): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ValidationError(`Archive ${name} is not valid JSON: ${reason}`);
  }
}

/** Reads one entry's body while counting it against a limit and hashing it. */
class _HashingTap {
  readonly #body: AsyncIterable<Uint8Array>;
  readonly #name: string;
  readonly #limit: number;
  readonly #hash = createHash("sha256");
  #bytes = 0;

  constructor(body: AsyncIterable<Uint8Array>, name: string, limit: number) {
    this.#body = body;
    this.#name = name;
    this.#limit = limit;
  }

  /** Throws a 413 when the tar header already declares a size over the limit. */
  checkDeclared(size: number): void {
    if (size > this.#limit) throw this.#tooLarge(size);
  }

  async *chunks(): AsyncGenerator<Uint8Array> {
    for await (const chunk of this.#body) {
      this.#bytes += chunk.byteLength;
      if (this.#bytes > this.#limit) throw this.#tooLarge(this.#bytes);
      this.#hash.update(chunk);
      yield chunk;
    }
  }

  /** The whole body, copied into one plain `Uint8Array`. */
  async bytes(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for await (const chunk of this.chunks()) parts.push(chunk);
    const out = new Uint8Array(this.#bytes);
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.byteLength;
    }
    return out;
  }

  /** Size and sha256 of what was read; call once, after the body is read. */
  digest(): ManifestEntry {
    return { sha256: this.#hash.digest("hex"), bytes: this.#bytes };
  }

  #tooLarge(bytes: number): TooLargeError {
    return new TooLargeError(
      `Archive entry ${quote(this.#name)} is over the limit of ${this.#limit} bytes`,
      { bytes, limit: this.#limit },
    );
  }
}
