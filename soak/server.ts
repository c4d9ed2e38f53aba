/**
 * The server of the soak: a runtime on a data directory with the `soak`
 * kind, served on 127.0.0.1:`--port`. Prints `ready <port>` once it listens.
 * The soak kills it with SIGKILL at random moments; nothing here prepares
 * for that.
 *
 * Besides the API it answers `POST /soak/gc`: a full garbage collection
 * (run with `--v8-flags=--expose-gc`), then `Deno.memoryUsage()` and how
 * long the collection took, so the soak samples the memory the server keeps.
 *
 *   deno run -A --v8-flags=--expose-gc soak/server.ts --dir DIR --port PORT
 *
 * @module
 */
import { createRuntime } from "../mod.ts";
import { soakKind } from "./_kind.ts";

const args = new Map<string, string>();
for (let i = 0; i < Deno.args.length; i += 2) args.set(Deno.args[i].slice(2), Deno.args[i + 1]);
const dir = args.get("dir");
const port = Number(args.get("port"));
if (!dir || !Number.isInteger(port)) throw new Error("--dir DIR --port PORT");

const gc = (globalThis as { gc?: () => void }).gc;
const rt = await createRuntime({ dataDir: dir, kinds: [soakKind], scheduleMs: 100 });
Deno.serve({
  port,
  hostname: "127.0.0.1",
  onListen: ({ port }) => console.log(`ready ${port}`),
}, (req) => {
  if (new URL(req.url).pathname !== "/soak/gc") return rt.app.fetch(req);
  if (gc === undefined || req.method !== "POST") return new Response(null, { status: 404 });
  const t0 = performance.now();
  gc();
  return Response.json({ ...Deno.memoryUsage(), gcMs: performance.now() - t0 });
});
