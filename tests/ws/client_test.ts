import assert from "node:assert/strict";
import { z } from "zod";
import {
  BATCH_MAX as CLIENT_BATCH_MAX,
  connect,
  DenizenClient,
  type Timers,
  type WelcomeFrame,
} from "../../client.ts";
import { BATCH_MAX as SERVER_BATCH_MAX } from "../../routes/ws_frames.ts";
import { defineSession } from "../../mod.ts";
import { Proxy, serve, until, wsUrl } from "./_harness.ts";
import { internals } from "../../actors/runtime.ts";

const add = (path: string, value: unknown) => [{ op: "add" as const, path, value }];
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

Deno.test("an agent cut off mid-stream resumes with since: same state, every seq exactly once", async () => {
  const srv = await serve();
  const s = await srv.rt.create("default", { state: { a: [], b: [] } });
  const proxy = new Proxy(srv.port);
  const agent = new DenizenClient(wsUrl(proxy.port, s.id), {
    agent: "a",
    initialDelayMs: 5,
    staleMs: 0,
    random: () => 0.5,
  });
  const seqs: number[] = [];
  const welcomes: WelcomeFrame[] = [];
  agent.on("event", (e) => seqs.push(e.seq));
  agent.on("welcome", (w) => welcomes.push(w));
  await agent.ready();
  const writer = await connect(srv.url(s.id), { agent: "b", staleMs: 0 });

  const writing = (async () => {
    const acks = [];
    for (let i = 0; i < 300; i++) {
      acks.push(writer.patch(add("/b/-", i)));
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(acks);
  })();
  const before = range(0, 49).map((i) => agent.patch(add("/a/-", i)));
  await until(() => seqs.length >= 40);
  await proxy.cut();
  const during = range(50, 99).map((i) => agent.patch(add("/a/-", i)));
  await writing;
  await Promise.all([...before, ...during]);

  const server = await srv.rt.get(s.id);
  await until(() => agent.version === server.version);
  assert.deepEqual(agent.state, server.state);
  assert.deepEqual(
    server.state.a,
    range(0, 99),
    "each of the agent's commands applied once, in order",
  );
  assert.deepEqual(server.state.b, range(0, 299));
  assert.equal(welcomes[0].seq, 1);
  assert.deepEqual(seqs, range(2, server.version), "no event missed, none seen twice");
  assert.ok(welcomes.length >= 2, "reconnected");
  assert.ok(welcomes.slice(1).every((w) => w.replayed !== undefined), "resumed with since");
  await agent.close();
  await writer.close();
  await proxy.close();
  await srv.close();
});

const research = defineSession({
  kind: "research",
  state: z.object({ query: z.string(), findings: z.array(z.string()).default([]) }),
  actions: {
    addFinding: {
      args: z.object({ text: z.string().min(1) }),
      run(ctx, { text }) {
        ctx.state.findings.push(text);
        return { count: ctx.state.findings.length };
      },
    },
  },
});

Deno.test("typed actions, messages, results and agent updates resolve with their acks", async () => {
  const srv = await serve({ runtime: { kinds: [research] } });
  const s = await srv.rt.create("research", { state: { query: "ACME" } });
  const client = await connect<typeof research>(srv.url(s.id), { agent: "scout", staleMs: 0 });
  const presence: (readonly string[])[] = [];
  client.on("presence", (p) => presence.push(p));
  const ack = await client.action<"addFinding">("addFinding", { text: "founded 1999" });
  assert.deepEqual(ack.result, { count: 1 });
  const _typed = () =>
    // @ts-expect-error: args are checked against the kind's zod schema
    client.action<"addFinding">("addFinding", { text: 1 });
  assert.deepEqual(client.state.findings, ["founded 1999"]);
  assert.equal(client.version, ack.version);
  const m = await client.message({ role: "assistant", content: "hi" });
  assert.equal(typeof m.result?.id, "string");
  await client.result({ key: "k", data: [1, 2] });
  await client.agent({ status: "done", progress: 1 });
  assert.equal((await srv.rt.get(s.id)).agents.scout.progress, 1);
  await assert.rejects(
    client.patch([{ op: "add", path: "/x", value: 1 }], { ifVersion: 1 }),
    (e: Error & { code?: string }) => e.code === "precondition_failed",
  );
  const same = await client.action("addFinding", { text: "again" }, { id: "fixed" });
  const dup = await client.action("addFinding", { text: "again" }, { id: "fixed" });
  assert.deepEqual(dup, same);
  assert.deepEqual(client.presence, ["scout"]);
  await client.close();
  await assert.rejects(
    client.patch(add("/y", 1)),
    (e: Error & { code?: string }) => e.code === "closed",
  );
  await srv.close();
});

/** Timers that run only when told to. */
class FakeTimers implements Timers {
  readonly delays: number[] = [];
  #next = 1;
  readonly #due = new Map<number, () => void>();
  setTimeout(fn: () => void, ms: number): unknown {
    this.delays.push(ms);
    const id = this.#next++;
    this.#due.set(id, fn);
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#due.delete(handle as number);
  }
  get pending(): number {
    return this.#due.size;
  }
  /** Runs every due callback once. */
  fire(): void {
    const due = [...this.#due.values()];
    this.#due.clear();
    for (const fn of due) fn();
  }
}

Deno.test("reconnects back off exponentially with jitter, then give up", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // nothing listens there now
  const timers = new FakeTimers();
  const client = new DenizenClient(wsUrl(port, "s1"), {
    timers,
    random: () => 0.5,
    maxAttempts: 4,
    staleMs: 0,
  });
  const ready = client.ready();
  const closes: number[] = [];
  client.on("close", (e) => closes.push(e.code));
  for (let attempt = 1; attempt <= 4; attempt++) {
    await until(() => timers.pending === 1);
    timers.fire();
  }
  await assert.rejects(ready, (e: Error & { code?: string }) => e.code === "unavailable");
  assert.deepEqual(timers.delays, [187.5, 375, 750, 1500]);
  assert.equal(closes.length, 5);
  await client.close();
});

Deno.test("a server that falls silent is dropped after staleMs and the client resumes", async () => {
  const srv = await serve();
  const s = await srv.rt.create("default", { state: {} });
  const timers = new FakeTimers();
  let now = 0;
  const client = new DenizenClient(srv.url(s.id), { timers, now: () => now, staleMs: 1_000 });
  const welcomes: WelcomeFrame[] = [];
  client.on("welcome", (w) => welcomes.push(w));
  await client.ready();
  now = 1_000;
  timers.fire(); // the stale check: nothing heard for 1 s
  assert.equal(client.connected, false);
  await srv.rt.patch(s.id, add("/late", true));
  timers.fire(); // the reconnect
  await client.ready();
  await until(() => client.version === 2);
  assert.deepEqual(client.state, { late: true });
  assert.equal(welcomes[1].replayed, 1);
  await client.close();
  await until(() => srv.route.hub.size === 0);
  await srv.close();
});

Deno.test("the client's send window keeps commands under the server's in-flight limit", async () => {
  const srv = await serve({ ws: { maxInFlight: 5 } });
  const s = await srv.rt.create("default", { state: { xs: [] } });
  const client = await connect(srv.url(s.id), { window: 5, staleMs: 0 });
  const acks = await Promise.all(range(0, 49).map((i) => client.patch(add("/xs/-", i))));
  assert.deepEqual(acks.map((a) => a.version), range(2, 51));
  assert.deepEqual(client.state, { xs: range(0, 49) });
  await client.close();
  await srv.close();
});

/** The global WebSocket, recording the UTF-8 size of every message it sends. */
function recordingSocket(sizes: number[]): typeof WebSocket {
  return class extends WebSocket {
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (typeof data === "string") sizes.push(new TextEncoder().encode(data).length);
      super.send(data);
    }
  };
}

