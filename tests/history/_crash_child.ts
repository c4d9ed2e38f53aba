/**
 * Child process of the crash test: writes to three sessions as fast as it can
 * and prints `ack <session> <version>` after every acknowledged command.
 * The parent kills it with SIGKILL.
 */
import { createRuntime } from "../../mod.ts";

const dir = Deno.args[0];
const rt = await createRuntime({ dataDir: dir, tickMs: 0 });
const encoder = new TextEncoder();
const out = Deno.stdout;
const ids = ["crash-a", "crash-b", "crash-c"];
for (const id of ids) {
  try {
    await rt.create("default", { id, state: { n: 0 } });
  } catch { /* exists after a restart */ }
}
await out.write(encoder.encode("ready\n"));
let i = 0;
const writer = async (id: string) => {
  while (true) {
    const big = i % 17 === 0 ? "x".repeat(70_000) : "small"; // some entries spill to blobs
    const n = i++;
    const ack = n % 3 === 0
      ? await rt.addMessage(id, { role: "user", content: `${big}-${n}` })
      : await rt.patch(id, [{ op: "replace", path: "/n", value: n }]);
    await out.write(encoder.encode(`ack ${id} ${ack.version}\n`));
  }
};
await Promise.all(ids.flatMap((id) => [writer(id), writer(id)]));
