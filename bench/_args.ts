/**
 * `--name value` command-line flags, shared by the bench processes.
 *
 * @module
 */

/** Reads `--name value` pairs and bare `--flag`s from `args`. */
export function flags(args: readonly string[] = Deno.args): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("--")) continue;
    const next = args[i + 1];
    if (next === undefined || next.startsWith("--")) out.set(a.slice(2), "true");
    else out.set(a.slice(2), args[++i]);
  }
  return out;
}

/** A numeric flag, or `fallback`. */
export function num(f: Map<string, string>, name: string, fallback: number): number {
  const v = f.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${v}`);
  return n;
}

/** Prints one result line for the orchestrator. */
export function emit(result: Record<string, unknown>): void {
  console.log(JSON.stringify(result));
}
