/**
 * Helpers for the inspector's end-to-end tests: a runtime served on
 * 127.0.0.1 with the inspector mounted beside its routes (as `routes/app.ts`
 * will mount it), a server that can be restarted on the same port over the
 * same data directory, headless Chromium through playwright-core, and
 * polling assertions.
 *
 * @module
 */
import { Hono } from "hono";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";
import { createRuntime, type Runtime, type RuntimeOptions } from "../../mod.ts";
import type { AppOptions } from "../../routes/app.ts";
import { mountInspector } from "../../routes/ui.ts";

/** Debian's Chromium, as installed by `apt-get install chromium`. */
export const CHROMIUM = "/usr/bin/chromium";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Where the tests write their screenshots (git-ignored). */
export const SCREENSHOTS = new URL("./screenshots/", import.meta.url);

/** Starts headless Chromium. */
export async function launch(): Promise<Browser> {
  return await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** A page 1440 wide, light or dark, that fails the test on a page error. */
export async function newPage(
  browser: Browser,
  opts: { dark?: boolean; height?: number } = {},
): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1440, height: opts.height ?? 900 },
    colorScheme: opts.dark ? "dark" : "light",
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  (page as Page & { errors: string[] }).errors = errors;
  return page;
}

/** Errors the page threw so far (uncaught exceptions in its scripts). */
export function pageErrors(page: Page): string[] {
  return (page as Page & { errors?: string[] }).errors ?? [];
}

/** A runtime and the inspector, served on a real port. */
export interface Served {
  /** The current runtime (a new one after {@linkcode Served.restart}). */
  rt: Runtime;
  port: number;
  /** `http://127.0.0.1:port`. */
  base: string;
  /** The session's WebSocket URL. */
  wsUrl(id: string): string;
  /** Stops serving (the page's sockets close with 1001) and closes the runtime. */
  stop(): Promise<void>;
  /** Opens the runtime again over the same data and serves it on the same port. */
  start(): Promise<void>;
  /** Stops for good and removes the data directory. */
  close(): Promise<void>;
}

/**
 * Serves a runtime with the inspector: `mountInspector` first, then the
 * runtime's app, so that `/ui` needs no token and every other route keeps
 * its own authentication. With `dataDir: true` the data lives in a fresh
 * temporary directory that survives {@linkcode Served.stop}.
 */
export async function serve(
  opts: Omit<RuntimeOptions, "dataDir"> & AppOptions & { dataDir?: boolean } = {},
): Promise<Served> {
  const { dataDir, ...runtimeOpts } = opts;
  const dir = dataDir ? await Deno.makeTempDir({ prefix: "denizen-ui-" }) : undefined;
  const open = () =>
    createRuntime({
      tickMs: 0,
      ...runtimeOpts,
      ...(dir !== undefined ? { dataDir: dir } : { memory: true }),
    });
  let rt = await open();
  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  let port = 0;
  const listen = () => {
    const app = mountInspector(new Hono()).route("/", rt.app);
    server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, app.fetch);
    port = server.addr.port;
  };
  listen();
  const served: Served = {
    rt,
    port,
    base: `http://127.0.0.1:${port}`,
    wsUrl: (id) => `ws://127.0.0.1:${port}/v1/sessions/${id}/ws`,
    async stop() {
      await server?.shutdown();
      server = undefined;
      await rt.close();
    },
    async start() {
      if (dir === undefined) throw new Error("start() after stop() needs dataDir: true");
      rt = await open();
      served.rt = rt;
      listen();
    },
    async close() {
      if (server !== undefined) await served.stop();
      if (dir !== undefined) await Deno.remove(dir, { recursive: true });
    },
  };
  return served;
}

/**
 * Polls `probe` until it returns a truthy value, or fails after `ms` with
 * `what` and the last value seen.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | Promise<T>,
  ms = 1000,
): Promise<NonNullable<T>> {
  const deadline = performance.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      last = await probe();
      if (last) return last as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (performance.now() > deadline) {
      throw new Error(`Timed out after ${ms} ms waiting for ${what}; last: ${fmt(last)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until `locator`'s text contains `text` (all of them, for an array). */
export async function expectText(
  locator: Locator,
  text: string | string[],
  ms = 1000,
): Promise<string> {
  const wanted = Array.isArray(text) ? text : [text];
  let seen = "";
  try {
    return await waitFor(`text ${JSON.stringify(wanted)}`, async () => {
      seen = (await locator.first().textContent({ timeout: 50 }).catch(() => "")) ?? "";
      return wanted.every((t) => seen.includes(t)) ? seen : "";
    }, ms);
  } catch {
    throw new Error(
      `Timed out after ${ms} ms waiting for ${JSON.stringify(wanted)}; saw: ${fmt(seen)}`,
    );
  }
}

/** Waits until `locator` matches `n` elements (or a count `n(count)` accepts). */
export async function expectCount(
  locator: Locator,
  n: number | ((count: number) => boolean),
  ms = 1000,
): Promise<number> {
  const ok = typeof n === "number" ? (c: number) => c === n : n;
  let seen = -1;
  try {
    await waitFor(`a count`, async () => ok(seen = await locator.count()), ms);
  } catch {
    throw new Error(`Timed out after ${ms} ms waiting for a count of ${n}; saw ${seen}`);
  }
  return seen;
}

/** Writes a screenshot of `page` to `tests/ui/screenshots/<name>.png`. */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  const path = new URL(`${name}.png`, SCREENSHOTS).pathname;
  await page.evaluate("scrollTo(0, 0)");
  await page.screenshot({ path, fullPage });
}

function fmt(value: unknown): string {
  if (value instanceof Error) return value.message;
  const s = typeof value === "string" ? value : JSON.stringify(value);
  return (s ?? String(value)).slice(0, 400);
}
