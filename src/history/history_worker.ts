/**
 * The worker behind {@linkcode WorkerWriter}: opens its own connection to
 * the history database and writes each batch in one transaction.
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import type { BatchSummary, HistoryStore } from "./history_store.ts";
import { openHistory } from "./open_history.ts";
import type { WorkerReply, WorkerRequest } from "./worker_writer.ts";

const port = parentPort!; // this module only runs as a worker
let store: HistoryStore | undefined;

async function handle(request: WorkerRequest): Promise<BatchSummary | undefined> {
  switch (request.op) {
    case "open":
      store = await openHistory(request.options);
      return undefined;
    case "write":
      if (!store) throw new Error("History worker has no open database");
      return await store.write(request.batch);
    case "close":
      await store?.close();
      store = undefined;
      return undefined;
  }
}

port.on("message", async (request: WorkerRequest) => {
  const reply: WorkerReply = { id: request.id };
  try {
    const summary = await handle(request);
    if (summary) reply.summary = summary;
  } catch (error) {
    reply.error = error instanceof Error ? error.message : String(error);
  }
  port.postMessage(reply);
});
