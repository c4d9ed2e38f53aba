/**
 * History writes on a second thread. The drainer's SQL (Kysely building,
 * binding, SQLite or the PostgreSQL protocol) is most of what a commit costs
 * after its KV atomic, and the main thread also serves every socket. A
 * {@linkcode WorkerWriter} hands each batch to a Worker that holds its own
 * connection to the same database and answers once the transaction has
 * committed, so a read on the main thread after `write()` sees it.
 *
 * The worker is a `node:worker_threads` one: its `exit` event tells the
 * writer when the thread has ended, however it ended (an uncaught error,
 * `Deno.exit`, `terminate()`). A web Worker that ends by itself says
 * nothing, and the writes waiting on it would never settle.
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import type { BatchSummary, HistoryBatch } from "./history_store.ts";
import type { OpenHistoryOptions } from "./open_history.ts";

/** What the worker is asked to do. */
export type WorkerOp =
  | { op: "open"; options: OpenHistoryOptions }
  | { op: "write"; batch: HistoryBatch }
  | { op: "close" };

/** A request to the worker, numbered for its reply. */
export type WorkerRequest = WorkerOp & { id: number };

/** The worker's answer to request `id`: done (with a write's summary), or the error's message. */
export interface WorkerReply {
  id: number;
  summary?: BatchSummary;
  error?: string;
}

interface Waiter {
  resolve(reply: WorkerReply): void;
  reject(error: Error): void;
}

/** Where a history store sends its writes: its own connection, or a worker's. */
export interface HistoryWriter {
  write(batch: HistoryBatch): Promise<BatchSummary>;
  close(): Promise<void>;
}

/**
 * Writes batches through a Worker that opens the database described by
 * `options`. A worker that dies fails the writes in flight (the drainer
 * retries them: a write the worker had committed is written again, which
 * changes nothing) and is replaced on the next write. A transaction it left
 * open dies with its connection.
 */
export class WorkerWriter implements HistoryWriter {
  readonly #options: OpenHistoryOptions;
  #worker: Worker | undefined;
  #ready: Promise<void> | undefined;
  readonly #waiters = new Map<number, Waiter>();
  #next = 0;
  #closed = false;

  constructor(options: OpenHistoryOptions) {
    this.#options = { ...options, migrate: false, worker: false };
  }

  /** Starts the worker and opens its connection; rejects if it cannot. */
  start(): Promise<void> {
    if (this.#ready) return this.#ready;
    const worker = new Worker(new URL("./history_worker.ts", import.meta.url));
    worker.on("message", (reply: WorkerReply) => {
      const waiter = this.#waiters.get(reply.id);
      this.#waiters.delete(reply.id);
      if (reply.error === undefined) waiter?.resolve(reply);
      else waiter?.reject(new Error(reply.error));
    });
    worker.on("error", (error: Error) => {
      this.#lost(worker, new Error(`History worker failed: ${error.message}`));
    });
    worker.on("exit", (code: number) => {
      this.#lost(worker, new Error(`History worker stopped (exit code ${code})`));
    });
    this.#worker = worker;
    const ready = this.#send({ op: "open", options: this.#options });
    this.#ready = ready.then(() => {}, (error) => {
      this.#lost(worker, error);
      throw error;
    });
    return this.#ready;
  }

  /** The thread writing now, if any: fault tests end it as a crash would. */
  get thread(): Worker | undefined {
    return this.#worker;
  }

  async write(batch: HistoryBatch): Promise<BatchSummary> {
    if (this.#closed) throw new Error("History writer is closed");
    await this.start();
    const reply = await this.#send({ op: "write", batch });
    return reply.summary ?? { events: 0, sessions: [] };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const worker = this.#worker;
    if (!worker) return;
    try {
      await this.#send({ op: "close" });
    } finally {
      worker.terminate();
      this.#lost(worker, new Error("History writer is closed"));
    }
  }

  #send(request: WorkerOp): Promise<WorkerReply> {
    const worker = this.#worker;
    if (!worker) return Promise.reject(new Error("History worker is not running"));
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      this.#waiters.set(id, { resolve, reject });
      // The encoded part is handed over, not copied.
      const transfer = request.op === "write"
        ? [...new Set(request.batch.encoded?.map((b) => b.buffer as ArrayBuffer))]
        : [];
      worker.postMessage({ ...request, id }, transfer);
    });
  }

  /** Fails everything waiting on `worker`, which is dropped; the next write starts another. */
  #lost(worker: Worker, error: Error): void {
    if (this.#worker !== worker) return;
    void worker.terminate();
    this.#worker = undefined;
    this.#ready = undefined;
    for (const w of this.#waiters.values()) w.reject(error);
    this.#waiters.clear();
  }
}
