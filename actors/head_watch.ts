/**
 * Live events across instances (SPEC §8): an actor with subscribers watches
 * its session's head (`HotTier.watchHead`). When another instance commits,
 * the actor reloads and hands its subscribers the events it missed, read
 * from the KV outbox or, once drained, from SQL.
 *
 * @module
 */
import type { HistoryStore } from "../src/history/history_store.ts";
import type { HotTier } from "../src/hot/hot_tier.ts";
import type { SessionEvent } from "../src/session.ts";

/** Events of `id` with seq in (after, upTo], from the outbox first, then from SQL. */
export async function missedEvents(
  hot: HotTier,
  history: HistoryStore,
  id: string,
  after: number,
  upTo: number,
): Promise<SessionEvent[]> {
  const found = new Map<number, SessionEvent>();
  for (const ev of await hot.outboxEvents(id, after, upTo)) found.set(ev.seq, ev);
  if (found.size < upTo - after) {
    for (const ev of await history.events(id, { after, limit: upTo - after })) {
      if (ev.seq <= upTo) found.set(ev.seq, ev);
    }
  }
  return [...found.values()].sort((a, b) => a.seq - b.seq);
}
