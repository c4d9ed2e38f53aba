import assert from "node:assert/strict";
import fc from "fast-check";
import { mayHoldSpilled, SPILLED_MARK } from "../../src/hot/outbox.ts";

Deno.test("an outbox value is seen to hold a spilled entry exactly when its text holds the mark", () => {
  const utf8 = new TextEncoder();
  // Text made of the mark's own pieces, so that near misses ("{"blo", "b":", "{{"blob"") are common.
  const piece = fc.constantFrom('{"', "blob", '":', "b", "{", '"', "é", "x", SPILLED_MARK);
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
      const text = pieces.join("");
      assert.equal(mayHoldSpilled(utf8.encode(text)), text.includes(SPILLED_MARK), text);
    }),
    { numRuns: 2000 },
  );
  assert.equal(mayHoldSpilled(utf8.encode(`[{"events":[]},${SPILLED_MARK}"k"}]`)), true);
  assert.equal(mayHoldSpilled(utf8.encode(`[{"events":[{"data":{"blo":1}}]}]`)), false);
});
