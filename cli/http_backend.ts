/**
 * The CLI on a running server, through the HTTP API of SPEC §4 and §9, with the
 * bearer token from `DENIZEN_TOKEN`.
 *
 * @module
 */
import type { Approval, Task } from "../src/coordination/model.ts";
import { DenizenError } from "../src/errors.ts";
import type { ApprovalPage, ListPage } from "../src/history/history_store.ts";
import type { Session } from "../src/session.ts";
import type { CleanupRules, SessionsBackend } from "./backend.ts";
import { CliError } from "./cli_error.ts";

/**
 * A backend that calls the server at `url`. Error answers become
 * `DenizenError`s with the server's code, status and message.
 *
 * @example
 * ```ts
 * const backend = httpBackend("http://127.0.0.1:8000", Deno.env.get("DENIZEN_TOKEN"));
 * console.log(await backend.get("s1"));
 * ```
 */
export function httpBackend(url: string, token?: string): SessionsBackend {
  return new HttpBackend(url, token);
}

class HttpBackend implements SessionsBackend {
  readonly where: string;
  readonly #base: string;
  readonly #token: string | undefined;

  constructor(url: string, token?: string) {
    let base: URL;
    try {
      base = new URL(url);
    } catch {
      throw new CliError(`Invalid --url '${url}'`, { exitCode: 2, code: "usage" });
    }
    this.where = base.origin;
    this.#base = base.href.replace(/\/+$/, "");
    this.#token = token;
  }

  async list(query: Parameters<SessionsBackend["list"]>[0]): Promise<ListPage> {
    const page = await this.#json<{ items: ListPage["items"]; nextCursor: string | null }>(
      "GET",
      `/v1/sessions?${_query(query)}`,
    );
    return page.nextCursor
      ? { items: page.items, nextCursor: page.nextCursor }
      : { items: page.items };
  }

  get(id: string): Promise<Session> {
    return this.#json("GET", `/v1/sessions/${encodeURIComponent(id)}`);
  }

  pause(id: string): Promise<Session> {
    return this.#json("POST", `/v1/sessions/${encodeURIComponent(id)}/pause`, {});
  }

  resume(id: string): Promise<Session> {
    return this.#json("POST", `/v1/sessions/${encodeURIComponent(id)}/resume`, {});
  }

  complete(id: string, report?: unknown): Promise<Session> {
    const body = report === undefined ? {} : { report };
    return this.#json("POST", `/v1/sessions/${encodeURIComponent(id)}/complete`, body);
  }

  async export(id: string): Promise<ReadableStream<Uint8Array>> {
    const res = await this.#fetch("GET", `/v1/sessions/${encodeURIComponent(id)}/export`);
    return res.body ?? ReadableStream.from<Uint8Array>([]);
  }

  async import(body: ReadableStream<Uint8Array>): Promise<Session> {
    const res = await this.#fetch("POST", "/v1/sessions/import", body, "application/gzip");
    return await res.json();
  }

  archive(id: string): Promise<Session> {
    return this.#json("POST", `/v1/sessions/${encodeURIComponent(id)}/archive`, {});
  }

  async delete(id: string): Promise<void> {
    const res = await this.#fetch("DELETE", `/v1/sessions/${encodeURIComponent(id)}`);
    await res.body?.cancel();
  }

  /** The server's own selection, by its clock: `POST /v1/cleanup` with `dryRun`. */
  async cleanupCandidates(rules: CleanupRules): Promise<string[]> {
    const body = { ...rules, dryRun: true };
    return (await this.#json<{ wouldDelete: string[] }>("POST", "/v1/cleanup", body)).wouldDelete;
  }

  async inbox(query: Parameters<SessionsBackend["inbox"]>[0]): Promise<ApprovalPage> {
    const page = await this.#json<{ items: ApprovalPage["items"]; nextCursor?: string | null }>(
      "GET",
      `/v1/approvals?${_query(query)}`,
    );
    return page.nextCursor
      ? { items: page.items, nextCursor: page.nextCursor }
      : { items: page.items };
  }

  async approvals(id: string, status?: Approval["status"]): Promise<Approval[]> {
    const path = `/v1/sessions/${encodeURIComponent(id)}/approvals?${_query({ status })}`;
    return (await this.#json<{ approvals: Approval[] }>("GET", path)).approvals;
  }

  async decide(
    id: string,
    approvalId: string,
    decision: Parameters<SessionsBackend["decide"]>[2],
  ): Promise<Approval> {
    const path = `/v1/sessions/${encodeURIComponent(id)}/approvals/${
      encodeURIComponent(approvalId)
    }/decision`;
    return (await this.#json<{ approval: Approval }>("POST", path, decision)).approval;
  }

  async tasks(id: string, status?: Task["status"]): Promise<Task[]> {
    const path = `/v1/sessions/${encodeURIComponent(id)}/tasks?${_query({ status })}`;
    return (await this.#json<{ tasks: Task[] }>("GET", path)).tasks;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.#fetch(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
      "application/json",
    );
    return await res.json() as T;
  }

  /** Sends one request; a non-2xx answer is thrown as the error it carries. */
  async #fetch(
    method: string,
    path: string,
    body?: BodyInit,
    contentType?: string,
  ): Promise<Response> {
    const headers = new Headers();
    if (this.#token) headers.set("authorization", `Bearer ${this.#token}`);
    if (body !== undefined && contentType) headers.set("content-type", contentType);
    let res: Response;
    try {
      res = await fetch(this.#base + path, { method, headers, body });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new CliError(`Cannot reach the server at ${this.where}: ${reason}`);
    }
    if (res.ok) return res;
    const text = await res.text();
    let code = "http_error";
    let message = `${method} ${path} answered ${res.status}`;
    let details: unknown;
    try {
      const parsed = JSON.parse(text) as {
        error?: { code?: string; message?: string; details?: unknown };
      };
      code = parsed.error?.code ?? code;
      message = parsed.error?.message ?? message;
      details = parsed.error?.details;
    } catch {
      // not JSON: keep the generic message
    }
    throw new DenizenError(code, res.status, message, details);
  }
}

/** The query string of the defined values of `query`. */
function _query(query: object): URLSearchParams {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  return params;
}
