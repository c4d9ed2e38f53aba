/**
 * Export: a session's contents as the gzip'd tar of SPEC §6, streamed.
 *
 * @module
 */
import tar from "tar-stream";
import type { Pack } from "tar-stream";
import { createHash } from "node:crypto";
import { ConflictError, ValidationError } from "../errors.ts";
import { utf8Length } from "../session.ts";
import { canonicalJson } from "./_canonical_json.ts";
import { drained } from "./_stream_drained.ts";
import {
  ARCHIVE_FILES,
  BLOBS_DIR,
  FORMAT_VERSION,
  isBlobName,
  MANIFEST_FILE,
} from "./archive_format.ts";
import type {
  ArchiveContents,
  ArchiveManifest,
  ArchiveSource,
  ManifestEntry,
  Rows,
} from "./archive_format.ts";

/** Bytes per chunk handed to tar and gzip. */
const CHUNK_BYTES = 64 * 1024;

/** Every tar header is the same but for name and size: the output is deterministic. */
const HEADER = {
  type: "file",
  mode: 0o644,
  mtime: new Date(0),
  uid: 0,
  gid: 0,
  uname: "",
  gname: "",
} as const;

const encoder = new TextEncoder();

/**
 * Writes an archive of `input` (whole contents, or an {@linkcode ArchiveSource}
 * for sessions too large to hold in memory) as a gzip'd tar stream. Nothing
 * is produced until the stream is read; jsonl files are generated row by row.
 *
 * The stream errors with a 400 for a blob name outside
 * `BLOB_NAME_PATTERN` or rows out of seq order, and with a 409
 * when a source yields different rows on its two passes.
 *
 * @example
 * ```ts
 * const body = writeArchive({
 *   session,
 *   coordination: emptyCoordination(),
 *   events,
 *   messages: [],
 *   checkpoints: [],
 *   results: [],
 *   blobs: new Map(),
 * });
 * return new Response(body, { headers: { "content-type": "application/gzip" } });
 * ```
 */
export function writeArchive(input: ArchiveContents | ArchiveSource): ReadableStream<Uint8Array> {
  const source = input.blobs instanceof Map
    ? _fromContents(input as ArchiveContents)
    : input as ArchiveSource;
  return ReadableStream.from(_tarChunks(source)).pipeThrough(new CompressionStream("gzip"));
}

function _fromContents(contents: ArchiveContents): ArchiveSource {
  const bySeq = <T extends { seq: number }>(rows: T[]) => [...rows].sort((a, b) => a.seq - b.seq);
  const events = bySeq(contents.events);
  const messages = bySeq(contents.messages);
  const checkpoints = bySeq(contents.checkpoints);
  const results = bySeq(contents.results);
  const blobs = [...contents.blobs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    session: contents.session,
    coordination: contents.coordination,
    events: () => events,
    messages: () => messages,
    checkpoints: () => checkpoints,
    results: () => results,
    blobs: () => blobs,
  };
}

async function* _tarChunks(source: ArchiveSource): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  const pack = tar.pack();
  void _fill(pack, source);
  try {
    for await (const chunk of pack) yield chunk as Uint8Array<ArrayBuffer>;
  } finally {
    pack.destroy();
  }
}

