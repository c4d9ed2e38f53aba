/**
 * The floor of figure 3: a WebSocket server with no runtime, speaking just
 * enough of the protocol for `load_latency.ts` (a 201 for the session's
 * creation, a welcome, and an ack for each frame as soon as it arrives).
 * Latency through it is the generator's, the loopback's and Deno's
 * WebSocket's share of an ack.
 *
 *   deno run -A bench/echo_server.ts [--port 0]
 *
 * Prints `ready <port> <ms>` once it listens, as `server.ts` does.
 *
 * @module
 */
import { flags, num } from "./_args.ts";

const f = flags();
const server = Deno.serve({
  port: num(f, "port", 0),
  hostname: "127.0.0.1",
  onListen: ({ port }) => console.log(`ready ${port} ${performance.now().toFixed(1)}`),
}, (req) => {
  if (req.method === "POST") return new Response("{}", { status: 201 });
  if (!new URL(req.url).pathname.endsWith("/ws")) return new Response(null, { status: 404 });
  const { socket, response } = Deno.upgradeWebSocket(req);
  let version = 0;
  socket.onopen = () =>
    socket.send(JSON.stringify({ t: "welcome", conn: "echo", session: {}, seq: 0 }));
  socket.onmessage = (e) => {
    const frame = JSON.parse(e.data as string) as { id?: string };
    socket.send(JSON.stringify({ t: "ack", id: frame.id, version: ++version }));
  };
  return response;
});

Deno.addSignalListener("SIGTERM", async () => {
  await server.shutdown();
  Deno.exit(0);
});
