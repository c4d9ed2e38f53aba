import assert from "node:assert/strict";
import { createRuntime } from "../../mod.ts";
import { internals } from "../../actors/runtime.ts";

Deno.test("after SIGKILL under write load, every acknowledged event is in SQL exactly once and the KV outbox is empty", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const acked = new Map<string, number>();
    for (let round = 0; round < 3; round++) {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--unstable-kv",
          new URL("./_crash_child.ts", import.meta.url).pathname,
          dir,
        ],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      const killAfter = 200 + Math.floor(Math.random() * 600); // acks, a random moment
      let seen = 0;
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      outer: while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const m = /^ack (\S+) (\d+)$/.exec(line);
          if (!m) continue;
          acked.set(m[1], Math.max(acked.get(m[1]) ?? 0, Number(m[2])));
          if (++seen >= killAfter) {
            child.kill("SIGKILL");
            break outer;
          }
        }
      }
      await reader.cancel().catch(() => {});
      const status = await child.status;
      assert.equal(status.signal, "SIGKILL");
    }

    const rt = await createRuntime({ dataDir: dir, tickMs: 0 });
    try {
      for (const [id, version] of acked) {
        const s = await rt.get(id);
        assert.ok(s.version >= version, `${id}: acked ${version}, found ${s.version}`);
        const events = await rt.events(id, { limit: 100_000 });
        assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), `${id}: seq 1..n`);
        assert.equal(events.length, s.version);
      }
      const left = [];
      for await (const e of internals(rt).stores.kv.list({ prefix: ["o"] })) left.push(e.key);
      assert.deepEqual(left, []);
    } finally {
      await rt.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
