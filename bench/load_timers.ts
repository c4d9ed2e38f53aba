/**
 * Timer lateness (figure 12): `--timers` durable timers spread over
 * `--sessions` sessions, all due within one second (`--spread-ms`) that
 * starts `--lead-ms` from now. Each is a bare reminder, scheduled over its
 * session's WebSocket (`{t:"timer", id, at, data}`, all sent at once), which
 * then receives its `timer.fired` events.
 *
 * A timer's lateness is the time its `timer.fired` event reached the
 * subscriber minus its due time: an upper bound of the time its commit took
 * past due, since events go out after their commit. The event's `at` (the
 * time of the turn that fired it, before the commit) gives a lower bound,
 * reported as `at*`.
 *
 *   deno run -A bench/load_timers.ts --url URL --prefix P [--sessions 100]
 *     [--timers 10000] [--lead-ms 4000] [--spread-ms 1000] [--timeout-ms 30000]
 *
 * Prints `{fired, timers, missing, duplicates, p50, p99, max, atP50, atP99,
 * atMax, early, scheduleMs, slackMs}` (ms). `early` counts timers fired
 * before their due time. `slackMs` is how long before the first due time
 * the last schedule was acked; it is negative when scheduling ran into the
 * due second, and the run is then not clean.
 *
 * @module
 */
import { emit, flags, num } from "./_args.ts";
import { latencies } from "./_stats.ts";
import { closeSocket, createSession, openSocket, pool } from "./_ws.ts";

const f = flags();
const url = f.get("url")!;
const prefix = f.get("prefix") ?? `t${Date.now().toString(36)}`;
const sessions = num(f, "sessions", 100);
const timers = num(f, "timers", 10_000);
const leadMs = num(f, "lead-ms", 4_000);
const spreadMs = num(f, "spread-ms", 1_000);
const timeoutMs = num(f, "timeout-ms", 30_000);

interface Fired {
  /** Wall-clock ms when the event arrived. */
  got: number;
  /** The event's `at`, epoch ms. */
  at: number;
  /** The timer's due time, epoch ms. */
  due: number;
}

/** Waits for `p`, or `ms` at most. */
async function within(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([p, new Promise((r) => timer = setTimeout(r, Math.max(0, ms)))]);
  clearTimeout(timer);
}

const ids = Array.from({ length: sessions }, (_, i) => `${prefix}-${i}`);
await pool(ids, 50, (id) => createSession(url, id, { n: 0 }));

const fired = new Map<string, Fired>();
let duplicates = 0;
let done: (() => void) | undefined;
/** Schedules answered so far, and the first refusal. */
let acked = 0;
let refused = "";
let allAcked: (() => void) | undefined;
const sockets = await Promise.all(ids.map(async (id) => {
  const { ws } = await openSocket(url, id);
  ws.onmessage = (e) => {
    const got = Date.now();
    const text = e.data as string;
    if (!text.startsWith('{"t":"event"')) {
      const frame = JSON.parse(text) as { t: string; code?: string; message?: string };
      if (frame.t === "error") refused ||= `${frame.code}: ${frame.message}`;
      if ((frame.t === "ack" || frame.t === "error") && ++acked === timers) allAcked?.();
      return;
    }
    if (!text.includes('"timer.fired"')) return;
    const ev = JSON.parse(text) as { type: string; at: string; data: { id: string; due: string } };
    if (ev.type !== "timer.fired") return;
    const key = `${id}/${ev.data.id}`;
    if (fired.has(key)) return void duplicates++;
    fired.set(key, { got, at: Date.parse(ev.at), due: Date.parse(ev.data.due) });
    if (fired.size === timers) done?.();
  };
  return ws;
}));

// Every timer is due in [first, first + spreadMs), evenly spread; timer i goes to socket i % n.
const first = Date.now() + leadMs;
const started = performance.now();
const scheduled = new Promise<void>((resolve) => allAcked = resolve);
for (let i = 0; i < timers; i++) {
  const at = first + Math.floor((i * spreadMs) / timers);
  sockets[i % sessions].send(JSON.stringify({ t: "timer", id: `s${i}`, at, data: { i } }));
}
await within(scheduled, timeoutMs);
if (acked < timers) throw new Error(`${acked} of ${timers} timers acked in ${timeoutMs} ms`);
if (refused) throw new Error(`a timer was refused: ${refused}`);
const scheduleMs = performance.now() - started;
const slackMs = first - Date.now();

const all = new Promise<void>((resolve) => {
  done = resolve;
  if (fired.size === timers) resolve();
});
await within(all, first + spreadMs + timeoutMs - Date.now());
// Late duplicates would show up right after the last first delivery.
await new Promise((r) => setTimeout(r, 300));
await Promise.all(sockets.map(closeSocket));

const got = [...fired.values()];
const late = latencies(got.map((x) => x.got - x.due));
const lateAt = latencies(got.map((x) => x.at - x.due));
emit({
  fired: fired.size,
  timers,
  missing: timers - fired.size,
  duplicates,
  p50: late.p50,
  p99: late.p99,
  max: late.max,
  atP50: lateAt.p50,
  atP99: lateAt.p99,
  atMax: lateAt.max,
  early: got.filter((x) => x.at < x.due).length,
  scheduleMs,
  slackMs,
});
