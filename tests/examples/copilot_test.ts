import assert from "node:assert/strict";
import { runExample } from "./_run.ts";

Deno.test("examples/copilot.ts: eight questions get eight answers in order, and the condensed view keeps the last four", async () => {
  const ran = await runExample("copilot.ts");
  assert.equal(ran.code, 0, ran.stderr);
  const lines = ran.stdout.trimEnd().split("\n");
  assert.match(lines[0], /^session \S+: Copilot: orders migration$/);
  const chat = lines.slice(1, 17);
  chat.forEach((line, i) => assert.match(line, i % 2 === 0 ? /^user: / : /^copilot: \(\d\) /));
  assert.deepEqual(
    chat.filter((_, i) => i % 2 === 1).map((l) => l.match(/^copilot: \((\d)\)/)?.[1]),
    ["1", "2", "3", "4", "5", "6", "7", "8"],
  );
  assert.deepEqual(lines.slice(17, 19), ["messages: 16", "condensed=4: 12 omitted, then:"]);
  assert.deepEqual(lines.slice(19, 23), [
    `  user: ${chat[12].slice("user: ".length)}`,
    `  assistant: ${chat[13].slice("copilot: ".length)}`,
    `  user: ${chat[14].slice("user: ".length)}`,
    `  assistant: ${chat[15].slice("copilot: ".length)}`,
  ]);
  assert.deepEqual(lines.slice(23), [
    "search 'downtime': found",
    `state: {"turns":8}, session paused`,
  ]);
});
