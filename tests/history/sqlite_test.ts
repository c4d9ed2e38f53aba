import { openHistory } from "../../src/history/open_history.ts";
import { historyConformance } from "./history_conformance.ts";

historyConformance("sqlite :memory:", () => openHistory({ path: ":memory:" }));

for (const worker of [false, true]) {
  historyConformance(`sqlite file${worker ? ", writes from a worker" : ""}`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "denizen-history-" });
    const store = await openHistory({ path: `${dir}/history.sqlite3`, worker });
    const close = store.close.bind(store);
    store.close = async () => {
      await close();
      await Deno.remove(dir, { recursive: true });
    };
    return store;
  });
}
