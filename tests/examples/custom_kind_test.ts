import assert from "node:assert/strict";
import { runExample } from "./_run.ts";

Deno.test("examples/custom_kind.ts: typed actions, a cancelled timer, and one the scheduler fires", async () => {
  const ran = await runExample("custom_kind.ts");
  assert.equal(ran.code, 0, ran.stderr);
  const lines = ran.stdout.trimEnd().split("\n");
  assert.match(lines[0], /^ticket \S+: Invoice shows the wrong VAT \(open\)$/);
  assert.deepEqual(lines.slice(1, 3), [
    "note added: 1 note(s)",
    "an empty note is refused: invalid",
  ]);
  assert.match(lines[3], /^waiting for the customer, follow-up timer \S+$/);
  assert.equal(lines[4], "customer replied: 0 timer(s) pending");
  assert.match(lines[5], /^waiting again, follow-up timer \S+ due in 200ms$/);
  const fired = lines[6].match(
    /^escalated by the scheduler after (\d+) ms: no reply within 200ms$/,
  );
  assert.ok(fired, lines[6]);
  assert.ok(Number(fired[1]) >= 200, `fired early, after ${fired[1]} ms`);
  assert.deepEqual(lines.slice(7), [
    "ticket escalated, phase escalated, notes: Asked for the invoice number; customer: It's INV-2041",
    "timer events: timer.scheduled, timer.cancelled, timer.scheduled, timer.fired",
  ]);
});
