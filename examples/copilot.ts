/**
 * A copilot chat (seed 001): a person asks over HTTP, as a chat UI's
 * backend would; a copilot agent connected over WebSocket answers each
 * question as it arrives. A long conversation is read back condensed: the
 * last N messages and how many were left out (`GET …/messages?condensed=N`),
 * which is what a model's context window wants.
 *
 *     deno run -A examples/copilot.ts                        # its own in-memory server
 *     deno run -A examples/copilot.ts --url http://127.0.0.1:8000 --token $DENIZEN_TOKEN
 *
 * @module
 */
import { type ClientEvent, connect, type DenizenClient, type Session } from "../client.ts";
import { openPlace } from "./_place.ts";

/** The conversation: what the person asks, and what the copilot's "model" answers. */
const SCRIPT: [question: string, answer: string][] = [
  ["How do I rename a column in the orders table?", "Add the new column, copy, then drop the old."],
  ["Will that lock the table?", "Adding a nullable column does not; the copy runs in batches."],
  ["Can I do it without downtime?", "Yes: write to both columns until every reader has moved."],
  ["What about the indexes?", "Build the new index concurrently before you switch reads."],
  ["How do I roll it back?", "Switch reads back; the old column is intact until the drop."],
  ["Should the old name stay readable?", "Keep a view with the old name for old clients."],
  ["How long should I keep the view?", "One release cycle, then drop it with the old column."],
  ["Write the migration for me, please.", "Here it is: expand, backfill, switch, contract."],
];

/** The copilot's "model": the scripted answer, numbered by turn. */
function answer(question: string, turn: number): string {
  const line = SCRIPT.find(([q]) => q === question);
  return `(${turn}) ${line?.[1] ?? "I don't know yet."}`;
}

interface MessageData {
  id: string;
  role: string;
  content: string;
}

interface Message extends MessageData {
  seq: number;
  agent?: string;
}

const place = await openPlace(Deno.args);
const { http } = place;

const session = await http.post<Session>("/sessions", {
  name: "Copilot: orders migration",
  tags: ["copilot"],
  state: { turns: 0 },
});
console.log(`session ${session.id}: ${session.name}`);

// The copilot: answers every user message, keeping a turn count in the state.
const copilot = await connect(place.ws(session.id), { agent: "copilot", token: place.token });
copilot.on("event", (e) => void reply(copilot, e));
await copilot.agent({ status: "idle" });

// The person: asks, and waits for the answer on a watching connection.
const person = await connect(place.ws(session.id), { token: place.token });
for (const [content] of SCRIPT) {
  const answered = nextAnswer(person);
  await http.post(`/sessions/${session.id}/messages`, { role: "user", content });
  const a = await answered;
  console.log(`user: ${content}`);
  console.log(`copilot: ${a.content}`);
}

const all = await http.get<{ messages: Message[] }>(`/sessions/${session.id}/messages`);
const condensed = await http.get<{ omitted: number; messages: Message[] }>(
  `/sessions/${session.id}/messages?condensed=4`,
);
console.log(`messages: ${all.messages.length}`);
console.log(`condensed=4: ${condensed.omitted} omitted, then:`);
for (const m of condensed.messages) console.log(`  ${m.role}: ${m.content}`);

const found = await http.get<{ items: Session[] }>("/sessions?q=downtime&tag=copilot");
console.log(
  `search 'downtime': ${found.items.some((s) => s.id === session.id) ? "found" : "missing"}`,
);
const paused = await http.post<Session>(`/sessions/${session.id}/pause`);
console.log(`state: ${JSON.stringify(copilot.state)}, session ${paused.status}`);

await Promise.all([copilot.close(), person.close()]);
await place.close();

/** Answers a user's message: typing, the answer, idle, and one more turn in the state. */
async function reply(client: DenizenClient, e: ClientEvent): Promise<void> {
  const m = e.data as MessageData;
  if (e.type !== "message" || m.role !== "user") return;
  const turn = (client.state.turns as number) + 1;
  await client.agent({ status: "typing" });
  await client.patch([{ op: "replace", path: "/turns", value: turn }]);
  await client.message({ role: "assistant", content: answer(m.content, turn) });
  await client.agent({ status: "idle" });
}

/** The next assistant message the client sees. */
function nextAnswer(client: DenizenClient): Promise<MessageData> {
  return new Promise((resolve) => {
    const stop = client.on("event", (e) => {
      const m = e.data as MessageData;
      if (e.type !== "message" || m.role !== "assistant") return;
      stop();
      resolve(m);
    });
  });
}
