/**
 * Live events across instances (SPEC §8): an actor with subscribers watches
 * its session's head key. When another instance commits, the actor reloads
 * and hands its subscribers the events it missed, read from the KV outbox
 * or, once drained, from SQL.
 *
 * @module
 */
import type { HistoryStore } from "../src/history/history_store.ts";
import { type HotStore, keys } from "../src/hot/hot_store.ts";
import type { SessionEvent } from "../src/session.ts";

/** Calls `changed(versionstamp)` whenever the head key changes, until the returned stop is called. */
export function watchHead(
  kv: Deno.Kv,
  id: string,
  changed: (versionstamp: string | null) => void,
): () => void {
  const stream = kv.watch([keys.head(id)]);
  const reader = stream.getReader();
  let stopped = false;
  (async () => {
    try {
      while (!stopped) {
        const { value, done } = await reader.read();
        if (done) return;
        changed(value[0].versionstamp);
      }
    } catch {
      // KV closed: nothing more to watch
    }
  })();
  return () => {
    stopped = true;
    reader.cancel().catch(() => {});
  };
}

/** Events of `id` with seq in (after, upTo], from the outbox first, then from SQL. */
export async function missedEvents(
  hot: HotStore,
  history: HistoryStore,
  id: string,
  after: number,
  upTo: number,
): Promise<SessionEvent[]> {
  const found = new Map<number, SessionEvent>();
  // The outbox is shared by all sessions, but short: the drainer keeps it near empty.
  for await (const e of hot.kv.list<Uint8Array>({ prefix: keys.outboxAll })) {
    for (const entry of (await hot.outboxEntries(e.value)).entries) {
      if (entry.events[0]?.sessionId !== id) continue;
      for (const ev of entry.events) if (ev.seq > after && ev.seq <= upTo) found.set(ev.seq, ev);
    }
  }
  if (found.size < upTo - after) {
    for (const ev of await history.events(id, { after, limit: upTo - after })) {
      if (ev.seq <= upTo) found.set(ev.seq, ev);
    }
  }
  return [...found.values()].sort((a, b) => a.seq - b.seq);
}
