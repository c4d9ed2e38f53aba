/**
 * Runs the examples as their users do: as subprocesses, with `deno run` or
 * `/usr/bin/python3`, against a real server when they need one.
 *
 * @module
 */

/** The repository root, where `deno run` finds `deno.json`. */
export const ROOT = new URL("../../", import.meta.url).pathname;

/** What a finished run printed and how it ended. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno run -A examples/<file> ...args`, killed after `timeoutMs` (default 30 s). */
export async function runExample(
  file: string,
  args: string[] = [],
  timeoutMs = 30_000,
): Promise<Ran> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `examples/${file}`, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const out = await child.output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** The lines a child prints, kept as they come, so a test can wait for one. */
export class Lines {
  readonly lines: string[] = [];
  readonly #waiters = new Set<() => void>();
  /** Resolves once the stream has ended. */
  readonly ended: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.ended = this.#read(stream);
  }

  async #read(stream: ReadableStream<Uint8Array>): Promise<void> {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      this.lines.push(...parts);
      for (const wake of this.#waiters) wake();
    }
    if (rest) this.lines.push(rest);
    for (const wake of this.#waiters) wake();
  }

  /** All lines so far, joined. */
  get text(): string {
    return this.lines.join("\n");
  }

  /** Waits for a line matching `pattern`, from the first; fails after `timeoutMs` or at the end. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let ended = false;
    void this.ended.then(() => ended = true);
    for (;;) {
      for (const line of this.lines) {
        const m = line.match(pattern);
        if (m) return m;
      }
      const left = deadline - Date.now();
      if (ended || left <= 0) {
        throw new Error(
          `No line matched ${pattern} ${ended ? "before the end" : "in time"}:\n${this.text}`,
        );
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#waiters.add(wake);
        void this.ended.then(wake);
      });
    }
  }
}

/** A child process whose output is being read. */
export interface Running {
  readonly child: Deno.ChildProcess;
  readonly stdout: Lines;
  readonly stderr: Lines;
}

/** Spawns `cmd args` from the repository root with its output read into {@linkcode Lines}. */
export function spawn(cmd: string, args: string[], env: Record<string, string> = {}): Running {
  const child = new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return { child, stdout: new Lines(child.stdout), stderr: new Lines(child.stderr) };
}

/** `promise`, or a rejection naming `what` after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Waited ${ms} ms for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A port nobody listens on right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A real `deno task serve` process on `port` and `dataDir`. */
export interface ServerProcess extends Running {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Kills it with SIGKILL, as a crash would, and waits until it is gone. */
  crash(): Promise<void>;
  /** Stops it with SIGTERM and waits until it is gone. */
  stop(): Promise<void>;
}

/** Starts `cli/serve.ts` and resolves once it listens. */
export async function startServer(
  opts: { port: number; dataDir: string; token: string },
): Promise<ServerProcess> {
  const running = spawn(Deno.execPath(), ["run", "-A", "cli/serve.ts"], {
    PORT: String(opts.port),
    HOST: "127.0.0.1",
    DENIZEN_DATA: opts.dataDir,
    DENIZEN_TOKEN: opts.token,
    DATABASE_URL: "", // history in the data directory, not a PostgreSQL the tests share
  });
  const end = async (signal: Deno.Signal) => {
    try {
      running.child.kill(signal);
    } catch { /* already gone */ }
    await running.child.status;
    await Promise.all([running.stdout.ended, running.stderr.ended]);
  };
  const server = {
    ...running,
    url: `http://127.0.0.1:${opts.port}`,
    crash: () => end("SIGKILL"),
    stop: () => end("SIGTERM"),
  };
  try {
    await running.stdout.waitFor(/^Denizen listening on /);
  } catch (error) {
    await server.crash();
    throw new Error(`The server did not start: ${running.stderr.text}`, { cause: error });
  }
  return server;
}

/** A JSON client of the HTTP API at `url` with a bearer token; throws on an error answer. */
export function api(url: string, token: string) {
  return async <T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T> => {
    const res = await fetch(`${url}/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  };
}
