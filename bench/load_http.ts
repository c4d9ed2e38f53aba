/**
 * HTTP probes against a server on a prebuilt data directory (see
 * probe_dataset.ts): how long until `/healthz` answers 200, the first command
 * on cold sessions against the same command on a hot one, and the p50 of
 * listing and full-text search.
 *
 *   deno run -A bench/load_http.ts --url URL --prefix d --sessions N
 *     [--cold 20] [--queries 50] [--offset 0]
 *
 * Prints `{coldMs: [...], warmMs: [...], listMs: [...], searchMs: [...], hits}`.
 *
 * @module
 */
import { emit, flags, num } from "./_args.ts";
import { WORDS } from "./probe_dataset.ts";

const f = flags();
const url = f.get("url")!;
const prefix = f.get("prefix") ?? "d";
const sessions = num(f, "sessions", 100_000);
const cold = num(f, "cold", 20);
const queries = num(f, "queries", 50);
const offset = num(f, "offset", 0);

async function timed(path: string, init?: RequestInit): Promise<{ ms: number; body: unknown }> {
  const t = performance.now();
  const res = await fetch(`${url}${path}`, init);
  const body = await res.json();
  const ms = performance.now() - t;
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
  return { ms, body };
}

const patch = (id: string, n: number) =>
  timed(`/v1/sessions/${id}/state`, {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([{ op: "replace", path: "/n", value: n }]),
  });

// Cold: sessions spread over the data set, never touched since the server started.
const coldMs: number[] = [];
const warmMs: number[] = [];
const stride = Math.floor(sessions / (cold + 1));
for (let k = 0; k < cold; k++) {
  const id = `${prefix}-${(offset + (k + 1) * stride) % sessions}`;
  coldMs.push((await patch(id, 1)).ms);
  warmMs.push((await patch(id, 2)).ms);
}

const listMs: number[] = [];
const searchMs: number[] = [];
let hits = 0;
for (let q = 0; q < queries; q++) {
  listMs.push((await timed(`/v1/sessions?limit=50`)).ms);
  const word = WORDS[q % WORDS.length];
  const s = await timed(`/v1/sessions?q=${word}&limit=50`);
  searchMs.push(s.ms);
  hits += (s.body as { items: unknown[] }).items.length;
}
if (queries > 0 && hits === 0) throw new Error("search found nothing");
emit({ coldMs, warmMs, listMs, searchMs, hits });
