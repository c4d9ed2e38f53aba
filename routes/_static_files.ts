/**
 * Serving a fixed set of static files from a folder beside the routes (the
 * inspector's and the API description's pages): only the names listed are
 * served, so no path from a URL reaches the disk; each is read once and kept.
 *
 * @module
 */
import type { Context } from "hono";

/**
 * A handler of the files `files` (name to content type) of folder `dir`,
 * a URL ending in `/`; `index.html` gets the content security policy `csp`.
 */
export function staticFiles(
  dir: URL,
  files: Readonly<Record<string, string>>,
  csp: string,
): (c: Context, name: string) => Promise<Response> {
  const cache = new Map<string, Promise<Uint8Array>>();
  return async (c, name) => {
    const type = Object.hasOwn(files, name) ? files[name] : undefined;
    if (type === undefined) return c.notFound();
    let bytes = cache.get(name);
    if (bytes === undefined) {
      bytes = read(new URL(name, dir));
      cache.set(name, bytes);
      bytes.catch(() => cache.delete(name));
    }
    return new Response(await bytes as Uint8Array<ArrayBuffer>, {
      headers: {
        "content-type": type,
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        ...(name === "index.html" ? { "content-security-policy": csp } : {}),
      },
    });
  };
}

/** A file from disk or, when the module was loaded from a URL, over fetch. */
async function read(url: URL): Promise<Uint8Array> {
  if (url.protocol === "file:") return await Deno.readFile(url);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`Static file '${url.pathname}' could not be read: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}
