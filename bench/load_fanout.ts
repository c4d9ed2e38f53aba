/**
 * Fan-out: one session with `--subs` subscriber sockets and one writer. The
 * writer sends one patch at a time; for each, the delay runs from the commit
 * becoming visible (the writer's ack, or the first delivery if that came
 * sooner) to the last subscriber's delivery of that event.
 *
 *   deno run -A bench/load_fanout.ts --url URL --prefix P [--subs 1000]
 *     [--updates 100] [--gap-ms 10]
 *
 * Prints `{p50, p99, max, n, sendToLastP99, subs}` in ms.
 *
 * @module
 */
import { emit, flags, num } from "./_args.ts";
import { latencies } from "./_stats.ts";
import { closeSocket, createSession, type Frame, openSocket, pool, stateOf } from "./_ws.ts";

const f = flags();
const url = f.get("url")!;
const id = `${f.get("prefix") ?? "fan"}-0`;
const subs = num(f, "subs", 1_000);
const updates = num(f, "updates", 100);
const gapMs = num(f, "gap-ms", 10);

await createSession(url, id, stateOf(1));
const sockets: WebSocket[] = [];
await pool(Array.from({ length: subs }, (_, i) => i), 50, async () => {
  sockets.push((await openSocket(url, id)).ws);
});

/** Per seq: deliveries so far, first and last delivery time. */
const seen = new Map<number, { n: number; first: number; last: number }>();
let waiting: { seq: number; resolve: () => void } | undefined;
for (const ws of sockets) {
  ws.onmessage = (e) => {
    const data = e.data as string;
    if (!data.startsWith('{"t":"event"')) return;
    const now = performance.now();
    const seq = (JSON.parse(data) as Frame).seq!;
    const s = seen.get(seq) ?? { n: 0, first: now, last: now };
    s.n++;
    s.last = now;
    seen.set(seq, s);
    if (s.n === subs && waiting?.seq === seq) waiting.resolve();
  };
}

const writer = (await openSocket(url, id)).ws;
const delays: number[] = [];
const sendToLast: number[] = [];
for (let u = 0; u < updates; u++) {
  const sentAt = performance.now();
  const ack = await new Promise<{ seq: number; at: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`update ${u}: no ack in 10 s`)), 10_000);
    writer.onmessage = (e) => {
      const fr = JSON.parse(e.data as string) as Frame;
      if (fr.t === "ack") resolve({ seq: fr.version!, at: performance.now() });
      if (fr.t === "ack" || fr.t === "error") clearTimeout(timer);
      if (fr.t === "error") reject(new Error(`${fr.code}: ${fr.message}`));
    };
    writer.send(
      JSON.stringify({ t: "patch", id: `w${u}`, ops: [{ op: "replace", path: "/n", value: u }] }),
    );
  });
  if ((seen.get(ack.seq)?.n ?? 0) < subs) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`seq ${ack.seq}: missing deliveries`)),
        10_000,
      );
      waiting = { seq: ack.seq, resolve: () => (clearTimeout(timer), resolve()) };
    });
  }
  const s = seen.get(ack.seq)!;
  delays.push(s.last - Math.min(ack.at, s.first));
  sendToLast.push(s.last - sentAt);
  await new Promise((r) => setTimeout(r, gapMs));
}
await Promise.all([writer, ...sockets].map(closeSocket));
emit({ ...latencies(delays), sendToLastP99: latencies(sendToLast).p99, subs });
