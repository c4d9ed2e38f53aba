/**
 * Runs the real `sessions` CLI as a subprocess, as `deno task sessions`
 * does, and seeds data directories through the library.
 *
 * @module
 */
import { createRuntime, ManualClock } from "../../mod.ts";
import type { Runtime } from "../../src/runtime.ts";

/** What a run printed and how it ended. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout as bytes, for archives. */
  bytes: Uint8Array;
}

const ROOT = new URL("../../", import.meta.url).pathname;

/** Runs `deno run -A src/cli/sessions.ts ...args` from the repository root. */
export async function sessions(
  args: string[],
  opts: { env?: Record<string, string> } = {},
): Promise<Ran> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/cli/sessions.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...opts.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
    bytes: out.stdout,
  };
}

/** Runs `fn` on the runtime of `dataDir` (clock at `at` when given), then closes it. */
export async function seed<T>(
  dataDir: string,
  fn: (rt: Runtime) => Promise<T>,
  at?: number,
): Promise<T> {
  const clock = at === undefined ? undefined : new ManualClock(at);
  const rt = await createRuntime({ dataDir, tickMs: 0, clock });
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}

/** A fresh temporary data directory, removed by the returned function. */
export async function tempData(): Promise<[string, () => Promise<void>]> {
  const dir = await Deno.makeTempDir({ prefix: "denizen-cli-" });
  return [dir, () => Deno.remove(dir, { recursive: true })];
}
