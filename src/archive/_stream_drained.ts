/**
 * Waiting for a streamx writable (tar-stream's pack entries and extract) to
 * take more data.
 *
 * @module
 */

/** The part of a streamx writable that `drained` needs. */
export interface DrainableStream {
  readonly destroying: boolean;
  once(event: "drain" | "close", listener: () => void): unknown;
  off(event: "drain" | "close", listener: () => void): unknown;
}

/**
 * Resolves on the stream's next `drain`; rejects if it closes first or is
 * already being destroyed.
 *
 * @example
 * ```ts
 * if (!sink.write(chunk)) await drained(sink);
 * ```
 */
export function drained(stream: DrainableStream): Promise<void> {
  if (stream.destroying) return Promise.reject(new Error("Tar stream was closed"));
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      stream.off("close", onClose);
      resolve();
    };
    const onClose = () => {
      stream.off("drain", onDrain);
      reject(new Error("Tar stream was closed"));
    };
    stream.once("drain", onDrain);
    stream.once("close", onClose);
  });
}
