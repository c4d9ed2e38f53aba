/**
 * Runs the real `sessions` CLI as a subprocess, as `deno task sessions`
 * does, and seeds data directories through the library.
 *
 * @module
 */
import { createRuntime, ManualClock } from "../../mod.ts";
import type { Runtime } from "../../actors/runtime.ts";

/** What a run printed and how it ended. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout as bytes, for archives. */
  bytes: Uint8Array;
}

const ROOT = new URL("../../", import.meta.url).pathname;

/** Runs `deno run -A cli/sessions.ts ...args` from the repository root. */
export async function sessions(
  args: string[],
  opts: { env?: Record<string, string> } = {},
): Promise<Ran> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/sessions.ts", ...args],
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

/** The bearer token of {@linkcode withServer}'s server. */
export const TOKEN = "cli-test-token";

/** The environment that gives the CLI {@linkcode TOKEN}. */
export const env = { DENIZEN_TOKEN: TOKEN };

/** Serves a fresh in-memory runtime with a token on a free port while `fn` runs. */
export async function withServer(
  fn: (url: string, rt: Runtime) => Promise<void>,
  clock?: ManualClock,
): Promise<void> {
  const rt = await createRuntime({ memory: true, tickMs: 0, token: TOKEN, clock });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, rt.app.fetch);
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, rt);
  } finally {
    await server.shutdown();
    await rt.close();
  }
}

/** Where the CLI runs in a test: a data directory, or a live server with `--url`. */
export interface Place {
  /** `data directory` or `--url`, for test names. */
  readonly name: string;
  /**
   * Seeds through a runtime whose clock reads `ago` ms before now (default
   * 0), then calls `fn` with what `seedFn` returned and a `cli` that runs
   * the CLI on the seeded sessions at the present.
   */
  run<T>(
    seedFn: (rt: Runtime) => Promise<T>,
    fn: (cli: (args: string[]) => Promise<Ran>, seeded: T) => Promise<void>,
    ago?: number,
  ): Promise<void>;
}

/** Both places: every command works the same on each. */
export const PLACES: readonly Place[] = [
  {
    name: "data directory",
    async run(seedFn, fn, ago) {
      const [data, done] = await tempData();
      try {
        const seeded = await seed(data, seedFn, ago ? Date.now() - ago : undefined);
        await fn((args) => sessions([...args, "--data", data]), seeded);
      } finally {
        await done();
      }
    },
  },
  {
    name: "--url",
    async run(seedFn, fn, ago) {
      const clock = ago ? new ManualClock(Date.now() - ago) : undefined;
      await withServer(async (url, rt) => {
        const seeded = await seedFn(rt);
        clock?.advance(ago!);
        await fn((args) => sessions([...args, "--url", url], { env }), seeded);
      }, clock);
    },
  },
];

/** The cells of a printed table, header row first: columns are two or more spaces apart. */
export function tableRows(text: string): string[][] {
  return text.trimEnd().split("\n").map((line) => line.split(/ {2,}/));
}

/** A fresh temporary data directory, removed by the returned function. */
export async function tempData(): Promise<[string, () => Promise<void>]> {
  const dir = await Deno.makeTempDir({ prefix: "denizen-cli-" });
  return [dir, () => Deno.remove(dir, { recursive: true })];
}
