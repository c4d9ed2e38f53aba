import assert from "node:assert/strict";
import { createRuntime } from "../../mod.ts";
import {
  api,
  freePort,
  ROOT,
  type Running,
  type ServerProcess,
  spawn,
  startServer,
  within,
} from "./_run.ts";

const PYTHON = "/usr/bin/python3";
const TOKEN = "python-agent-test";

/** Fails, never skips, when the system Python cannot import `websockets` (CI installs it). */
async function requirePythonWebsockets(): Promise<void> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(PYTHON, {
      args: ["-c", "import websockets"],
      stdout: "null",
      stderr: "piped",
    }).output();
  } catch (error) {
    throw new Error(`${PYTHON} is missing: apt-get install -y python3 python3-websockets`, {
      cause: error,
    });
  }
  if (!out.success) {
    throw new Error(
      `${PYTHON} cannot import websockets: apt-get install -y python3-websockets\n` +
        new TextDecoder().decode(out.stderr),
    );
  }
}

interface Task {
  id: string;
  status: string;
}
interface Event {
  seq: number;
  type: string;
  data: { task?: { id: string } };
}
interface Approval {
  id: string;
  status: string;
  option?: string;
  by?: string;
}

const PLAN = [
  { id: "t1", title: "Collect sources" },
  { id: "t2", title: "Read the filings", deps: ["t1"] },
  { id: "t3", title: "Read the news", deps: ["t1"] },
  { id: "t4", title: "Compare the accounts", deps: ["t2", "t3"] },
  { id: "t5", title: "Draft the summary", deps: ["t4"] },
];

