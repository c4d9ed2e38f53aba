/**
 * The crash soak (issue 18): clients pipeline commands with ids over
 * WebSocket through `client.ts` (patches, actions, messages, results, timer
 * schedules and task claims) across many sessions, while the server is
 * killed with SIGKILL at random moments and restarted on the same data
 * directory. Clients reconnect with `since` and resend unacked commands with
 * the same ids, as `client.ts` does. At the end it checks, Jepsen-style:
 *
 * - every acknowledged command is applied exactly once in the KV state, in
 *   the order it was acked; no command is applied twice; a command answered
 *   with an error is not applied at all;
 * - SQL history holds every seq from 1 to the version exactly once, and the
 *   event of every acknowledged command;
 * - every client's mirror equals the server's state;
 * - every acknowledged timer fired exactly once;
 * - no task was acked to two agents, and every acked claim holds.
 *
 * Then a load phase (`_load.ts`): 1,000 WebSocket connections over 200
 * sessions (200 over 40 with `--short`), each sending a patch a second, on a
 * fresh server. It samples the server's RSS and heap after a full garbage
 * collection every 15 s. The full soak warms up until every session's
 * command memory is full (1,000 ids, about 3.5 minutes) and a minute more,
 * then judges 5 minutes: a heap growing over 1 MiB a minute, or an RSS
 * growing over 10 MiB a minute, fails it. It reports the slopes with and
 * without the warm-up, the ack latency p50 and p99, and any error.
 *
 *   deno task soak            about 15 minutes: 5 of crashes (>= 20 kills), 4.5 + 5 of load
 *   deno task soak --short    about a minute, >= 3 kills, 15 s of load, not judged (CI)
 *   --only crash|load         one phase
 *   --seconds N --sessions N --window N          the crash phase
 *   --load-seconds N --connections N --warmup N|fill   the load phase
 *
 * Prints one JSON line of figures, then `soak: ok` or the violations, and
 * exits non-zero on any violation.
 *
 * @module
 */
import { crashPhase } from "./_crash.ts";
import { loadPhase } from "./_load.ts";
import { SoakServer } from "./_soak_server.ts";

const argv = new Map<string, string>();
for (let i = 0; i < Deno.args.length; i++) {
  const a = Deno.args[i];
  if (!a.startsWith("--")) continue;
  const next = Deno.args[i + 1];
  if (next === undefined || next.startsWith("--")) argv.set(a.slice(2), "true");
  else argv.set(a.slice(2), Deno.args[++i]);
}
const short = argv.has("short");
const only = argv.get("only");
if (only !== undefined && only !== "crash" && only !== "load") throw new Error("--only crash|load");
const warmup = argv.get("warmup") ?? (short ? "0" : "fill");

const violations: string[] = [];
const violation = (s: string) => {
  if (violations.length < 50) violations.push(s);
};

const crashServer = new SoakServer(await Deno.makeTempDir({ prefix: "denizen-soak-" }));
let crash: Record<string, unknown> | undefined;
if (only !== "load") {
  await crashServer.start();
  crash = await crashPhase(crashServer, {
    seconds: Number(argv.get("seconds") ?? (short ? 25 : 280)),
    sessions: Number(argv.get("sessions") ?? 50),
    window: Number(argv.get("window") ?? 8),
    minKills: short ? 3 : 20,
    killEvery: short ? [3_000, 6_000] : [6_000, 18_000],
  }, violation);
}
await Deno.remove(crashServer.dir, { recursive: true }).catch(() => {});

const loadServer = new SoakServer(await Deno.makeTempDir({ prefix: "denizen-soak-load-" }));
const loadSeconds = Number(argv.get("load-seconds") ?? (short ? 15 : 300));
let load: Record<string, unknown> | undefined;
if (only !== "crash" && loadSeconds > 0) {
  load = await loadPhase(loadServer, {
    connections: Number(argv.get("connections") ?? (short ? 200 : 1000)),
    seconds: loadSeconds,
    warmup: warmup === "fill" ? "fill" : Number(warmup),
    limits: short ? undefined : { heap: 1, rss: 10 },
  }, violation);
}
await Deno.remove(loadServer.dir, { recursive: true }).catch(() => {});

console.log(JSON.stringify({ ...crash, load }));
if (violations.length > 0) {
  console.log(`soak: ${violations.length} violation(s)\n${violations.join("\n")}`);
  Deno.exit(1);
}
console.log("soak: ok");
