/**
 * Child processes of the benchmark: the server, and generators and probes
 * that print their results as JSON lines on stdout.
 *
 * @module
 */

const here = new URL(".", import.meta.url);
/** The project's config (imports, `unstable: ["kv"]`), whatever the working directory. */
const config = new URL("../deno.json", import.meta.url).pathname;

function denoArgs(file: string, args: string[], v8Flags?: string): string[] {
  const path = new URL(file, here).pathname;
  return [
    "run",
    "--allow-all",
    "--config",
    config,
    ...(v8Flags ? [`--v8-flags=${v8Flags}`] : []),
    path,
    ...args,
  ];
}

/** Runs `bench/<file>` with `args` and returns the JSON lines it printed. Throws on failure. */
export async function runJson(
  file: string,
  args: string[],
  opts: { v8Flags?: string; timeoutMs?: number } = {},
): Promise<Record<string, unknown>[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: denoArgs(file, args, opts.v8Flags),
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, opts.timeoutMs ?? 300_000);
  const out = await child.output();
  clearTimeout(timer);
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`${file} ${args.join(" ")} exited with ${out.code}\n${text}`);
  return text.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

/** A running `bench/server.ts`. */
export interface ServerHandle {
  readonly port: number;
  readonly url: string;
  /** `performance.now()` when it was spawned. */
  readonly spawnedAt: number;
  /** The child's pid, for RSS probes. */
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * The V8 flags of `deno task serve` (a young generation capped at 8 MiB a
 * semi-space), so the server under test runs as shipped.
 */
export const SERVE_V8_FLAGS = (JSON.parse(Deno.readTextFileSync(config)).tasks.serve as string)
  .match(/--v8-flags=(\S+)/)?.[1];

/**
 * Starts `bench/server.ts` (or another server of the bench, `file`) with
 * `args` and the V8 flags of `deno task serve`, and waits for `ready <port>`.
 */
export async function startServer(args: string[], file = "server.ts"): Promise<ServerHandle> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: denoArgs(file, args, SERVE_V8_FLAGS),
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let port = 0;
  while (port === 0) {
    const { done, value } = await lines.read();
    if (done) throw new Error(`server ${args.join(" ")} exited before it was ready`);
    buf += value;
    const m = buf.match(/ready (\d+)/);
    if (m) port = Number(m[1]);
  }
  void (async () => {
    while (!(await lines.read()).done) { /* keep the pipe drained */ }
  })().catch(() => {});
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    spawnedAt: started,
    pid: child.pid,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }, 8_000);
      await child.status;
      clearTimeout(timer);
    },
  };
}
