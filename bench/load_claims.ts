/**
 * Claims on one shared plan (figure 13): `--agents` agents, named
 * `<agent-prefix><i>`, on session `--session`. Each agent claims in a closed
 * loop (one claim in flight: it sends the next when the last is answered)
 * and stops at `{task: null}` (the plan is exhausted), after `--seconds`,
 * after `--max-claims` of its own, or at its first error.
 *
 * Claims go over WebSocket (`--via ws`, the default: a socket per agent,
 * opened with `?agent=` and `since=` the session's current seq, as a client
 * that has the state reconnects, so that its welcome does not carry the
 * whole plan; `{t:"claim", id, lease}` is acked with `result: {task}`) or
 * over HTTP (`--via http`: `POST …/tasks/claim {agent, lease}` → `{task}`).
 * Sockets are opened first. With `--barrier DIR`, the process then writes
 * `DIR/ready-<agent-prefix>` and starts claiming at the epoch ms that the
 * orchestrator writes to `DIR/go` once every process is ready, so that
 * several start together; without it, claiming starts at once.
 *
 *   deno run -A bench/load_claims.ts --url URL --session S --agents 50
 *     [--agent-prefix a] [--via ws|http] [--barrier DIR] [--seconds S] [--max-claims N]
 *
 * Prints `{claims, startMs, endMs, errors, lastError?, claimed}`:
 * `claimed` maps each agent to the task ids acked to it, in order;
 * `startMs` is when the first claim went out and `endMs` when the last
 * successful one was acked (epoch ms, fractional).
 *
 * @module
 */
import { emit, flags, num } from "./_args.ts";
import { closeSocket, openSocket, pool } from "./_ws.ts";

const f = flags();
const url = f.get("url")!;
const session = f.get("session")!;
const via = f.get("via") ?? "ws";
if (via !== "ws" && via !== "http") throw new Error("--via is ws or http");

/** The lease of every claim: long enough that none lapses before the claims are checked. */
const LEASE = "10m";

/** Epoch ms with the sub-ms part of the monotonic clock. */
const now = () => performance.timeOrigin + performance.now();

/** A task as the generators read it. */
interface ClaimedTask {
  id: string;
}

async function post(path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${url}/v1/sessions/${session}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

/** When an agent stops: at `until` (epoch ms) or after `max` claims. */
interface Stop {
  until: number;
  max: number;
}

/**
 * One agent's claims over its own socket, one in flight, until null or
 * `stop`. Command ids are unique in the session (`<agent>-<n>`): the server
 * answers a command id it has seen with that command's first result.
 */
function claimOverSocket(
  agent: string,
  ws: WebSocket,
  out: string[],
  stop: Stop,
  onError: (e: string) => void,
): Promise<number> {
  let n = 0;
  let last = 0;
  return new Promise((resolve) => {
    const send = () => ws.send(JSON.stringify({ t: "claim", id: `${agent}-${++n}`, lease: LEASE }));
    ws.onclose = (e) => {
      onError(`closed ${e.code} ${e.reason}`);
      resolve(last);
    };
    ws.onmessage = (e) => {
      const text = e.data as string;
      // A batch message is a JSON array; events and presence are the others' news, not answers.
      const frames = (text.startsWith("[") ? JSON.parse(text) : [JSON.parse(text)]) as {
        t: string;
        code?: string;
        message?: string;
        result?: { task: ClaimedTask | null };
      }[];
      for (const frame of frames) {
        if (frame.t === "error") {
          onError(`${frame.code}: ${frame.message}`);
          ws.onclose = null;
          return resolve(last);
        } else if (frame.t !== "ack") continue;
        const task = frame.result?.task;
        if (task === null || task === undefined) {
          ws.onclose = null;
          return resolve(last);
        }
        out.push(task.id);
        last = now();
        if (now() >= stop.until || out.length >= stop.max) {
          ws.onclose = null;
          return resolve(last);
        }
        send();
      }
    };
    send();
  });
}

/** One agent's claims over HTTP, one in flight, until null or `stop`. */
async function claimOverHttp(
  agent: string,
  out: string[],
  stop: Stop,
  onError: (e: string) => void,
): Promise<number> {
  let last = 0;
  while (now() < stop.until && out.length < stop.max) {
    let task: ClaimedTask | null;
    try {
      task =
        (await post("/tasks/claim", { agent, lease: LEASE }) as { task: ClaimedTask | null }).task;
    } catch (e) {
      onError(String(e));
      break;
    }
    if (task === null) break;
    out.push(task.id);
    last = now();
  }
  return last;
}

/** Says this process is ready, then waits for the start time written to `dir/go`. */
async function meet(dir: string, name: string): Promise<void> {
  await Deno.writeTextFile(`${dir}/ready-${name}`, "");
  for (;;) {
    const go = await Deno.readTextFile(`${dir}/go`).catch(() => "");
    if (go !== "") {
      const startAt = Number(go);
      if (startAt > now()) await new Promise((r) => setTimeout(r, startAt - now()));
      return;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function runAgents(): Promise<void> {
  const agents = num(f, "agents", 1);
  const agentPrefix = f.get("agent-prefix") ?? "a";
  const seconds = num(f, "seconds", 0);
  const names = Array.from({ length: agents }, (_, i) => `${agentPrefix}${i}`);
  const sockets = new Map<string, WebSocket>();
  if (via === "ws") {
    // From the session's current seq: a fresh welcome would carry the whole plan to every agent.
    const res = await fetch(`${url}/v1/sessions/${session}`);
    if (!res.ok) throw new Error(`GET session: ${res.status} ${await res.text()}`);
    const { version } = await res.json() as { version: number };
    await pool(names, 50, async (agent) => {
      // `batch=1` as client.ts opens its sockets: a commit's events reach each agent as one message.
      const query = `agent=${agent}&since=${version}&batch=1`;
      sockets.set(agent, (await openSocket(url, session, query)).ws);
    });
  }
  const barrier = f.get("barrier");
  if (barrier !== undefined) await meet(barrier, agentPrefix);

  const claimed: Record<string, string[]> = {};
  let errors = 0;
  let lastError = "";
  const onError = (e: string) => {
    errors++;
    lastError = e;
  };
  const startMs = now();
  const stop = {
    until: seconds > 0 ? startMs + seconds * 1000 : Infinity,
    max: num(f, "max-claims", Infinity),
  };
  const ends = await Promise.all(names.map((agent) => {
    const out: string[] = claimed[agent] = [];
    return via === "ws"
      ? claimOverSocket(agent, sockets.get(agent)!, out, stop, onError)
      : claimOverHttp(agent, out, stop, onError);
  }));
  await Promise.all([...sockets.values()].map(closeSocket));
  emit({
    claims: Object.values(claimed).reduce((n, ids) => n + ids.length, 0),
    startMs,
    endMs: Math.max(startMs, ...ends),
    errors,
    ...(lastError ? { lastError } : {}),
    claimed,
  });
}

await runAgents();
