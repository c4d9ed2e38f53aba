/**
 * A {@linkcode BlobStore} of gzip files under one directory: key `a/b` is the
 * file `<dir>/a/b.gz`. Writes go to a temporary file that is then renamed, so
 * a reader sees the old bytes or the new ones, never a torn file.
 *
 * @module
 */
import type { BlobStore } from "./blob_store.ts";
import { assertBlobKey, assertBlobPrefix } from "./_blob_key.ts";
import { diskFull } from "./disk_full.ts";

const SUFFIX = ".gz";
/** Temporary files hold `~`, which no key may, so they are never listed. */
const TEMP_MARK = "~tmp-";

/** Runs `bytes` through a compression or decompression stream. */
async function pipe(
  bytes: Uint8Array,
  stream: CompressionStream | DecompressionStream,
): Promise<Uint8Array> {
  // Blob copies its parts, so a view over a SharedArrayBuffer is read safely too.
  const blob = new Blob([bytes as Uint8Array<ArrayBuffer>]);
  return await new Response(blob.stream().pipeThrough(stream)).bytes();
}

function isNotFound(err: unknown): boolean {
  return err instanceof Deno.errors.NotFound;
}

/**
 * Gzip files under a directory.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * const blobs = new FileBlobStore(dir);
 * await blobs.put("s1/report", new TextEncoder().encode("hello"));
 * console.log(new TextDecoder().decode(await blobs.get("s1/report")));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class FileBlobStore implements BlobStore {
  readonly #dir: string;

  /** `dir` is created on first write. */
  constructor(dir: string) {
    this.#dir = dir.replace(/\/+$/, "") || "/";
  }

  #path(key: string): string {
    return `${this.#dir}/${assertBlobKey(key)}${SUFFIX}`;
  }

  /** A full disk is a 503 (see `disk_full.ts`), and leaves no file behind. */
  async put(key: string, bytes: Uint8Array): Promise<void> {
    const path = this.#path(key);
    const temp = `${path}${TEMP_MARK}${crypto.randomUUID()}`;
    try {
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await Deno.writeFile(temp, await pipe(bytes, new CompressionStream("gzip")));
      await Deno.rename(temp, path);
    } catch (err) {
      await Deno.remove(temp).catch(() => {});
      throw diskFull(err, `blob '${key}' under ${this.#dir}`);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    let gz: Uint8Array;
    try {
      gz = await Deno.readFile(this.#path(key));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    return await pipe(gz, new DecompressionStream("gzip"));
  }

  async delete(key: string): Promise<void> {
    try {
      await Deno.remove(this.#path(key));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    assertBlobPrefix(prefix);
    if (prefix.endsWith("/")) {
      try {
        await Deno.remove(`${this.#dir}/${prefix.slice(0, -1)}`, { recursive: true });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return;
    }
    for (const key of await this.list(prefix)) await this.delete(key);
  }

  async list(prefix: string): Promise<string[]> {
    assertBlobPrefix(prefix);
    const base = prefix.slice(0, prefix.lastIndexOf("/") + 1);
    const keys: string[] = [];
    await this.#walk(base, keys);
    return keys.filter((k) => k.startsWith(prefix)).sort();
  }

  /** Collects the keys under the key folder `base` (empty or ending in `/`). */
  async #walk(base: string, out: string[]): Promise<void> {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(`${this.#dir}/${base}`));
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    for (const e of entries) {
      if (e.isDirectory) await this.#walk(`${base}${e.name}/`, out);
      else if (e.isFile && e.name.endsWith(SUFFIX) && !e.name.includes("~")) {
        out.push(base + e.name.slice(0, -SUFFIX.length));
      }
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