Deno.test("a burst through the default client goes out in complete writes of at most 1 KiB and arms no timer", async () => {
  // Deno's WebSocket client keeps Nagle on and writes a message over 1,024 bytes as header then
  // payload; alone, the payload waits ~40 ms for a delayed ACK. Every message must be one write.
  const srv = await serve();
  for (const n of [2, 16, 256, 1000]) {
    const s = await srv.rt.create("default", { state: { xs: [] } });
    const sizes: number[] = [];
    const timers = new FakeTimers();
    const client = await connect(srv.url(s.id), {
      timers,
      staleMs: 0,
      window: 1000,
      WebSocket: recordingSocket(sizes),
    });
    const armed = timers.delays.length;
    const before = internals(srv.rt).metrics.wsMessages;
    const acks = await Promise.all(
      range(1, n).map((i) => client.patch(add("/xs/-", "é".repeat(i % 7)))),
    );
    assert.deepEqual(acks.map((a) => a.version), range(2, n + 1));
    assert.equal(timers.delays.length, armed, `a burst of ${n} armed no timer`);
    assert.ok(sizes.length > 0 && sizes.every((b) => b <= 1024), `burst of ${n}: ${sizes}`);
    const messages = internals(srv.rt).metrics.wsMessages - before;
    assert.equal(messages, sizes.length);
    assert.ok(messages < n, `burst of ${n} went out batched, in ${messages} messages`);
    await client.close();
  }
  await srv.close();
});

Deno.test("commands issued in one tick go out batched; batch: false sends one message each", async () => {
  const srv = await serve();
  for (const batch of [true, false]) {
    const s = await srv.rt.create("default", { state: { xs: [] } });
    const client = await connect(srv.url(s.id), { batch, staleMs: 0 });
    const before = internals(srv.rt).metrics.wsMessages;
    const acks = await Promise.all(range(0, 99).map((i) => client.patch(add("/xs/-", i))));
    assert.deepEqual(acks.map((a) => a.version), range(2, 101));
    assert.deepEqual(client.state, { xs: range(0, 99) });
    assert.equal(client.version, 101);
    const messages = internals(srv.rt).metrics.wsMessages - before;
    if (batch) assert.ok(messages > 1 && messages <= 20, `batch: ${messages} messages`);
    else assert.equal(messages, 100);
    await client.close();
  }
  await srv.close();
});

Deno.test("a frame over 1 KiB travels alone, whole", async () => {
  const srv = await serve();
  const s = await srv.rt.create("default", { state: {} });
  const sizes: number[] = [];
  const client = await connect(srv.url(s.id), { staleMs: 0, WebSocket: recordingSocket(sizes) });
  const big = "x".repeat(5000);
  await Promise.all([
    client.patch(add("/a", 1)),
    client.patch(add("/big", big)),
    client.patch(add("/b", 2)),
  ]);
  assert.deepEqual(client.state, { a: 1, big, b: 2 });
  assert.equal(sizes.length, 3);
  assert.ok(sizes[1] > 5000 && sizes[0] < 1024 && sizes[2] < 1024);
  await client.close();
  await srv.close();
});

Deno.test("the client's batch limit is the server's", () => {
  assert.equal(CLIENT_BATCH_MAX, SERVER_BATCH_MAX);
});
