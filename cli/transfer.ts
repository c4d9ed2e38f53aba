/**
 * Moving archives between the CLI's files and a backend: `export` to a
 * file or stdout, `import` from a file or stdin.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import type { Session } from "../src/session.ts";
import type { SessionsBackend } from "./backend.ts";
import { CliError, usageError } from "./cli_error.ts";

/** The temporary name of an export to a file: `<file>.tmp-<uuid>`, beside it. */
const TEMP = /^\.tmp-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Writes the archive of `id` to `file` or, without `file`, to stdout.
 * Returns the bytes written. The file is written under a temporary name
 * beside it and renamed once whole, so `file` is a whole archive or absent:
 * a failed export removes its temporary file, and the temporary file of an
 * export that was killed is removed by the next export to the same file.
 *
 * @example
 * ```ts
 * const bytes = await exportTo(backend, "s1", "s1.tar.gz");
 * ```
 */
export async function exportTo(
  backend: SessionsBackend,
  id: string,
  file?: string,
): Promise<number> {
  if (file === undefined && Deno.stdout.isTerminal()) {
    throw usageError("Refusing to write a tar.gz to a terminal: pass -o FILE or redirect stdout");
  }
  const body = await backend.export(id);
  let bytes = 0;
  const counted = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        controller.enqueue(chunk);
      },
    }),
  );
  if (file === undefined) {
    await counted.pipeTo(Deno.stdout.writable);
    return bytes;
  }
  await removeLeftovers(file);
  const temp = `${file}.tmp-${crypto.randomUUID()}`;
  try {
    const out = await Deno.open(temp, { write: true, createNew: true });
    await counted.pipeTo(out.writable);
    await Deno.rename(temp, file);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
  return bytes;
}

/** Removes the temporary files that killed exports to `file` left beside it. */
async function removeLeftovers(file: string): Promise<void> {
  const dir = dirname(file);
  const name = basename(file);
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.startsWith(name) && TEMP.test(e.name.slice(name.length))) {
        await Deno.remove(join(dir, e.name)).catch(() => {}); // another export's, just renamed
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error; // no such folder: open says so
  }
}

/**
 * Imports the archive in `file` (`-` for stdin).
 *
 * @example
 * ```ts
 * const session = await importFrom(backend, "s1.tar.gz");
 * ```
 */
export async function importFrom(backend: SessionsBackend, file: string): Promise<Session> {
  if (file === "-") return await backend.import(Deno.stdin.readable);
  let handle: Deno.FsFile;
  try {
    handle = await Deno.open(file);
  } catch (error) {
    throw new CliError(`Cannot read '${file}': ${(error as Error).message}`);
  }
  return await backend.import(handle.readable);
}