/** Writes every entry into `pack`. Never rejects: a failure destroys `pack` with its error. */
async function _fill(pack: Pack, source: ArchiveSource): Promise<void> {
  try {
    const { session } = source;
    const files: Record<string, ManifestEntry> = {};
    files[ARCHIVE_FILES.session] = await _writeBytes(
      pack,
      ARCHIVE_FILES.session,
      encoder.encode(canonicalJson(session) + "\n"),
    );
    files[ARCHIVE_FILES.coordination] = await _writeBytes(
      pack,
      ARCHIVE_FILES.coordination,
      encoder.encode(canonicalJson(source.coordination) + "\n"),
    );
    const jsonl: [string, () => Rows<{ seq: number }>][] = [
      [ARCHIVE_FILES.events, () => source.events()],
      [ARCHIVE_FILES.messages, () => source.messages()],
      [ARCHIVE_FILES.checkpoints, () => source.checkpoints()],
      [ARCHIVE_FILES.results, () => source.results()],
    ];
    for (const [file, rows] of jsonl) files[file] = await _writeJsonl(pack, file, rows, session.id);
    let previous: string | undefined;
    for await (const [name, bytes] of source.blobs()) {
      if (!isBlobName(name)) {
        throw new ValidationError(`Blob name '${name.slice(0, 210)}' is not allowed`);
      }
      if (previous !== undefined && name <= previous) {
        throw new ValidationError(`Blob '${name}' is out of order or repeated`);
      }
      previous = name;
      files[BLOBS_DIR + name] = await _writeBytes(pack, BLOBS_DIR + name, bytes);
    }
    const manifest: ArchiveManifest = { format: FORMAT_VERSION, session: session.id, files };
    await _writeBytes(pack, MANIFEST_FILE, encoder.encode(canonicalJson(manifest) + "\n"));
    pack.finalize();
  } catch (err) {
    pack.destroy(err instanceof Error ? err : new Error(String(err)));
  }
}

function _writeBytes(pack: Pack, name: string, bytes: Uint8Array): Promise<ManifestEntry> {
  return _writeEntry(pack, name, bytes.byteLength, _slices(bytes), name);
}

function* _slices(bytes: Uint8Array): Generator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += CHUNK_BYTES) {
    yield bytes.subarray(i, i + CHUNK_BYTES);
  }
}

/** Sizes a jsonl file on a first pass over its rows, then writes it on a second. */
async function _writeJsonl(
  pack: Pack,
  file: string,
  rows: () => Rows<{ seq: number }>,
  id: string,
): Promise<ManifestEntry> {
  let size = 0;
  for await (const line of _lines(rows(), file)) size += utf8Length(line);
  return _writeEntry(pack, file, size, _batches(_lines(rows(), file)), id);
}

async function* _lines(rows: Rows<{ seq: number }>, file: string): AsyncGenerator<string> {
  let last = 0;
  for await (const row of rows) {
    if (!(row.seq > last)) {
      throw new ValidationError(
        `Rows of ${file} must have strictly increasing seq (${row.seq} after ${last})`,
      );
    }
    last = row.seq;
    yield canonicalJson(row) + "\n";
  }
}

async function* _batches(lines: AsyncIterable<string>): AsyncGenerator<Uint8Array> {
  let parts: string[] = [];
  let length = 0;
  for await (const line of lines) {
    parts.push(line);
    length += line.length;
    if (length >= CHUNK_BYTES) {
      yield encoder.encode(parts.join(""));
      parts = [];
      length = 0;
    }
  }
  if (parts.length > 0) yield encoder.encode(parts.join(""));
}

/**
 * Writes one tar entry of exactly `size` bytes and returns its manifest entry.
 * `id` names the session in the 409 raised when the chunks do not add up to `size`.
 */
async function _writeEntry(
  pack: Pack,
  name: string,
  size: number,
  chunks: Rows<Uint8Array>,
  id: string,
): Promise<ManifestEntry> {
  const hash = createHash("sha256");
  let sink!: ReturnType<Pack["entry"]>;
  const finished = new Promise<void>((resolve, reject) => {
    sink = pack.entry({ ...HEADER, name, size }, (err) => (err ? reject(err) : resolve()));
  });
  finished.catch(() => {}); // awaited below; a failure before then is reported by the throw instead
  sink.on("error", () => {}); // the entry callback above carries the error; unheard, streamx would throw it
  let written = 0;
  for await (const chunk of chunks) {
    written += chunk.byteLength;
    if (written > size) break;
    hash.update(chunk);
    if (!sink.write(chunk)) await drained(sink);
  }
  if (written !== size) {
    throw new ConflictError(
      `Session '${id}' changed while it was exported: ${name} is not ${size} bytes`,
    );
  }
  sink.end(undefined); // streamx types require an argument; undefined writes nothing
  await finished;
  return { sha256: hash.digest("hex"), bytes: size };
}