Deno.test("examples/python/agent.py survives two server crashes: each task done once, results and messages once each, the approval decided over HTTP while it waits", async () => {
  await requirePythonWebsockets();
  const dataDir = await Deno.makeTempDir({ prefix: "denizen-py-agent-" });
  const port = freePort();
  let server: ServerProcess | undefined;
  let agent: Running | undefined;
  try {
    server = await startServer({ port, dataDir, token: TOKEN });
    const http = api(server.url, TOKEN);
    await http("POST", "/sessions", { id: "py-demo", name: "Python agent" });
    await http("POST", "/sessions/py-demo/tasks", { tasks: PLAN });
    const args = [`--url=${server.url}`, "--session=py-demo", "--agent=py-agent", "--work=0.2"];
    agent = spawn(PYTHON, ["examples/python/agent.py", ...args], {
      DENIZEN_TOKEN: TOKEN,
      PYTHONDONTWRITEBYTECODE: "1",
    });

    // A crash in the middle of the plan: the agent has commands in flight or about to be.
    await agent.stdout.waitFor(/^completed t2$/);
    await server.crash();
    server = await startServer({ port, dataDir, token: TOKEN });

    // A crash while it waits for the person; the decision may land before it is back.
    const [, aid] = await agent.stdout.waitFor(/^waiting for approval (\S+)$/);
    await server.crash();
    server = await startServer({ port, dataDir, token: TOKEN });
    const { approval } = await http<{ approval: Approval }>(
      "POST",
      `/sessions/py-demo/approvals/${aid}/decision`,
      { option: "approve", by: "alice" },
    );
    assert.equal(approval.status, "decided");

    const { code } = await within(agent.child.status, 30_000, "agent.py to finish");
    await Promise.all([agent.stdout.ended, agent.stderr.ended]);
    assert.equal(code, 0, `${agent.stdout.text}\n${agent.stderr.text}`);
    assert.match(agent.stdout.text, /^decision: approve by alice$/m);
    const [, done, reconnects] = await agent.stdout.waitFor(
      /^done: (\d+) tasks, (\d+) reconnects$/,
    );
    assert.equal(Number(done), PLAN.length);
    assert.ok(Number(reconnects) >= 2, `reconnects: ${reconnects}`);

    const { tasks } = await http<{ tasks: Task[] }>("GET", "/sessions/py-demo/tasks");
    assert.deepEqual(tasks.map((t) => `${t.id}:${t.status}`), PLAN.map((t) => `${t.id}:done`));
    const { events } = await http<{ events: Event[] }>(
      "GET",
      "/sessions/py-demo/events?after=0&limit=10000",
    );
    for (const type of ["task.claimed", "task.done"]) {
      const ids = events.filter((e) => e.type === type).map((e) => e.data.task?.id);
      assert.deepEqual(ids.sort(), PLAN.map((t) => t.id), `${type} once for each task`);
    }
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));

    const { results } = await http<{ results: { key: string; agent: string }[] }>(
      "GET",
      "/sessions/py-demo/results?limit=1000",
    );
    assert.deepEqual(
      results.map((r) => `${r.agent}/${r.key}`).sort(),
      [...PLAN.map((t) => `py-agent/${t.id}`), "py-agent/report"].sort(),
    );
    const { messages } = await http<{ messages: { content: string }[] }>(
      "GET",
      "/sessions/py-demo/messages?limit=1000",
    );
    assert.deepEqual(
      messages.map((m) => m.content).sort(),
      [
        "py-agent is on it",
        ...PLAN.map((t) => `py-agent finished ${t.id}: ${t.title}`),
        "Report published",
      ].sort(),
    );

    const { approvals } = await http<{ approvals: Approval[] }>(
      "GET",
      "/sessions/py-demo/approvals",
    );
    assert.deepEqual(approvals.map(({ id, status, option, by }) => ({ id, status, option, by })), [
      { id: aid, status: "decided", option: "approve", by: "alice" },
    ]);
    const session = await http<{ agents: Record<string, { status: string; progress: number }> }>(
      "GET",
      "/sessions/py-demo",
    );
    assert.deepEqual(session.agents["py-agent"]?.status, "done");
  } finally {
    if (agent) await stopped(agent);
    await server?.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

/** Kills a child that is still running and waits until it and its output are done. */
async function stopped(running: Running): Promise<void> {
  try {
    running.child.kill("SIGKILL");
  } catch { /* it has finished */ }
  await running.child.status;
  await Promise.all([running.stdout.ended, running.stderr.ended]);
}

/** Connects with denizen.py, waits for one approval's decision, and decides another. */
const LATE_AGENT = `
import asyncio, sys
from denizen import Session

async def main() -> None:
    url, token, decided, pending = sys.argv[1:]
    async with Session(url, "late", token=token) as s:
        a = await asyncio.wait_for(s.wait_for_decision(decided), 5)
        print(a["status"], a["option"], a["by"])
        b = await s.decide(pending, "reject", comment="too late")
        print(b["status"], b["option"], b["by"], b["comment"])

asyncio.run(main())
`;

Deno.test("denizen.py sees a decision made before it connected (from the welcome), and decides over WebSocket", async () => {
  await requirePythonWebsockets();
  const rt = await createRuntime({ memory: true, tickMs: 0, token: TOKEN });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, rt.app.fetch);
  try {
    const s = await rt.create();
    const early = await rt.requestApproval(s.id, { prompt: "Go?", deadline: "10m" });
    await rt.decide(s.id, early.id, { option: "approve", by: "alice" });
    const later = await rt.requestApproval(s.id, { prompt: "Publish?", deadline: "10m" });
    const url = `ws://127.0.0.1:${server.addr.port}/v1/sessions/${s.id}/ws`;
    const out = await new Deno.Command(PYTHON, {
      args: ["-c", LATE_AGENT, url, TOKEN, early.id, later.id],
      cwd: ROOT,
      env: { PYTHONPATH: `${ROOT}examples/python`, PYTHONDONTWRITEBYTECODE: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    assert.equal(out.code, 0, decoder.decode(out.stderr));
    assert.equal(
      decoder.decode(out.stdout),
      "decided approve alice\ndecided reject late too late\n",
    );
    const decided = (await rt.approvals(s.id)).find((a) => a.id === later.id);
    assert.deepEqual([decided?.option, decided?.by], ["reject", "late"]);
  } finally {
    await server.shutdown();
    await rt.close();
  }
});
