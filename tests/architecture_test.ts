/** The folders form layers: no import cycle between them, and docs/architecture.md draws them as they are. */
import assert from "node:assert/strict";
import { folderCycles, folderEdges, mermaid, moduleGraph } from "./_layers.ts";

const graph = await moduleGraph();
const edges = folderEdges(graph);

Deno.test("no import cycle between folders", () => {
  assert.deepEqual(folderCycles(edges), []);
});

Deno.test("src/ imports neither actors/, routes/, cli/ nor mod.ts; actors/ imports neither routes/ nor cli/", () => {
  const above: Record<string, RegExp> = {
    src: /^(actors|routes|cli)\/|^[^/]+\.ts$/,
    actors: /^(routes|cli)\/|^[^/]+\.ts$/,
    routes: /^cli\/|^mod\.ts$/,
  };
  const wrong: string[] = [];
  for (const [from, deps] of graph) {
    const layer = from.split("/")[0];
    const rule = above[layer];
    if (!rule) continue;
    for (const to of deps) if (rule.test(to)) wrong.push(`${from} -> ${to}`);
  }
  assert.deepEqual(wrong, []);
});

Deno.test("every module of src/, actors/, routes/ and cli/ is reached from an entry point", async () => {
  const unreached: string[] = [];
  for (const dir of ["src", "actors", "routes", "cli"]) {
    for await (const path of walk(dir)) if (!graph.has(path)) unreached.push(path);
  }
  assert.deepEqual(unreached, []);
});

Deno.test("docs/architecture.md holds the folder graph as the imports make it (deno task layers)", async () => {
  const doc = await Deno.readTextFile(new URL("../docs/architecture.md", import.meta.url));
  assert.ok(
    doc.includes(mermaid(edges)),
    `docs/architecture.md's graph is stale; paste in what \`deno task layers\` prints:\n${
      mermaid(edges)
    }`,
  );
});

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(new URL(`../${dir}`, import.meta.url))) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) yield* walk(path);
    else if (path.endsWith(".ts")) yield path;
  }
}
