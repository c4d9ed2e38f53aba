import assert from "node:assert/strict";
import { z } from "zod";
import { DenizenClient } from "../../client.ts";
import { defineSession } from "../../mod.ts";
import type { WsOptions } from "../../routes/ws_hub.ts";
import { serve, until } from "./_harness.ts";
import { internals } from "../../actors/runtime.ts";

/** Opens a WebSocket by hand over TCP and never reads from it until told to. */
async function stalledSubscriber(port: number, path: string): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const key = btoa("0123456789abcdef");
  const head = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  await conn.write(new TextEncoder().encode(head));
  return conn;
}

/** Reads server frames (unmasked) until a close frame; returns its code. */
async function readUntilClose(conn: Deno.Conn): Promise<number> {
  let buf = new Uint8Array(0);
  const chunk = new Uint8Array(256 * 1024);
  let headerDone = false;
  for (;;) {
    const n = await conn.read(chunk);
    if (n === null) throw new Error("connection ended without a close frame");
    const next = new Uint8Array(buf.length + n);
    next.set(buf);
    next.set(chunk.subarray(0, n), buf.length);
    buf = next;
    if (!headerDone) {
      const end = new TextDecoder().decode(buf).indexOf("\r\n\r\n");
      if (end < 0) continue;
      buf = buf.subarray(end + 4);
      headerDone = true;
    }
    for (;;) {
      if (buf.length < 2) break;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) break;
        len = (buf[2] << 8) | buf[3];
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) break;
        len = Number(new DataView(buf.buffer, buf.byteOffset + 2, 8).getBigUint64(0));
        off = 10;
      }
      if (buf.length < off + len) break;
      if ((buf[0] & 0x0f) === 8) return (buf[off] << 8) | buf[off + 1];
      buf = buf.subarray(off + len);
    }
  }
}

async function stallUntilClosed(ws: WsOptions, rounds: number): Promise<void> {
  const srv = await serve({ ws });
  const s = await srv.rt.create("default", { state: {} });
  const conn = await stalledSubscriber(srv.port, `/v1/sessions/${s.id}/ws`);
  await until(() => srv.route.hub.size === 1);
  const big = "x".repeat(16 * 1024);
  for (let round = 0; round < rounds && srv.route.hub.size > 0; round++) {
    const writes = [];
    for (let i = 0; i < 50; i++) {
      writes.push(srv.rt.patch(s.id, [{ op: "add", path: "/blob", value: big + round + i }]));
    }
    await Promise.all(writes);
  }
  await until(() => srv.route.hub.size === 0);
  assert.equal(internals(srv.rt).metrics.wsConnections, 0);
  assert.equal(await readUntilClose(conn), 4008);
  conn.close();
  await srv.close();
}

Deno.test("a subscriber that does not read is closed with 4008 (small bounds)", async () => {
  await stallUntilClosed({ maxLag: 50, highWaterBytes: 64 * 1024 }, 40);
});

Deno.test("a subscriber that does not read is closed with 4008 (default bounds)", async () => {
  await stallUntilClosed({}, 200);
});

const burst = defineSession({
  kind: "burst",
  state: z.object({ n: z.number().default(0) }),
  actions: {
    many: {
      args: z.object({ count: z.number().int().max(100) }),
      run(ctx, { count }) {
        ctx.state.n++;
        for (let i = 0; i < count; i++) ctx.emit("tick", { i });
      },
    },
  },
});

Deno.test("a client closed with 4008 resumes with since and misses nothing", async () => {
  const srv = await serve({ ws: { maxLag: 3, highWaterBytes: 0 }, runtime: { kinds: [burst] } });
  const s = await srv.rt.create("burst");
  const client = new DenizenClient<typeof burst>(srv.url(s.id), { initialDelayMs: 1, staleMs: 0 });
  const closes: number[] = [];
  const seqs: number[] = [];
  client.on("close", (e) => closes.push(e.code));
  client.on("event", (e) => seqs.push(e.seq));
  await client.ready();
  await srv.rt.action(s.id, "many", { count: 30 });
  await until(() => client.connected && client.version === 32);
  assert.ok(closes.includes(4008), `closes: ${closes}`);
  assert.deepEqual(seqs, Array.from({ length: 31 }, (_, i) => i + 2));
  assert.deepEqual(client.state, { n: 1 });
  await client.close();
  await srv.close();
});
