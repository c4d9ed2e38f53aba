import assert from "node:assert/strict";
import { timeLeft } from "../../cli/time_left.ts";

const NOW = Date.parse("2026-01-01T00:00:00Z");
const at = (ms: number) => new Date(NOW + ms).toISOString();

Deno.test("timeLeft() gives the two largest units ahead, and 'overdue' once passed", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [999, "0s"],
    [45_000, "45s"],
    [30 * 60_000, "30m"],
    [29 * 60_000 + 58_000, "29m 58s"],
    [2 * 3_600_000 + 5 * 60_000 + 7_000, "2h 5m"],
    [86_400_000 + 4 * 3_600_000, "1d 4h"],
    [3 * 86_400_000 + 59_000, "3d"],
    [-3 * 60_000 - 2_000, "overdue 3m 2s"],
    [-3_600_000, "overdue 1h"],
  ];
  for (const [ms, text] of cases) assert.equal(timeLeft(at(ms), NOW), text, `${ms} ms`);
  assert.equal(timeLeft("not a time", NOW), "-");
});
