/**
 * Where an example runs: a running server given with `--url` (and
 * `--token`, or `DENIZEN_TOKEN`), or else its own in-memory runtime served
 * on a free port of 127.0.0.1.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createRuntime, type Runtime, type RuntimeOptions } from "../mod.ts";

/** A small JSON client of the HTTP API, as a person's tools or a web backend would use. */
export interface Http {
  /** `GET /v1<path>`. */
  get<T = Record<string, unknown>>(path: string): Promise<T>;
  /** `POST /v1<path>` with a JSON body. */
  post<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T>;
}

/** A server to talk to, and how to let it go. */
export interface Place {
  /** `http://host:port`. */
  readonly url: string;
  /** The bearer token, if the server wants one. */
  readonly token?: string;
  /** The runtime, when the example started its own. */
  readonly rt?: Runtime;
  readonly http: Http;
  /** The WebSocket URL of session `id`. */
  ws(id: string): string;
  /** Stops the example's own server and runtime; nothing for `--url`. */
  close(): Promise<void>;
}

/** Parses `--url` and `--token` from `args`; without `--url`, starts a runtime with `opts`. */
export async function openPlace(args: string[], opts: RuntimeOptions = {}): Promise<Place> {
  const { values } = parseArgs({
    args,
    options: { url: { type: "string" }, token: { type: "string" } },
  });
  const token = values.token ?? (Deno.env.get("DENIZEN_TOKEN") || undefined);
  if (values.url !== undefined) {
    return place(values.url.replace(/\/$/, ""), token, undefined, async () => {});
  }
  const rt = await createRuntime({ memory: true, ...opts });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, rt.app.fetch);
  return place(`http://127.0.0.1:${server.addr.port}`, undefined, rt, async () => {
    await server.shutdown();
    await rt.close();
  });
}

function place(
  url: string,
  token: string | undefined,
  rt: Runtime | undefined,
  close: () => Promise<void>,
): Place {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${url}/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${json.error?.message}`);
    return json as T;
  };
  return {
    url,
    token,
    rt,
    http: {
      get: (path) => call("GET", path),
      post: (path, body) => call("POST", path, body ?? {}),
    },
    ws: (id) => `${url.replace(/^http/, "ws")}/v1/sessions/${id}/ws`,
    close,
  };
}
