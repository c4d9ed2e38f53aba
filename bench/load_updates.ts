/**
 * Acknowledged updates per second: `--sessions` sessions, one socket each,
 * each keeping `--window` patches in flight. The rate counts acks between
 * the end of the warm-up and the end of the measured window.
 *
 *   deno run -A bench/load_updates.ts --url URL --prefix P [--sessions 1]
 *     [--window 1000] [--seconds 5] [--warmup-ms 1000] [--state-kib 1]
 *     [--frames batch|single]
 *
 * `--frames batch` (the default) opens the sockets with `?batch=1` and
 * sends the patches answered by one message as one batch message, as
 * `client.ts` does; `single` sends one frame per message.
 *
 * Prints `{rate, acked, errors, seconds, sockets}`.
 *
 * @module
 */
import { emit, flags, num } from "./_args.ts";
import { closeSocket, createSession, openSocket, Pipeline, pool, stateOf } from "./_ws.ts";

const f = flags();
const url = f.get("url")!;
const prefix = f.get("prefix") ?? `u${Date.now().toString(36)}`;
const sessions = num(f, "sessions", 1);
const window = num(f, "window", 1_000);
const seconds = num(f, "seconds", 5);
const warmupMs = num(f, "warmup-ms", 1_000);
const state = stateOf(num(f, "state-kib", 1));
const frames = f.get("frames") ?? "batch";
if (frames !== "batch" && frames !== "single") throw new Error("--frames is batch or single");
const batch = frames === "batch";

const ids = Array.from({ length: sessions }, (_, i) => `${prefix}-${i}`);
await pool(ids, 50, (id) => createSession(url, id, state));
const sockets: WebSocket[] = [];
const query = batch ? "batch=1" : "";
await pool(ids, 50, async (id) => void sockets.push((await openSocket(url, id, query)).ws));

const pipes = sockets.map((ws, i) => new Pipeline(ws, window, `c${i}`, batch));
const acked = () => pipes.reduce((n, p) => n + p.acked, 0);
for (const p of pipes) p.start();
await new Promise((r) => setTimeout(r, warmupMs));
const a0 = acked();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const a1 = acked();
const t1 = performance.now();
await Promise.all(pipes.map((p) => p.stop()));
const errors = pipes.reduce((n, p) => n + p.errors, 0);
const closed = pipes.find((p) => p.closed)?.closed;
const lastError = pipes.find((p) => p.lastError)?.lastError;
await Promise.all(sockets.map(closeSocket));
emit({
  rate: (a1 - a0) / ((t1 - t0) / 1000),
  acked: acked(),
  errors,
  ...(lastError ? { lastError } : {}),
  ...(closed ? { closed } : {}),
  seconds: (t1 - t0) / 1000,
  sockets: sockets.length,
});
