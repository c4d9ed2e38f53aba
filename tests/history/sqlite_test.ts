import { openHistory } from "../../src/history/open_history.ts";
import { historyConformance } from "./history_conformance.ts";

historyConformance("sqlite :memory:", () => openHistory({ path: ":memory:" }));

historyConformance("sqlite file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denizen-history-" });
  const store = await openHistory({ path: `${dir}/history.sqlite3` });
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await Deno.remove(dir, { recursive: true });
  };
  return store;
});
