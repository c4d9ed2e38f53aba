/**
 * Fault 5: a WebSocket subscriber that never reads. tests/ws/backpressure_test.ts
 * already proves that it is closed with 4008 under small and default bounds
 * (so what the server holds for it is bounded by `maxLag` frames and
 * `highWaterBytes` of socket buffer), and that a client closed so resumes
 * with `since` and misses nothing. What it leaves out is the other
 * subscribers of the same session: they must not wait for the stalled one.
 */
import assert from "node:assert/strict";
import { Peer, serve } from "../ws/_harness.ts";
import { until } from "./_faults.ts";
import { internals } from "../../actors/runtime.ts";

/** Opens a WebSocket over raw TCP and never reads from it. */
async function stalled(port: number, path: string): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${btoa("0123456789abcdef")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ));
  return conn;
}

Deno.test("a subscriber that never reads is dropped while another on the same session gets every event, in order, without waiting", async () => {
  const srv = await serve({ ws: { maxLag: 50, highWaterBytes: 64 * 1024 } });
  try {
    const s = await srv.rt.create("default", { state: {} });
    const conn = await stalled(srv.port, `/v1/sessions/${s.id}/ws`);
    const peer = await Peer.open(srv.url(s.id));
    await until(() => srv.route.hub.size === 2, "both subscribers");
    const big = "x".repeat(16 * 1024);
    let version = 1;
    for (let round = 0; round < 200 && srv.route.hub.size > 1; round++) {
      const acks = await Promise.all(
        Array.from(
          { length: 25 },
          (_, i) => srv.rt.patch(s.id, [{ op: "add", path: "/blob", value: big + round + i }]),
        ),
      );
      version = Math.max(version, ...acks.map((a) => a.version));
      // The reader keeps up (it shares this process's event loop with the writer).
      await peer.next((f) => f.t === "event" && f.seq === version);
    }
    await until(() => srv.route.hub.size === 1, "the stalled subscriber to be dropped");
    assert.equal(internals(srv.rt).metrics.wsConnections, 1);
    // The reader got every event, in order, and is still served.
    const seqs = peer.frames.filter((f) => f.t === "event").map((f) => f.seq);
    assert.deepEqual(seqs, Array.from({ length: version - 1 }, (_, i) => i + 2));
    await peer.roundTrip();
    await peer.close();
    conn.close();
  } finally {
    await srv.close();
  }
});
