/**
 * Test helpers: build tar.gz archives by hand with tar-stream's pack (for
 * hostile archives), take archives apart, and move bytes in and out of
 * streams.
 *
 * @module
 */
import tar from "tar-stream";
import type { Header } from "tar-stream";

/** One entry of a hand-built archive. */
export interface RawEntry {
  name: string;
  body?: Uint8Array | string;
  type?: Header["type"];
  linkname?: string;
}

/** All bytes of a stream, in one array. */
export async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A stream of `bytes` in chunks of `chunkBytes`; `pulled.bytes` counts what was read. */
export function streamOf(
  bytes: Uint8Array,
  chunkBytes = 64 * 1024,
  pulled = { bytes: 0 },
): ReadableStream<Uint8Array<ArrayBuffer>> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      const chunk = new Uint8Array(bytes.subarray(offset, offset + chunkBytes));
      offset += chunk.byteLength;
      pulled.bytes += chunk.byteLength;
      controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
}

/** A plain tar of `entries`, in order, each with mtime 0. */
export async function tarOf(entries: RawEntry[]): Promise<Uint8Array> {
  const pack = tar.pack();
  for (const e of entries) {
    const header = {
      name: e.name,
      type: e.type ?? "file",
      linkname: e.linkname,
      mtime: new Date(0),
    };
    if (header.type === "file") pack.entry(header, e.body ?? "");
    else pack.entry(header).end(undefined); // streamx types require an argument
  }
  pack.finalize();
  const parts: Uint8Array[] = [];
  for await (const chunk of pack) parts.push(chunk as Uint8Array);
  return concat(parts);
}

/** `bytes`, gzip'd. */
export function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  return collect(streamOf(bytes).pipeThrough(new CompressionStream("gzip")));
}

/** A tar.gz of `entries`. */
export async function tarGzOf(entries: RawEntry[]): Promise<Uint8Array> {
  return gzip(await tarOf(entries));
}

/** The entries of a tar.gz, bodies as bytes. */
export async function entriesOf(archive: Uint8Array): Promise<Required<RawEntry>[]> {
  const tarBytes = await collect(streamOf(archive).pipeThrough(new DecompressionStream("gzip")));
  const extract = tar.extract();
  extract.end(tarBytes);
  const out: Required<RawEntry>[] = [];
  for await (const entry of extract) {
    const parts: Uint8Array[] = [];
    for await (const chunk of entry) parts.push(chunk as Uint8Array);
    const { name, type, linkname } = entry.header;
    out.push({ name, type, linkname: linkname ?? "", body: concat(parts) });
  }
  return out;
}

/** The parsed `manifest.json` of a tar.gz. */
export async function manifestOf(archive: Uint8Array): Promise<unknown> {
  const entry = (await entriesOf(archive)).find((e) => e.name === "manifest.json");
  if (entry === undefined) throw new Error("no manifest.json");
  return JSON.parse(new TextDecoder().decode(entry.body as Uint8Array));
}

/** Lower-case hex sha256 of `bytes`. */
export async function sha256(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const digest = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `parts` joined in one array. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}
