/**
 * The approvals inbox at scale (figure 14). Two modes:
 *
 * `--build --dir DIR --approvals N` builds a data directory in-process, as
 * probe_dataset.ts builds its sessions: `N / --per` sessions (`<prefix>-<i>`)
 * with `--per` pending approvals each (default 10), whose deadlines are
 * scattered over a month that starts 30 days from now, so the inbox's order
 * (oldest deadline first) interleaves the sessions. Prints `{sessions,
 * approvals, ms}`.
 *
 * `--url URL --approvals N` times `GET /v1/approvals?status=pending&limit=50`
 * against a server on such a directory, `--queries` times each: the first
 * page, and the page that starts halfway down the inbox, reached by walking
 * the cursors with `limit=500` as a client would. Prints `{firstMs: [...],
 * deepMs: [...], deepAt, items}` (`deepAt`: approvals before the deep page).
 *
 *   deno run -A bench/probe_inbox.ts --build --dir DIR [--approvals 100000] [--per 10]
 *   deno run -A bench/probe_inbox.ts --url URL [--approvals 100000] [--queries 50]
 *
 * @module
 */
import { createRuntime } from "../mod.ts";
import { emit, flags, num } from "./_args.ts";

const f = flags();
const approvals = num(f, "approvals", 100_000);

async function build(dir: string): Promise<void> {
  const per = num(f, "per", 10);
  const prefix = f.get("prefix") ?? "ap";
  const started = performance.now();
  const rt = await createRuntime({ dataDir: dir, tickMs: 0, maxActors: 2_000 });
  const sessions = Math.ceil(approvals / per);
  const start = Date.now() + 30 * 86_400_000;
  const month = 30 * 86_400_000;
  // A scatter of deadlines: approval k's is a stride of a prime through the month.
  const deadline = (k: number) => new Date(start + ((k * 7919) % approvals) * (month / approvals));
  const one = async (s: number) => {
    const id = `${prefix}-${s}`;
    await rt.create("default", { id, name: `review ${s}`, state: { n: 0 } });
    const ks = Array.from({ length: Math.min(per, approvals - s * per) }, (_, j) => s * per + j);
    await Promise.all(ks.map((k) =>
      rt.requestApproval(id, {
        id: `q${k}`,
        prompt: `Approve step ${k} of review ${s}?`,
        deadline: deadline(k).toISOString(),
        data: { step: k },
      })
    ));
  };
  const batch = 256;
  for (let s = 0; s < sessions; s += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, sessions - s) }, (_, k) => one(s + k)));
  }
  await rt.flush();
  await rt.close();
  emit({ sessions, approvals, ms: performance.now() - started });
}

interface Page {
  items: unknown[];
  nextCursor?: string;
}

async function probe(url: string): Promise<void> {
  const queries = num(f, "queries", 50);
  const get = async (query: string): Promise<{ ms: number; page: Page }> => {
    const t = performance.now();
    const res = await fetch(`${url}/v1/approvals?status=pending&${query}`);
    const page = await res.json() as Page;
    const ms = performance.now() - t;
    if (!res.ok) throw new Error(`/v1/approvals?${query}: ${res.status} ${JSON.stringify(page)}`);
    return { ms, page };
  };
  // The first page, once untimed: the first query of a fresh server also compiles its statement.
  const { page: first } = await get("limit=50");
  if (first.items.length !== Math.min(50, approvals)) {
    throw new Error(`first page has ${first.items.length} items, ${approvals} expected pending`);
  }
  const firstMs: number[] = [];
  for (let q = 0; q < queries; q++) firstMs.push((await get("limit=50")).ms);

  let cursor: string | undefined;
  let deepAt = 0;
  while (deepAt < approvals / 2) {
    const { page } = await get(`limit=500${cursor ? `&cursor=${cursor}` : ""}`);
    deepAt += page.items.length;
    cursor = page.nextCursor;
    if (cursor === undefined) throw new Error(`the inbox ended after ${deepAt} approvals`);
  }
  const deepMs: number[] = [];
  let items = 0;
  for (let q = 0; q < queries; q++) {
    const { ms, page } = await get(`limit=50&cursor=${cursor}`);
    deepMs.push(ms);
    items = page.items.length;
  }
  if (items !== 50) throw new Error(`the deep page has ${items} items`);
  emit({ firstMs, deepMs, deepAt, items });
}

if (f.has("build")) await build(f.get("dir")!);
else await probe(f.get("url")!);
