/**
 * The load phase of the soak: `connections` WebSocket clients over one
 * session per 5 of them, each sending a patch a second with a command id.
 *
 * The server's memory is sampled every 15 s right after a full collection
 * (`POST /soak/gc`), so the heap measured is the heap kept, not garbage
 * awaiting a collection. Memory rises while the bounded structures fill: the
 * command memory keeps the last 1,000 ids of each session, which at 5 ids a
 * second takes over 3 minutes. With `warmup: "fill"` the load runs until
 * every session has had 1,000 commands acked and a minute more, then
 * `seconds` more, and only those are judged.
 *
 * @module
 */
import { connect, type DenizenClient } from "../client.ts";
import { COMMAND_MEMORY } from "../src/hot/command_memory.ts";
import { soakKind } from "./_kind.ts";
import type { SoakServer } from "./_soak_server.ts";
import { type MemorySample, memoryTrend, type TrendLimits } from "./_trend.ts";

/** Options of {@linkcode loadPhase}. */
export interface LoadOptions {
  /** WebSocket connections, 5 a session. */
  connections: number;
  /** Seconds of load after the warm-up: the window judged. */
  seconds: number;
  /**
   * Seconds of load before the window judged, or "fill": until every
   * session has had 1,000 commands acked, and a minute more.
   */
  warmup: number | "fill";
  /** Fail on a memory trend in the window (the full soak); otherwise only report it. */
  limits?: TrendLimits;
}

const PER_SESSION = 5;
const GC_EVERY_MS = 15_000;
const METRICS_EVERY_MS = 5_000;
const MIB = 1024 * 1024;
/**
 * How long "fill" warms up after the command memory is full. RSS lags the heap: the SQLite page
 * caches (16 MiB a history connection) fill as the history grows, and the allocator keeps what it
 * grew. In a 13-minute run RSS rose for about 2 minutes after the fill, then held level.
 */
const AFTER_FILL_MS = 60_000;

