/**
 * `deno task serve`: the Denizen server. Reads its settings from the
 * environment:
 *
 * - `PORT` (default 8000) and `HOST` (default 0.0.0.0 with a token,
 *   127.0.0.1 without one)
 * - `DENIZEN_TOKEN`: the bearer token every route but `/healthz` requires
 * - `DATABASE_URL`: a `postgres://` URL puts history and blobs in PostgreSQL
 * - `DENIZEN_DATA` (default `./data`): where the KV file, SQLite history
 *   and blobs live
 *
 * On Deno Deploy (`DENO_DEPLOYMENT_ID` is set) it uses the project's KV
 * (`Deno.openKv()`), requires `DATABASE_URL` (PostgreSQL) and
 * `DENIZEN_TOKEN`, and lets Deploy choose the address.
 *
 * Stops gracefully on SIGINT or SIGTERM, within `DENIZEN_SHUTDOWN_MS`
 * (default 10 s): it stops accepting connections, lets every socket answer
 * the commands it has in flight and then closes it with 4503 (clients
 * reconnect), lets every actor finish, drains the outbox to SQL and closes
 * the stores. Past the bound it exits with 1; what was acked is durable
 * anyway, and what was not is resent by the clients.
 *
 * @module
 */
import { createRuntime, DenizenError } from "../mod.ts";
import { internals } from "../actors/runtime.ts";

/**
 * Refuses to start: one line on stderr, what is wrong and what to do, and
 * exit code 1. Never a stack trace.
 */
function refuse(reason: string): never {
  console.error(`cannot start: ${reason.split("\n")[0]}`);
  Deno.exit(1);
}

const token = Deno.env.get("DENIZEN_TOKEN") || undefined;
const deploy = Deno.env.get("DENO_DEPLOYMENT_ID") !== undefined;
if (deploy && !token) {
  refuse("On Deno Deploy set DENIZEN_TOKEN: a public server is never left open");
}
const port = Number(Deno.env.get("PORT") ?? 8000);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`PORT must be an integer from 0 to 65535, not '${Deno.env.get("PORT")}'`);
  Deno.exit(2);
}
const hostname = token ? Deno.env.get("HOST") ?? "0.0.0.0" : "127.0.0.1";

const rt = await createRuntime({
  token,
  deploy,
  dataDir: Deno.env.get("DENIZEN_DATA") ?? "./data",
  databaseUrl: Deno.env.get("DATABASE_URL") || undefined,
}).catch((error) =>
  // A refusal with a reason (a locked data directory, a damaged KV or history file, an
  // unreachable DATABASE_URL) says what to do; anything else at least says what failed.
  refuse(
    error instanceof DenizenError
      ? error.message
      : `${error?.name ?? "Error"}: ${error?.message ?? error}`,
  )
);

if (!token) console.warn("no DENIZEN_TOKEN set: listening on 127.0.0.1 only");
const { kv, history, blobs } = internals(rt).stores.where;
console.log(`data: kv ${kv}, history ${history}, blobs ${blobs}`);

let server: Deno.HttpServer;
try {
  server = Deno.serve({
    ...(deploy ? {} : { hostname, port }),
    onListen: ({ hostname, port }) =>
      console.log(`Denizen listening on http://${hostname}:${port}`),
  }, rt.app.fetch);
} catch (error) {
  await rt.close();
  refuse(
    `listening on ${hostname}:${port} failed (${
      (error as Error).message
    }); set PORT to a free port`,
  );
}

const shutdownMs = Number(Deno.env.get("DENIZEN_SHUTDOWN_MS") ?? 10_000);
let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  const t0 = performance.now();
  console.log(`${signal}: shutting down (at most ${shutdownMs} ms)`);
  const bound = setTimeout(() => {
    console.error(`shutdown took over ${shutdownMs} ms; exiting`);
    Deno.exit(1);
  }, shutdownMs);
  await rt.drain(); // sockets answer what they have in flight, then close with 4503
  await server.shutdown(); // no new connections; requests in flight finish
  await rt.close();
  clearTimeout(bound);
  console.log(`stopped in ${(performance.now() - t0).toFixed(0)} ms`);
  Deno.exit(0);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  try {
    Deno.addSignalListener(signal, () => void stop(signal));
  } catch {
    // no signals where the platform manages the process (Deno Deploy)
  }
}
