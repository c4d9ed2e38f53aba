/**
 * The benchmark's figures and how they print: one row per figure with its
 * target, measured median, baseline, ratio and verdict.
 *
 * @module
 */

/** One figure of the benchmark. */
export interface Figure {
  id: string;
  name: string;
  /** The target as text, e.g. `>= 20,000/s and >= 4x (a)`. */
  target: string;
  unit: string;
  /** Median over repetitions; NaN when it could not be measured. */
  value: number;
  baseline: number;
  baselineLabel: string;
  /** `value / baseline` when that ratio means something. */
  ratio?: number;
  /** Whether the target is met; undefined when not measured. */
  met?: boolean;
  /** Every repetition's value. */
  runs: number[];
}

function fmt(x: number | undefined, unit = ""): string {
  if (x === undefined || !Number.isFinite(x)) return "n/a";
  const digits = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2;
  return `${x.toLocaleString("en-US", { maximumFractionDigits: digits })}${unit ? ` ${unit}` : ""}`;
}

/** Renders the figures as a fixed-width table. */
export function table(figures: readonly Figure[]): string {
  const rows = [["#", "figure", "target", "median", "baseline", "ratio", "met"]];
  for (const f of figures) {
    rows.push([
      f.id,
      f.name,
      f.target,
      fmt(f.value, f.unit),
      `${fmt(f.baseline, f.unit)} (${f.baselineLabel})`,
      f.ratio === undefined ? "" : `${fmt(f.ratio)}x`,
      f.met === undefined ? "n/a" : f.met ? "met" : "NOT MET",
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd();
  return [line(rows[0]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)]
    .join("\n");
}
