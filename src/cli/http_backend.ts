/**
 * The CLI on a running server, through the HTTP API of SPEC §4, with the
 * bearer token from `DENIZEN_TOKEN`.
 *
 * @module
 */
import { DenizenError } from "../errors.ts";
import type { ListPage } from "../history/history_store.ts";
import type { Session } from "../session.ts";
import { selectForCleanup } from "./_retention.ts";
import { type CleanupRules, listAll, type SessionsBackend } from "./backend.ts";
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
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const page = await this.#json<{ items: ListPage["items"]; nextCursor: string | null }>(
      "GET",
      `/v1/sessions?${params}`,
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

  async cleanupCandidates(rules: CleanupRules): Promise<string[]> {
    const terminal = await listAll(this, ["completed", "failed", "expired"]);
    return selectForCleanup(terminal, rules, Date.now());
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
    try {
      const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
      code = parsed.error?.code ?? code;
      message = parsed.error?.message ?? message;
    } catch {
      // not JSON: keep the generic message
    }
    throw new DenizenError(code, res.status, message);
  }
}
