/**
 * The HTTP API of SPEC §4 and §9 from the page: the token kept for the tab
 * (sessionStorage), sent as `Authorization: Bearer`; errors read from the
 * `{"error": {"code", "message"}}` body. A 401 anywhere tells the page,
 * which then asks for the token again.
 *
 * @module
 */

const TOKEN_KEY = "denizen.token";
const BY_KEY = "denizen.by";

/** An error answer, or `status` 0 when the server could not be reached. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** @type {Set<(error: ApiError) => void>} */
const unauthorized = new Set();

/**
 * Listens for 401 answers; returns the function that stops listening.
 *
 * @param {(error: ApiError) => void} fn
 * @returns {() => void}
 */
export function onUnauthorized(fn) {
  unauthorized.add(fn);
  return () => unauthorized.delete(fn);
}

/** @returns {string} the token kept for this tab, or "" */
export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? "";
  } catch {
    return "";
  }
}

/** @param {string} token */
export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** @returns {string} whom decisions are recorded as */
export function decider() {
  try {
    return localStorage.getItem(BY_KEY) || "inspector";
  } catch {
    return "inspector";
  }
}

/** @param {string} name */
export function setDecider(name) {
  try {
    localStorage.setItem(BY_KEY, name);
  } catch {
    // storage refused (private mode): the name lasts for this page only
  }
}

/**
 * Calls `/v1<path>`. Resolves to the parsed JSON (null for 204), or the raw
 * response with `raw`; throws an {@linkcode ApiError}.
 *
 * @param {string} path
 * @param {{method?: string, body?: unknown, raw?: boolean, signal?: AbortSignal}} [opts]
 * @returns {Promise<any>}
 */
export async function api(path, opts = {}) {
  /** @type {Record<string, string>} */
  const headers = {};
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  let res;
  try {
    res = await fetch(`/v1${path}`, {
      method: opts.method ?? "GET",
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
      cache: "no-store",
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "offline", "The server cannot be reached");
  }
  if (!res.ok) {
    const error = await readError(res);
    if (error.status === 401) { for (const fn of unauthorized) fn(error); }
    throw error;
  }
  if (opts.raw) return res;
  if (res.status === 204) return null;
  return await res.json();
}

/**
 * @param {Response} res
 * @returns {Promise<ApiError>}
 */
async function readError(res) {
  try {
    const body = await res.json();
    const e = body?.error;
    if (e && typeof e.message === "string") {
      return new ApiError(res.status, String(e.code ?? "error"), e.message);
    }
  } catch {
    // not JSON: fall through to the status text
  }
  return new ApiError(res.status, "http_error", `${res.status} ${res.statusText}`.trim());
}

/**
 * A query string from the defined, non-empty values of `params`.
 *
 * @param {Record<string, string | number | boolean | undefined | null>} params
 * @returns {string}
 */
export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "" || v === false) continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

/**
 * Path segment of an id.
 *
 * @param {string} id
 * @returns {string}
 */
export function seg(id) {
  return encodeURIComponent(id);
}

/**
 * Downloads what `path` answers as a file named `name`.
 *
 * @param {string} path
 * @param {string} name
 */
export async function download(path, name) {
  const res = await api(path, { raw: true });
  saveBlob(await res.blob(), name);
}

/**
 * Offers `blob` as a download.
 *
 * @param {Blob} blob
 * @param {string} name
 */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * What to tell a person about `error`.
 *
 * @param {unknown} error
 * @returns {string}
 */
export function errorMessage(error) {
  return error instanceof Error ? error.message : String(error);
}
