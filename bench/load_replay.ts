/**
 * Reconnect replay: a session gets `--events` + 10 committed patches; then a
 * socket opened with `?since=version-events` is timed to its welcome, and
 * checked to have replayed exactly `--events` events. The baseline is the
 * same session's snapshot welcome (no `since`).
 *
 *   deno run -A bench/load_replay.ts --url URL --prefix P [--events 10000] [--reps 3]
 *
 * Prints `{replayMs: [...], snapshotMs: [...], replayed}`.
 *
 * @module
 */
import { emit, flags, num } from "./_args.ts";
import { closeSocket, createSession, openSocket, Pipeline, stateOf } from "./_ws.ts";

const f = flags();
const url = f.get("url")!;
const id = `${f.get("prefix") ?? "rep"}-0`;
const events = num(f, "events", 10_000);
const reps = num(f, "reps", 3);

await createSession(url, id, stateOf(1));
const { ws } = await openSocket(url, id);
const pipe = new Pipeline(ws, 500, "r");
pipe.start();
while (pipe.acked < events + 10) await new Promise((r) => setTimeout(r, 20));
await pipe.stop();
await closeSocket(ws);
if (pipe.errors > 0) throw new Error(`writes failed: ${pipe.lastError}`);
// Let the outbox reach SQL first, so the timing is the replay, not the drain.
await (await fetch(`${url}/v1/sessions/${id}/events?after=0&limit=1`)).body?.cancel();
const version = (await (await fetch(`${url}/v1/sessions/${id}`)).json()).version as number;

const replayMs: number[] = [];
const snapshotMs: number[] = [];
let replayed = 0;
for (let r = 0; r < reps; r++) {
  const a = await openSocket(url, id, `since=${version - events}`);
  replayMs.push(a.welcomeMs);
  replayed = a.events;
  if (a.welcome.replayed !== events || a.events !== events) {
    throw new Error(`replayed ${a.welcome.replayed} (${a.events} frames), expected ${events}`);
  }
  await closeSocket(a.ws);
  const b = await openSocket(url, id);
  snapshotMs.push(b.welcomeMs);
  await closeSocket(b.ws);
}
emit({ replayMs, snapshotMs, replayed, version });
