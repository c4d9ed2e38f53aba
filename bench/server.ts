/**
 * The server process of the benchmark: a runtime on a data directory, served
 * on 127.0.0.1. Prints `ready <port> <ms>` once it listens (ms since the
 * process started) and closes the runtime on SIGTERM.
 *
 *   deno run -A bench/server.ts --dir DIR [--group-commit on|off] [--port 0]
 *     [--ws-rate N] [--ws-inflight N] [--max-actors N]
 *
 * `--group-commit off` is the baseline: `groupCommit: false` and `batchMax: 1`.
 * `--ws-rate` raises the WebSocket flood guard (default 2,000 frames/s per
 * connection), which would otherwise cap a single pipelining client; the
 * orchestrator prints that it did so.
 *
 * @module
 */
import { Hono } from "hono";
import { createRuntime } from "../mod.ts";
import { wsRoute } from "../routes/ws.ts";
import { flags, num } from "./_args.ts";

const f = flags();
const dir = f.get("dir");
if (!dir) throw new Error("--dir is required");
// Off means one KV commit per update: no packing across sessions, and no
// batching of one session's queued commands either (batchMax 1).
const grouped = f.get("group-commit") !== "off";
const rt = await createRuntime({
  dataDir: dir,
  groupCommit: grouped,
  ...(grouped ? {} : { batchMax: 1 }),
  tickMs: 0,
  maxActors: num(f, "max-actors", 10_000),
});

let fetch = rt.app.fetch;
if (f.has("ws-rate")) {
  const rate = num(f, "ws-rate", 2_000);
  const ws = wsRoute(rt, {
    rate,
    burst: rate,
    maxRefused: rate,
    maxInFlight: num(f, "ws-inflight", 1_000),
  });
  const app = new Hono();
  app.get("/v1/sessions/:id/ws", ws);
  app.all("*", (c) => rt.app.fetch(c.req.raw));
  fetch = app.fetch;
}

const stop = new AbortController();
const server = Deno.serve({
  port: num(f, "port", 0),
  hostname: "127.0.0.1",
  signal: stop.signal,
  onListen: ({ port }) => console.log(`ready ${port} ${performance.now().toFixed(1)}`),
}, fetch);

Deno.addSignalListener("SIGTERM", async () => {
  const timer = setTimeout(() => Deno.exit(0), 5_000);
  stop.abort();
  await server.finished.catch(() => {});
  await rt.close().catch((e) => console.error("close failed:", e));
  clearTimeout(timer);
  Deno.exit(0);
});
