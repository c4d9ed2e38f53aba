/**
 * The welcome of a new connection: with `?since=N`, replay history from
 * N+1 when it still holds it; otherwise send the snapshot, with the
 * session's coordination records (SPEC §9) when it has any.
 *
 * The caller subscribes before calling and holds live events while this
 * runs. The replay stops just before the first held event, or at the
 * session's version when none is held, so the seam between replayed and
 * live events has neither a gap nor a duplicate.
 *
 * @module
 */
import { type Coordination, RECORD_TYPES } from "../src/coordination/model.ts";
import { UnavailableError } from "../src/errors.ts";
import type { Runtime } from "../actors/runtime.ts";
import type { SessionEvent } from "../src/session.ts";
import type { WelcomeFrame } from "./ws_frames.ts";

/** Options of {@linkcode replay}. */
export interface ReplayOptions {
  /** The connection's id, for the welcome. */
  conn: string;
  session: string;
  /** Last seq the client has; undefined asks for the snapshot. */
  since?: number;
  /** Further behind than this gets the snapshot. */
  maxReplay: number;
  /** Events read from history at a time. */
  page: number;
  /** Sends one replayed event. */
  send(e: SessionEvent): void;
  /** Resolves when the connection's queue has room for another page. */
  drained(): Promise<void>;
  /** Live events held so far, ascending. */
  live(): readonly SessionEvent[];
}

/**
 * Replays what it can and returns the welcome frame to send next.
 *
 * @example
 * ```ts
 * import { createRuntime } from "../mod.ts";
 * import { replay } from "./ws_replay.ts";
 * const rt = await createRuntime({ memory: true, tickMs: 0 });
 * const s = await rt.create("default", { state: {} });
 * await rt.patch(s.id, [{ op: "add", path: "/a", value: 1 }]);
 * const welcome = await replay(rt, {
 *   conn: "c1",
 *   session: s.id,
 *   since: 1,
 *   maxReplay: 100,
 *   page: 50,
 *   send: (e) => console.log(e.seq), // 2
 *   drained: () => Promise.resolve(),
 *   live: () => [],
 * });
 * console.log(welcome.replayed); // 1
 * await rt.close();
 * ```
 */
export async function replay(rt: Runtime, opts: ReplayOptions): Promise<WelcomeFrame> {
  const session = await rt.get(opts.session);
  const since = opts.since;
  if (
    since !== undefined && since <= session.version && session.version - since <= opts.maxReplay
  ) {
    const last = await sendHistory(rt, opts, since, session.version);
    if (last !== undefined) {
      const { state: _state, ...meta } = session;
      return { t: "welcome", conn: opts.conn, session: meta, seq: last, replayed: last - since };
    }
  }
  // Read after the session, the records are at least as new as its version: the events after
  // the welcome's seq then bring a mirror to where the records are, never past a change unseen.
  const coordination = await rt.coordination(opts.session);
  const welcome: WelcomeFrame = { t: "welcome", conn: opts.conn, session, seq: session.version };
  return hasRecords(coordination) ? { ...welcome, coordination } : welcome;
}

/** True when the session has any timer, approval, task or conflict. */
function hasRecords(c: Coordination): boolean {
  return RECORD_TYPES.some((type) => Object.keys(c[type]).length > 0);
}

/** Sends history after `since`; the last seq sent, or undefined when history no longer holds `since + 1`. */
async function sendHistory(
  rt: Runtime,
  opts: ReplayOptions,
  since: number,
  version: number,
): Promise<number | undefined> {
  let last = since;
  for (;;) {
    const held = opts.live().find((e) => e.seq > last);
    const target = held ? held.seq - 1 : version;
    if (last >= target) return last;
    const limit = Math.min(opts.page, target - last);
    const page = await rt.events(opts.session, { after: last, limit });
    if (page[0]?.seq !== last + 1) {
      if (last === since) return undefined;
      throw new UnavailableError(`History of session '${opts.session}' has a gap after ${last}`);
    }
    for (const e of page) {
      if (e.seq !== last + 1) {
        throw new UnavailableError(`History of session '${opts.session}' has a gap after ${last}`);
      }
      opts.send(e);
      last = e.seq;
    }
    await opts.drained();
  }
}
