/**
 * The server process of the benchmark: a runtime on a data directory, its
 * app (every route, default settings) served on 127.0.0.1. Prints
 * `ready <port> <ms>` once it listens (ms since the process started) and
 * closes the runtime on SIGTERM.
 *
 *   deno run -A bench/server.ts --dir DIR [--group-commit on|off] [--port 0] [--max-actors N]
 *     [--memory]
 *
 * The runtime keeps its shipped defaults, background tick included (the
 * sweeper, passivation and the trimming of idle actors every 30 s).
 *
 * `--memory` keeps KV and SQL in memory (`{ memory: true }`): no disk, for
 * figure 3's reference of what the disk adds. `--dir` is then ignored.
 *
 * `--group-commit off` is the baseline of one KV commit per update:
 * `groupCommit: false` (no packing across sessions) and `batchMax: 1` (no
 * batching of one session's queued commands either).
 *
 * @module
 */
import { createRuntime } from "../mod.ts";
import { flags, num } from "./_args.ts";

const f = flags();
const dir = f.get("dir");
const memory = f.has("memory");
if (!dir && !memory) throw new Error("--dir or --memory is required");
const grouped = f.get("group-commit") !== "off";
const rt = await createRuntime({
  ...(memory ? { memory: true } : { dataDir: dir }),
  groupCommit: grouped,
  ...(grouped ? {} : { batchMax: 1 }),
  maxActors: num(f, "max-actors", 10_000),
});

const stop = new AbortController();
const server = Deno.serve({
  port: num(f, "port", 0),
  hostname: "127.0.0.1",
  signal: stop.signal,
  onListen: ({ port }) => console.log(`ready ${port} ${performance.now().toFixed(1)}`),
}, rt.app.fetch);

Deno.addSignalListener("SIGTERM", async () => {
  const timer = setTimeout(() => Deno.exit(0), 5_000);
  stop.abort();
  await server.finished.catch(() => {});
  await rt.close().catch((e) => console.error("close failed:", e));
  clearTimeout(timer);
  Deno.exit(0);
});
