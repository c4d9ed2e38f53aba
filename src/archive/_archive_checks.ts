/**
 * The rules an import checks once every entry has been read: the manifest
 * matches the files, and the rows agree with each other and with the limits.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";
import { assertSize, jsonBytes, utf8Length } from "../session.ts";
import { quote } from "./_entry_path.ts";
import type {
  ArchiveContents,
  ArchiveLimits,
  ArchiveManifest,
  ManifestEntry,
} from "./archive_format.ts";

/**
 * Throws a 400 unless `manifest` lists exactly the `files` read, with the
 * same sha256 and size, for the session in `session.json`.
 *
 * @example
 * ```ts
 * checkManifest(manifest, session.id, new Map([["session.json", { sha256, bytes }]]));
 * ```
 */
export function checkManifest(
  manifest: ArchiveManifest,
  sessionId: string,
  files: ReadonlyMap<string, ManifestEntry>,
): void {
  if (manifest.session !== sessionId) {
    throw new ValidationError(
      `Archive manifest is for session ${quote(manifest.session)}, not ${quote(sessionId)}`,
    );
  }
  for (const [path, actual] of files) {
    const listed = Object.hasOwn(manifest.files, path) ? manifest.files[path] : undefined;
    if (listed === undefined) {
      throw new ValidationError(`Archive file ${quote(path)} is not in the manifest`);
    }
    if (listed.bytes !== actual.bytes || listed.sha256 !== actual.sha256) {
      throw new ValidationError(`Archive file ${quote(path)} fails its checksum`, {
        path,
        expected: listed,
        actual,
      });
    }
  }
  for (const path of Object.keys(manifest.files)) {
    if (!files.has(path)) {
      throw new ValidationError(
        `Archive manifest lists ${quote(path)} but the archive has no such file`,
      );
    }
  }
}

/**
 * Throws a 400 unless the rows are consistent (events of this session with
 * seq 1..n, other rows in strictly increasing seq, every result blob present)
 * and a 413 for an item over its limit (a checkpoint's coordination included).
 *
 * @example
 * ```ts
 * checkRows(contents, DEFAULT_ARCHIVE_LIMITS);
 * ```
 */
export function checkRows(contents: ArchiveContents, limits: ArchiveLimits): void {
  const { session } = contents;
  assertSize("Session state", jsonBytes(session.state), limits.maxStateBytes);
  contents.events.forEach((event, i) => {
    if (event.sessionId !== session.id) {
      throw new ValidationError(
        `Archive event ${event.seq} belongs to session ${quote(event.sessionId)}, not ${
          quote(session.id)
        }`,
      );
    }
    if (event.seq !== i + 1) {
      throw new ValidationError(
        `Archive events must have seq 1..n without gaps: line ${i + 1} has seq ${event.seq}`,
      );
    }
  });
  _checkIncreasing("messages", contents.messages);
  _checkIncreasing("checkpoints", contents.checkpoints);
  _checkIncreasing("results", contents.results);
  for (const m of contents.messages) {
    assertSize(`Message ${m.seq} content`, utf8Length(m.content), limits.maxMessageBytes);
  }
  for (const c of contents.checkpoints) {
    assertSize(`Checkpoint ${quote(c.id)} state`, jsonBytes(c.state), limits.maxStateBytes);
    if (c.coordination !== undefined) {
      assertSize(
        `Checkpoint ${quote(c.id)} coordination`,
        jsonBytes(c.coordination),
        limits.maxCoordinationBytes,
      );
    }
  }
  for (const r of contents.results) {
    if (r.blob !== undefined && !contents.blobs.has(r.blob)) {
      throw new ValidationError(
        `Archive result ${r.seq} names blob ${quote(r.blob)}, which the archive lacks`,
      );
    }
    if (r.data !== undefined) {
      assertSize(`Result ${r.seq} data`, jsonBytes(r.data), limits.maxResultBytes);
    }
  }
}

function _checkIncreasing(file: string, rows: readonly { seq: number }[]): void {
  for (let i = 1; i < rows.length; i++) {
    if (rows[i].seq <= rows[i - 1].seq) {
      throw new ValidationError(
        `Archive ${file} must have strictly increasing seq: ${rows[i].seq} follows ${
          rows[i - 1].seq
        }`,
      );
    }
  }
}
