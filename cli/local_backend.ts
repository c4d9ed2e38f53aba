/**
 * The CLI on a local data directory: a runtime opened in this process with
 * `createRuntime({ dataDir, tickMs: 0 })`.
 *
 * @module
 */
import { createRuntime } from "../mod.ts";
import type { Runtime } from "../actors/runtime.ts";
import type { SessionsBackend } from "./backend.ts";
import { CliError } from "./cli_error.ts";

/** SQLite's words for a database another process holds. */
const BUSY = /locked|busy/i;

/**
 * Opens the runtime of `dataDir`. Unless `create` is set, a missing
 * directory is an error rather than a new, empty one. A database held by
 * another process (a running server) is reported as such, with `--url` as
 * the way round it.
 *
 * @example
 * ```ts
 * const backend = await openLocalBackend("./data");
 * console.log((await backend.list({})).items.length);
 * await backend.close();
 * ```
 */
export async function openLocalBackend(
  dataDir: string,
  opts: { create?: boolean } = {},
): Promise<SessionsBackend> {
  if (!opts.create) {
    const info = await Deno.stat(dataDir).catch(() => undefined);
    if (!info?.isDirectory) {
      throw new CliError(
        `Data directory '${dataDir}' does not exist: pass --data DIR, or --url URL for a server`,
      );
    }
  }
  let rt: Runtime;
  try {
    rt = await createRuntime({ dataDir, tickMs: 0 });
  } catch (error) {
    throw busyError(error, dataDir);
  }
  return new LocalBackend(rt, dataDir);
}

/** `error`, or a clear message when it says another process holds the data directory. */
function busyError(error: unknown, dataDir: string): unknown {
  const message = error instanceof Error ? error.message : String(error);
  if (!BUSY.test(message)) return error;
  return new CliError(
    `Data directory '${dataDir}' is in use by another process (a running server?): ${message}. ` +
      "A server's KV file cannot be written from a second process; " +
      "use --url URL (and DENIZEN_TOKEN) to go through the server's HTTP API, or stop the server",
  );
}

class LocalBackend implements SessionsBackend {
  readonly where: string;
  readonly #rt: Runtime;

  constructor(rt: Runtime, dataDir: string) {
    this.#rt = rt;
    this.where = dataDir;
  }

  list: SessionsBackend["list"] = (q) => this.#run(() => this.#rt.list(q));
  get: SessionsBackend["get"] = (id) => this.#run(() => this.#rt.get(id));
  pause: SessionsBackend["pause"] = (id) => this.#run(() => this.#rt.pause(id));
  resume: SessionsBackend["resume"] = (id) => this.#run(() => this.#rt.resume(id));
  /** Read back once drained: until then the answer of `complete` lacks the report. */
  complete: SessionsBackend["complete"] = (id, report) =>
    this.#run(async () => {
      await this.#rt.complete(id, report);
      await this.#rt.flush();
      return await this.#rt.get(id);
    });
  export: SessionsBackend["export"] = (id) => this.#run(() => this.#rt.export(id));
  import: SessionsBackend["import"] = (body) => this.#run(() => this.#rt.import(body));
  archive: SessionsBackend["archive"] = (id) => this.#run(() => this.#rt.archive(id));
  delete: SessionsBackend["delete"] = (id) => this.#run(() => this.#rt.delete(id));

  /** The runtime's own selection, after what is committed reaches SQL. */
  cleanupCandidates: SessionsBackend["cleanupCandidates"] = (rules) =>
    this.#run(() => this.#rt.cleanup({ ...rules, dryRun: true }));
  inbox: SessionsBackend["inbox"] = (q) => this.#run(() => this.#rt.inbox(q));
  approvals: SessionsBackend["approvals"] = (id, status) =>
    this.#run(() => this.#rt.approvals(id, { status }));
  decide: SessionsBackend["decide"] = (id, aid, d) => this.#run(() => this.#rt.decide(id, aid, d));
  tasks: SessionsBackend["tasks"] = (id, status) => this.#run(() => this.#rt.tasks(id, { status }));

  close(): Promise<void> {
    return this.#rt.close();
  }

  async #run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw busyError(error, this.where);
    }
  }
}
