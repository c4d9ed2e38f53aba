/**
 * Which tar entries an import admits: regular files with a known, relative,
 * plain path. Links of either kind and special files are rejected; directory
 * entries for `blobs/` and its sub-folders are skipped (tar tools add them),
 * any other directory is rejected.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";
import { ARCHIVE_FILES, BLOBS_DIR, isBlobName, MANIFEST_FILE } from "./archive_format.ts";

const FIXED: ReadonlySet<string> = new Set([...Object.values(ARCHIVE_FILES), MANIFEST_FILE]);

/** The parts of a tar header the policy looks at. */
export interface EntryHeader {
  name: string;
  type: string;
  linkname?: string | null;
}

/**
 * Throws a 400 unless `header` is an entry the format admits. Returns true
 * for a file to read, false for a directory entry to skip.
 *
 * @example
 * ```ts
 * admitEntry({ name: "events.jsonl", type: "file" }); // true
 * admitEntry({ name: "../x", type: "file" }); // throws ValidationError
 * ```
 */
export function admitEntry(header: EntryHeader): boolean {
  const { name, type } = header;
  _checkPath(name, type === "directory");
  const shown = quote(name);
  if (type === "link" || type === "symlink") {
    const kind = type === "link" ? "hard link" : "symbolic link";
    throw new ValidationError(
      `Archive entry ${shown} is a ${kind} to ${
        quote(header.linkname ?? "")
      }; links are not allowed`,
    );
  }
  if (type === "directory") {
    const dir = name.replace(/\/$/, "");
    if (dir === "blobs" || (dir.startsWith(BLOBS_DIR) && isBlobName(dir.slice(BLOBS_DIR.length)))) {
      return false;
    }
    throw new ValidationError(`Archive entry ${shown} is a directory outside blobs/`);
  }
  if (type !== "file") {
    throw new ValidationError(
      `Archive entry ${shown} is a ${type}; only regular files are allowed`,
    );
  }
  if (FIXED.has(name)) return true;
  if (name.startsWith(BLOBS_DIR) && isBlobName(name.slice(BLOBS_DIR.length))) return true;
  throw new ValidationError(`Archive entry ${shown} is not a file of the archive format`);
}

function _checkPath(name: string, directory: boolean): void {
  const shown = quote(name);
  if (name.length === 0) throw new ValidationError("Archive entry has an empty name");
  // deno-lint-ignore no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new ValidationError(`Archive entry ${shown} has a control character in its path`);
  }
  if (name.includes("\\")) {
    throw new ValidationError(`Archive entry ${shown} has a backslash in its path`);
  }
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) {
    throw new ValidationError(`Archive entry ${shown} has an absolute path`);
  }
  const segments = (directory ? name.replace(/\/$/, "") : name).split("/");
  if (segments.includes("..")) {
    throw new ValidationError(`Archive entry ${shown} has a '..' segment in its path`);
  }
  if (segments.some((s) => s === "" || s === ".")) {
    throw new ValidationError(`Archive entry ${shown} has an empty or '.' segment in its path`);
  }
}

/**
 * `'name'`, cut to 200 characters, for error messages.
 *
 * @example
 * ```ts
 * quote("blobs/a"); // "'blobs/a'"
 * ```
 */
export function quote(name: string): string {
  return `'${name.length > 200 ? name.slice(0, 200) + "…" : name}'`;
}
