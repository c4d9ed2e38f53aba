/**
 * The import graph between Denizen's folders, from `deno info --json` (so
 * type-only imports count too). `deno task layers` prints it as the Mermaid
 * graph that docs/architecture.md holds; `tests/architecture_test.ts` checks
 * that the graph has no cycle, keeps the layers' order, and matches the doc.
 *
 * @module
 */

/** The entry points whose graphs together cover the product. */
export const ROOTS = [
  "mod.ts",
  "client.ts",
  "cli/serve.ts",
  "cli/sessions.ts",
  "src/history/history_worker.ts", // a worker's entry: `new Worker(url)` is no import
];

/** Folders of the product, for the graph; tests, bench, soak and examples are its users. */
const PRODUCT = /^(src|actors|routes|cli)(\/|$)|^[^/]+\.ts$/;

const root = new URL("../", import.meta.url);

/** Repo-relative paths of the local modules the roots reach, with each module's local imports. */
export async function moduleGraph(): Promise<Map<string, Set<string>>> {
  const graph = new Map<string, Set<string>>();
  for (const entry of ROOTS) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: {
        specifier: string;
        dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
      }[];
    };
    for (const m of info.modules) {
      const from = local(m.specifier);
      if (from === undefined) continue;
      const deps = graph.get(from) ?? new Set<string>();
      graph.set(from, deps);
      for (const d of m.dependencies ?? []) {
        for (const target of [d.code?.specifier, d.type?.specifier]) {
          const to = target === undefined ? undefined : local(target);
          if (to !== undefined) deps.add(to);
        }
      }
    }
  }
  return graph;
}

/** A file URL under the repo as a repo-relative path; undefined for anything else. */
function local(specifier: string): string | undefined {
  if (!specifier.startsWith(root.href)) return undefined;
  const path = specifier.slice(root.href.length);
  return PRODUCT.test(path) ? path : undefined;
}

/** The folder of a repo-relative path: `.` for the root's files. */
export function folderOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i === -1 ? "." : path.slice(0, i);
}

/** Edges between folders, as `from --> to`, sorted. */
export function folderEdges(graph: Map<string, Set<string>>): string[] {
  const edges = new Set<string>();
  for (const [from, deps] of graph) {
    for (const to of deps) {
      const a = folderOf(from);
      const b = folderOf(to);
      if (a !== b) edges.add(`${a} --> ${b}`);
    }
  }
  return [...edges].sort();
}

/** The cycles among folders: each strongly connected component of more than one folder. */
export function folderCycles(edges: readonly string[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    const [a, b] = e.split(" --> ");
    next.set(a, [...next.get(a) ?? [], b]);
    if (!next.has(b)) next.set(b, []);
  }
  // Tarjan's algorithm.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of next.get(v)!) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of next.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** The folder graph as the Mermaid block docs/architecture.md holds. */
export function mermaid(edges: readonly string[]): string {
  const id = (folder: string) => folder === "." ? "root" : folder.replaceAll("/", "_");
  const pairs = edges.map((e) => e.split(" --> "));
  const folders = [...new Set(pairs.flat())].sort();
  return [
    "```mermaid",
    "graph TD",
    ...folders.map((f) => `  ${id(f)}["${f === "." ? "mod.ts, types.ts, client.ts" : `${f}/`}"]`),
    ...pairs.map(([a, b]) => `  ${id(a)} --> ${id(b)}`),
    "```",
  ].join("\n");
}

if (import.meta.main) {
  const edges = folderEdges(await moduleGraph());
  console.log(mermaid(edges));
  const cycles = folderCycles(edges);
  console.log(
    cycles.length === 0 ? "no cycle between folders" : `cycles: ${JSON.stringify(cycles)}`,
  );
  if (cycles.length > 0) Deno.exit(1);
}
