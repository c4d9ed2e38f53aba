/**
 * How sessions read in a terminal: a table for `list`, a summary for the
 * other commands, and key–value lines for `show`.
 *
 * @module
 */
import type { SessionSummary } from "../src/history/history_store.ts";
import type { Session } from "../src/session.ts";
import { formatTable } from "./table.ts";

/**
 * The `list` table: one row per session.
 *
 * @example
 * ```ts
 * console.log(sessionTable((await rt.list()).items));
 * ```
 */
export function sessionTable(items: readonly SessionSummary[]): string {
  return formatTable(
    ["ID", "KIND", "STATUS", "PHASE", "PROGRESS", "VERSION", "UPDATED", "NAME"],
    items.map((s) => [
      s.id,
      s.kind,
      s.status,
      s.phase,
      `${Math.round(s.progress * 100)}%`,
      String(s.version),
      s.updatedAt,
      s.name ?? "",
    ]),
  );
}

/**
 * `show`: every field on its own line, then the state as indented JSON.
 *
 * @example
 * ```ts
 * console.log(sessionDetails(await rt.get("s1")));
 * ```
 */
export function sessionDetails(s: Session): string {
  const lines: [string, string | undefined][] = [
    ["id", s.id],
    ["kind", s.kind],
    ["name", s.name],
    ["status", s.status],
    ["phase", s.phase],
    ["progress", `${Math.round(s.progress * 100)}%`],
    ["version", String(s.version)],
    ["tags", s.tags.length > 0 ? s.tags.join(", ") : undefined],
    ["created", s.createdAt],
    ["updated", s.updatedAt],
    ["completed", s.completedAt],
    ["expires", s.expiresAt],
    ["error", s.error],
    ["archive", s.archive],
    ["origin", s.origin && `${s.origin.session}@${s.origin.version}`],
  ];
  const out = lines.filter(([, v]) => v !== undefined).map(([k, v]) => `${k.padEnd(10)}${v}`);
  for (const [name, a] of Object.entries(s.agents)) {
    out.push(`${"agent".padEnd(10)}${name}: ${a.status} ${Math.round(a.progress * 100)}%`);
  }
  if (Object.keys(s.meta).length > 0) out.push(`meta\n${_indent(s.meta)}`);
  if (s.report !== undefined) out.push(`report\n${_indent(s.report)}`);
  out.push(`state\n${_indent(s.state)}`);
  return out.join("\n");
}

/**
 * One line saying where a session stands.
 *
 * @example
 * ```ts
 * sessionLine(s); // "Session 's1' is paused (version 7)"
 * ```
 */
export function sessionLine(s: Session): string {
  return `Session '${s.id}' is ${s.status} (version ${s.version})`;
}

function _indent(value: unknown): string {
  return JSON.stringify(value, null, 2).split("\n").map((l) => `  ${l}`).join("\n");
}
