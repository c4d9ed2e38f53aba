/**
 * Builds a data directory holding `--sessions` sessions, in-process and in
 * concurrent batches so group commit packs them. Each has a name, tags and
 * meta drawn from a small vocabulary; every tenth also gets three messages,
 * so full-text search has conversation text. Sessions are `<prefix>-<i>`.
 *
 *   deno run -A bench/probe_dataset.ts --dir DIR [--sessions 100000] [--prefix d]
 *
 * Prints `{sessions, messages, ms}`.
 *
 * @module
 */
import { createRuntime } from "../mod.ts";
import { emit, flags, num } from "./_args.ts";

/** Words of names, tags, meta and messages; search queries pick from them. */
export const WORDS = [
  "acme",
  "orbit",
  "quartz",
  "harbor",
  "lumen",
  "cobalt",
  "vertex",
  "nimbus",
  "ember",
  "falcon",
  "granite",
  "helix",
  "indigo",
  "juniper",
  "kepler",
  "lattice",
  "meadow",
  "nova",
  "onyx",
  "prism",
];

if (import.meta.main) {
  const f = flags();
  const dir = f.get("dir")!;
  const n = num(f, "sessions", 100_000);
  const prefix = f.get("prefix") ?? "d";
  const started = performance.now();
  const rt = await createRuntime({ dataDir: dir, tickMs: 0, maxActors: 2_000 });
  const w = (i: number) => WORDS[i % WORDS.length];
  let messages = 0;
  const one = async (i: number) => {
    const id = `${prefix}-${i}`;
    await rt.create("default", {
      id,
      name: `${w(i)} ${w(i >> 3)} research ${i}`,
      tags: [w(i >> 1), w(i >> 5)],
      meta: { project: w(i >> 2), owner: `user${i % 97}` },
      state: { n: 0, query: `${w(i)} ${w(i * 7)}` },
    });
    if (i % 10 !== 0) return;
    for (let m = 0; m < 3; m++) {
      await rt.addMessage(id, {
        role: m % 2 ? "assistant" : "user",
        content: `About ${w(i + m)} and ${w(i * 3 + m)}: findings ${i}-${m} on the ${w(m)} market`,
      });
      messages++;
    }
  };
  const batch = 512;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, k) => one(i + k)));
  }
  await rt.flush();
  await rt.close();
  emit({ sessions: n, messages, ms: performance.now() - started });
}
