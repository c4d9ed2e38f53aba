/**
 * A research session (seed 000): three agents share a plan of dependent
 * tasks inside one session, a person approves the plan before any work
 * starts, and two findings that contradict each other are recorded as a
 * conflict that the person resolves before the report is written.
 *
 * The agents use `client.ts` over WebSocket; the person uses the HTTP API.
 *
 *     deno run -A examples/research.ts                       # its own in-memory server
 *     deno run -A examples/research.ts --url http://127.0.0.1:8000 --token $DENIZEN_TOKEN
 *
 * @module
 */
import {
  type Approval,
  type Conflict,
  connect,
  type DenizenClient,
  type Session,
  type Task,
} from "../client.ts";
import { openPlace } from "./_place.ts";

/** What each task finds. The two searches disagree on the founding year. */
const WORK: Record<string, (client: DenizenClient) => Record<string, unknown>> = {
  registry: () => ({ founded: 1999, source: "company registry" }),
  press: () => ({ founded: 2001, source: "press archive" }),
  filings: () => ({ revenue: "EUR 12M", employees: 85, source: "annual filings" }),
  compare: (client) => {
    const { registry, press } = client.coordination.tasks;
    return { years: [registry.result, press.result].map((r) => (r as Finding).founded) };
  },
  report: (client) => {
    const [conflict] = Object.values(client.coordination.conflicts);
    return { founded: conflict?.resolution, revenue: "EUR 12M", employees: 85 };
  },
};

interface Finding {
  founded: number;
  source: string;
  by: string;
}

const place = await openPlace(Deno.args);
const { http } = place;

// A person sets up the session and a plan that waits for their approval.
const session = await http.post<Session>("/sessions", {
  name: "ACME Corp due diligence",
  tags: ["research", "acme"],
  state: { query: "ACME Corp", findings: [] },
});
const plan = await http.post<{ tasks: Task[]; approval: Approval }>(
  `/sessions/${session.id}/tasks`,
  {
    tasks: [
      { id: "registry", title: "Search the company registry" },
      { id: "press", title: "Search the press archive" },
      { id: "filings", title: "Read the annual filings" },
      { id: "compare", title: "Compare the founding dates", deps: ["registry", "press"] },
      { id: "report", title: "Write the report", deps: ["compare", "filings"] },
    ],
    approval: { prompt: "Start the ACME Corp research plan?", deadline: "30m" },
  },
);
console.log(`session ${session.id}: ${session.name}`);
console.log(`plan: ${plan.tasks.length} tasks, waiting for approval ${plan.approval.id}`);

// Three agents connect and work until the plan is done.
const names = ["scout", "analyst", "writer"];
const agents = await Promise.all(
  names.map((agent) => connect(place.ws(session.id), { agent, token: place.token })),
);
const working = agents.map((client, i) => work(client, names[i]));

// The person watches the session live and acts over HTTP.
const watcher = await connect(place.ws(session.id), { token: place.token });
const resolved = new Promise<Conflict>((resolve, reject) => {
  watcher.on("event", (e) => {
    if (e.type !== "conflict.recorded") return;
    const { conflict } = e.data as { conflict: Conflict };
    const years = conflict.findings.map((f) => f.claim).join(" vs ");
    console.log(`conflict ${conflict.id} recorded by ${e.agent}: ${conflict.type} (${years})`);
    http.post<{ conflict: Conflict }>(`/sessions/${session.id}/conflicts/${conflict.id}/resolve`, {
      resolution: 1999,
      by: "carol",
    }).then(({ conflict }) => resolve(conflict), reject);
  });
});

const { approval } = await http.post<{ approval: Approval }>(
  `/sessions/${session.id}/approvals/${plan.approval.id}/decision`,
  { option: "approve", by: "carol", comment: "Go ahead" },
);
console.log(`${approval.by} decided '${approval.option}' on the plan`);

await Promise.all(working);
const conflict = await resolved;
console.log(`${conflict.by} resolved ${conflict.id}: founded ${conflict.resolution}`);

// What the session holds now, through the HTTP API.
const { tasks } = await http.get<{ tasks: Task[] }>(`/sessions/${session.id}/tasks`);
const { results } = await http.get<{ results: unknown[] }>(`/sessions/${session.id}/results`);
const done = await http.post<Session>(`/sessions/${session.id}/complete`, {
  report: (tasks.find((t) => t.id === "report"))?.result,
});
console.log("summary:");
console.log(`  tasks: ${tasks.map((t) => `${t.id} ${t.status}`).join(", ")}`);
console.log(`  approval ${approval.id}: ${approval.status} (${approval.option} by ${approval.by})`);
console.log(`  conflict ${conflict.id}: ${conflict.status} by ${conflict.by}`);
console.log(
  `  results: ${results.length}, findings in state: ${(done.state.findings as unknown[]).length}`,
);
console.log(`  session: ${done.status}, progress ${done.progress}, version ${done.version}`);

await Promise.all([...agents, watcher].map((c) => c.close()));
await place.close();

/** One agent: claims ready tasks until the plan is done, recording what each finds. */
async function work(client: DenizenClient, name: string): Promise<void> {
  await client.agent({ status: "waiting" });
  for (;;) {
    const { result } = await client.claim({ lease: "1m" });
    const task = result?.task;
    if (!task) {
      if (finished(client)) break;
      await until(client, () => ready(client) || finished(client));
      continue;
    }
    console.log(`${name} claimed ${task.id}`);
    await client.agent({ status: "working", task: task.id });
    if (task.id === "report") await until(client, () => !openConflicts(client));
    const finding = { ...WORK[task.id](client), by: name };
    await client.patch([{ op: "add", path: "/findings/-", value: { task: task.id, ...finding } }]);
    await client.result({ key: task.id, data: finding });
    if (task.id === "compare") await recordConflict(client, name);
    await client.complete(task.id, finding);
  }
  await client.agent({ status: "done", progress: 1 });
}

/** The compare step: two findings on the founding year disagree, so it says so. */
async function recordConflict(client: DenizenClient, name: string): Promise<void> {
  const { registry, press } = client.coordination.tasks;
  const [a, b] = [registry.result, press.result] as Finding[];
  if (a.founded === b.founded) return;
  await client.conflict({
    entity: "ACME Corp",
    type: "founding_year",
    severity: "high",
    strategy: "ask a person",
    findings: [
      { agent: a.by, result: "registry", claim: String(a.founded) },
      { agent: b.by, result: "press", claim: String(b.founded) },
    ],
  });
  await client.message({ role: "assistant", content: `${name}: the sources disagree` });
}

function ready(client: DenizenClient): boolean {
  return Object.values(client.coordination.tasks).some((t) => t.status === "ready");
}

function finished(client: DenizenClient): boolean {
  return Object.values(client.coordination.tasks).every((t) =>
    t.status === "done" || t.status === "failed"
  );
}

function openConflicts(client: DenizenClient): boolean {
  return Object.values(client.coordination.conflicts).some((c) => c.status === "open");
}

/** Resolves once `test()` holds: now, or after an event or a welcome updates the mirror. */
function until(client: DenizenClient, test: () => boolean): Promise<void> {
  if (test()) return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      if (!test()) return;
      stops.forEach((stop) => stop());
      resolve();
    };
    const stops = [client.on("event", check), client.on("welcome", check)];
  });
}
