/**
 * The worker behind {@linkcode WorkerWriter}: opens its own connection to
 * the history database and writes each batch in one transaction.
 *
 * @module
 */
import type { BatchSummary, HistoryStore } from "./history_store.ts";
import { openHistory } from "./open_history.ts";
import type { WorkerReply, WorkerRequest } from "./worker_writer.ts";

/** The worker's global scope, as far as this file uses it (the checked lib is the window's). */
const scope = self as unknown as {
  onmessage: ((e: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(reply: WorkerReply): void;
};

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

scope.onmessage = async (e: MessageEvent<WorkerRequest>) => {
  const reply: WorkerReply = { id: e.data.id };
  try {
    const summary = await handle(e.data);
    if (summary) reply.summary = summary;
  } catch (error) {
    reply.error = error instanceof Error ? error.message : String(error);
  }
  scope.postMessage(reply);
};
