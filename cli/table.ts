/**
 * Plain-text tables for the terminal: padded columns, one header row.
 *
 * @module
 */

/**
 * Lays out `rows` under `headers`, each column as wide as its widest cell
 * (capped at `maxWidth`, longer cells end in `…`).
 *
 * @example
 * ```ts
 * console.log(formatTable(["ID", "STATUS"], [["s1", "active"]]));
 * // ID  STATUS
 * // s1  active
 * ```
 */
export function formatTable(headers: string[], rows: string[][], maxWidth = 40): string {
  const cut = (cell: string) => (cell.length > maxWidth ? cell.slice(0, maxWidth - 1) + "…" : cell);
  const all = [headers, ...rows].map((row) => row.map((cell) => cut(cell.replace(/\s+/g, " "))));
  const widths = headers.map((_, i) => Math.max(...all.map((row) => row[i]?.length ?? 0)));
  return all
    .map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd())
    .join("\n");
}
