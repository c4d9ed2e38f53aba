/**
 * An import writes only events: the history store materializes messages,
 * results and checkpoints from them. So before anything is written, the
 * rows an archive lists must be the rows its events give, or the imported
 * session would differ from the archive it came from.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";
import type { Checkpoint, Message, ResultRow } from "../history/history_store.ts";
import type { SessionEvent } from "../session.ts";
import { canonicalJson } from "./_canonical_json.ts";
import type { ArchiveContents } from "./archive_format.ts";
import { checkpointSchema, parseArchiveValue } from "./archive_schema.ts";

/**
 * Fields of a checkpoint that came with coordination. A store that does not
 * keep them (and every archive of format 1) lists checkpoints without them.
 */
const LATER_FIELDS = ["coordination", "agents", "phase"] as const;

/**
 * Throws a 400 unless `messages.jsonl` and `results.jsonl` are exactly the
 * rows of the `message` and `result` events, `checkpoints.jsonl` holds
 * rows of `checkpoint` events only (the store keeps the newest ones, so an
 * archive may hold fewer; a row may leave out the coordination, agents and
 * phase of its event, as stores that did not keep them wrote it), and every
 * blob is named by a result.
 *
 * Every checkpoint an event gives must also pass the checkpoint schema,
 * listed or not: the store materializes each of them, and a restore puts
 * its state, coordination and agents back into the session.
 *
 * @example
 * ```ts
 * const contents = await readArchive(body);
 * checkDerivedRows(contents);
 * ```
 */
export function checkDerivedRows(contents: ArchiveContents): void {
  const derived = _derive(contents.events);
  _sameRows("messages.jsonl", "message", contents.messages, derived.messages);
  _sameRows("results.jsonl", "result", contents.results, derived.results);
  const checkpoints = new Map(
    derived.checkpoints.map((c) => [
      c.seq,
      parseArchiveValue(checkpointSchema, c, `events.jsonl checkpoint event ${c.seq}`),
    ]),
  );
  for (const c of contents.checkpoints) {
    const event = checkpoints.get(c.seq);
    if (event === undefined || canonicalJson(_withFieldsOf(c, event)) !== canonicalJson(c)) {
      throw new ValidationError(
        `Archive checkpoints.jsonl row at seq ${c.seq} does not match a checkpoint event`,
      );
    }
  }
  const named = new Set(contents.results.flatMap((r) => (r.blob === undefined ? [] : [r.blob])));
  for (const name of contents.blobs.keys()) {
    if (!named.has(name)) {
      throw new ValidationError(`Archive blob '${name}' is not named by any result`);
    }
  }
}

function _sameRows(
  file: string,
  type: string,
  listed: readonly { seq: number }[],
  derived: readonly { seq: number }[],
): void {
  const n = Math.max(listed.length, derived.length);
  for (let i = 0; i < n; i++) {
    const a = listed[i];
    const b = derived[i];
    if (a === undefined || b === undefined || canonicalJson(a) !== canonicalJson(b)) {
      const seq = Math.min(a?.seq ?? Infinity, b?.seq ?? Infinity);
      throw new ValidationError(
        `Archive ${file} does not match the ${type} events of events.jsonl at seq ${seq}`,
      );
    }
  }
}

/** Rows as the history store gives them back after materializing `events`. */
function _derive(events: readonly SessionEvent[]) {
  const messages: Message[] = [];
  const results: ResultRow[] = [];
  const checkpoints: Checkpoint[] = [];
  for (const e of events) {
    if (e.data === null || typeof e.data !== "object") continue;
    const d = e.data as Record<string, unknown>;
    const { seq, at } = e;
    if (e.type === "message") {
      messages.push(_defined<Message>({
        id: String(d.id ?? seq),
        seq,
        role: String(d.role ?? ""),
        content: String(d.content ?? ""),
        meta: (d.meta ?? undefined) as Message["meta"],
        agent: e.agent,
        at,
      }));
    } else if (e.type === "result") {
      const blob = _string(d.blob);
      results.push(_defined<ResultRow>({
        seq,
        agent: _string(d.agent) ?? e.agent,
        key: String(d.key ?? ""),
        partial: d.partial === true,
        data: blob === undefined ? d.data ?? null : d.data ?? undefined,
        blob,
        bytes: Number(d.bytes ?? 0),
        at,
      }));
    } else if (e.type === "checkpoint") {
      checkpoints.push(_defined<Checkpoint>({
        id: String(d.id ?? seq),
        seq,
        version: Number(d.version ?? seq),
        label: _string(d.label),
        final: d.final === true,
        state: (d.state ?? {}) as Checkpoint["state"],
        coordination: (d.coordination ?? undefined) as Checkpoint["coordination"],
        agents: (d.agents ?? undefined) as Checkpoint["agents"],
        phase: (d.phase ?? undefined) as Checkpoint["phase"],
        at,
      }));
    }
  }
  return { messages, results, checkpoints };
}

/** `event` without the later fields that `listed` leaves out. */
function _withFieldsOf(listed: Checkpoint, event: Checkpoint): Checkpoint {
  const out = { ...event };
  for (const field of LATER_FIELDS) if (listed[field] === undefined) delete out[field];
  return out;
}

function _string(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** `row` without its undefined fields, as a row read back from SQL has them. */
function _defined<T extends object>(row: T): T {
  return Object.fromEntries(Object.entries(row).filter(([, v]) => v !== undefined)) as T;
}
