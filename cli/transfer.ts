/**
 * Moving archives between the CLI's files and a backend: `export` to a
 * file or stdout, `import` from a file or stdin.
 *
 * @module
 */
import type { Session } from "../src/session.ts";
import type { SessionsBackend } from "./backend.ts";
import { CliError, usageError } from "./cli_error.ts";

/**
 * Writes the archive of `id` to `file` (through a temporary name, so a
 * failed export leaves no partial file) or, without `file`, to stdout.
 * Returns the bytes written.
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