/** Runs the load phase on a fresh `server` (not started); reports errors and a trend to `violation`. */
export async function loadPhase(
  server: SoakServer,
  opts: LoadOptions,
  violation: (s: string) => void,
): Promise<Record<string, unknown>> {
  await server.start();
  const sessions = Math.ceil(opts.connections / PER_SESSION);
  for (let i = 0; i < sessions; i++) {
    await server.http("/v1/sessions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: `load-${i}`, kind: "soak" }),
    });
  }
  const clients: DenizenClient<typeof soakKind>[] = [];
  for (let i = 0; i < opts.connections; i++) {
    clients.push(
      await connect<typeof soakKind>(`${server.base}/v1/sessions/load-${i % sessions}/ws`, {
        agent: `l${i}`,
        staleMs: 0,
      }),
    );
  }

  const latencies: number[] = [];
  const judged: number[] = [];
  const ackedBySession = new Array<number>(sessions).fill(0);
  let errors = 0;
  let lastError = "";
  const t0 = performance.now();
  const minutes = () => (performance.now() - t0) / 60_000;
  // The warm-up ends at a time (a number of seconds) or once the command memory is full.
  let warmEnd = opts.warmup === "fill" ? Infinity : t0 + opts.warmup * 1000;
  let end = opts.warmup === "fill" ? Infinity : warmEnd + opts.seconds * 1000;
  const fillBy = t0 + 3 * (COMMAND_MEMORY / PER_SESSION) * 1000;
  const running = () => performance.now() < end;
  let filledAt = Infinity;
  const filled = () => {
    if (filledAt !== Infinity || Math.min(...ackedBySession) < COMMAND_MEMORY) return;
    filledAt = performance.now();
    if (opts.warmup !== "fill") return;
    warmEnd = filledAt + AFTER_FILL_MS;
    end = warmEnd + opts.seconds * 1000;
  };

  const collected: (MemorySample & { warm: boolean })[] = [];
  let gcMsMax = 0;
  const sawtooth: { t: number; heap: number; rss: number }[] = [];
  const every = async (ms: number, sample: () => Promise<void>) => {
    for (;;) {
      await sample();
      if (opts.warmup === "fill" && filledAt === Infinity && performance.now() > fillBy) {
        violation(`load: the command memory did not fill within ${(fillBy - t0) / 1000} s`);
        end = performance.now();
      }
      if (!running()) return;
      await new Promise((r) => setTimeout(r, Math.min(ms, end - performance.now())));
    }
  };
  const samplers = [
    every(GC_EVERY_MS, async () => {
      const m = await server.collected();
      gcMsMax = Math.max(gcMsMax, m.gcMs);
      collected.push({
        t: minutes(),
        rss: m.rss,
        heap: m.heapUsed,
        warm: performance.now() < warmEnd,
      });
    }),
    every(METRICS_EVERY_MS, async () => {
      const text = await (await server.http("/metrics")).text();
      const num = (name: string) => Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1]);
      sawtooth.push({
        t: minutes(),
        rss: num("denizen_process_rss_bytes"),
        heap: num("denizen_heap_used_bytes"),
      });
    }),
  ];
  await Promise.all(clients.map(async (c, i) => {
    await new Promise((r) => setTimeout(r, Math.random() * 1_000));
    for (let n = 0; running(); n++) {
      const sent = performance.now();
      try {
        await c.patch([{ op: "add", path: `/l${i}`, value: n }], { id: `l${i}-${n}` });
        latencies.push(performance.now() - sent);
        if (sent >= warmEnd) judged.push(performance.now() - sent);
        ackedBySession[i % sessions]++;
        filled();
      } catch (e) {
        errors++;
        lastError = (e as Error).message;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 1_000 - (performance.now() - sent))));
    }
  }));
  await Promise.all(samplers);
  await Promise.all(clients.map((c) => c.close()));
  await server.stop();

  const percentiles = (ms: number[]) => {
    ms.sort((a, b) => a - b);
    const at = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] ?? NaN;
    return { p50: +at(0.5).toFixed(2), p99: +at(0.99).toFixed(2) };
  };
  if (latencies.length === 0) violation("load: no command was acked");
  if (errors > 0) violation(`load: ${errors} commands failed, the last: ${lastError}`);

  const limits = opts.limits ?? { heap: Infinity, rss: Infinity };
  const after = collected.filter((s) => !s.warm);
  const window = memoryTrend(after, limits);
  const whole = memoryTrend(collected, limits);
  if (opts.limits && after.length < 8) {
    violation(`load: ${after.length} memory samples after the warm-up, too few to judge a trend`);
  } else if (opts.limits && window.growing) {
    violation(`load: memory grows after the warm-up: ${window.growing}`);
  }
  const mib = (n: number) => +(n / MIB).toFixed(1);
  const seconds = (at: number) => at === Infinity ? undefined : +((at - t0) / 1000).toFixed(1);
  return {
    connections: opts.connections,
    sessions,
    // When every session's command memory was full, and when the window judged began.
    filledSeconds: seconds(filledAt),
    warmupSeconds: seconds(warmEnd),
    seconds: seconds(performance.now()),
    acked: latencies.length,
    errors,
    ackMs: percentiles(latencies),
    ackMsAfterWarmup: percentiles(judged),
    // Every 15 s, after a full collection: [minute, RSS MiB, heap MiB]; the warm-up's first.
    collected: collected.map((s) => [+s.t.toFixed(2), mib(s.rss), mib(s.heap)]),
    gcMsMax: +gcMsMax.toFixed(1),
    heapPeakMiB: mib(Math.max(...sawtooth.map((s) => s.heap))),
    rssPeakMiB: mib(Math.max(...sawtooth.map((s) => s.rss))),
    // MiB a minute, of the samples after a collection; none from fewer than 8 samples.
    slopeWhole: collected.length < 8
      ? undefined
      : { heap: whole.heapMiBPerMin, rss: whole.rssMiBPerMin },
    slopeAfterWarmup: after.length < 8
      ? undefined
      : { heap: window.heapMiBPerMin, rss: window.rssMiBPerMin },
  };
}
