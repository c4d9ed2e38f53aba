/**
 * JSON Patch (RFC 6902) over an immutable state, with structural sharing:
 * the containers on the ops' paths are copied once per patch, and every
 * other value is shared with the state before. fast-json-patch applies and
 * validates each op, on the copies.
 *
 * This is what a patch command runs. It records its own ops, so it needs no
 * draft: an immer draft costs a proxy for each container it walks through,
 * and then an object for each patch it derives.
 *
 * @module
 */
import jsonpatch, { type Operation } from "fast-json-patch";

type Container = Record<string, unknown> | unknown[];

/** An array index as RFC 6901 writes it: `0`, or digits without a leading zero. */
const INDEX = /^(0|[1-9][0-9]*)$/;

/**
 * Applies `ops` to `state` all or none, and returns the new state; `state`
 * and everything in it are left as they were. Throws fast-json-patch's
 * `JsonPatchError` (its `index` is the failing op) for an op that fails or
 * does not resolve. Ops on the root (`""`) are the caller's: they replace
 * the whole state.
 *
 * Stricter than fast-json-patch alone in two ways. Every segment above the
 * last must be an own property of an object, or an array index in range, so
 * that a path can never reach through a prototype (`/toString/x`) or a
 * non-canonical index (`/list/01/x`) into a value that was not copied. And a
 * move is exactly a remove and then an add, each validated, as RFC 6902
 * defines it; fast-json-patch checks the target before the remove, so it
 * lets a move land where its add would be refused (past the end of an array
 * the remove shortened, or into a string).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const before = { a: { n: 1 }, b: { big: [1, 2, 3] } };
 * const after = applyShared(before, [{ op: "replace", path: "/a/n", value: 2 }]);
 * assert.deepEqual(after.a, { n: 2 });
 * assert.equal(before.a.n, 1);
 * assert.equal(after.b, before.b); // shared, not copied
 * ```
 */
export function applyShared(
  state: Record<string, unknown>,
  ops: readonly Operation[],
): Record<string, unknown> {
  const root = { ...state };
  const copies = new Set<object>([root]);
  ops.forEach((op, i) => {
    if (op.op !== "move") {
      own(root, op, op.path, copies, i); // a copy or a test only reads its `from`
      jsonpatch.applyOperation(root, op, true, true, true, i);
      return;
    }
    // A move is a remove, then an add (RFC 6902 §4.4) at a path that the remove may have
    // shifted, through an array index on the way: the add's path is made our own after it.
    jsonpatch.validator(op, i);
    own(root, op, op.from, copies, i);
    const remove = { op: "remove" as const, path: op.from };
    const { removed } = jsonpatch.applyOperation(root, remove, true, true, true, i);
    own(root, op, op.path, copies, i);
    const add = { op: "add" as const, path: op.path, value: removed };
    jsonpatch.applyOperation(root, add, true, true, true, i);
  });
  return root;
}

/** Replaces each container above the last segment of `path` by a copy of its own, once per patch. */
function own(
  root: Record<string, unknown>,
  op: Operation,
  path: string,
  copies: Set<object>,
  index: number,
): void {
  if (typeof path !== "string" || !path.startsWith("/")) return; // fast-json-patch rejects it
  const segments = path.split("/");
  let node: Container = root;
  for (let s = 1; s < segments.length - 1; s++) {
    const key = segments[s].replaceAll("~1", "/").replaceAll("~0", "~");
    const resolves = Array.isArray(node)
      ? INDEX.test(key) && Number(key) < node.length
      : Object.hasOwn(node, key);
    const child = resolves ? (node as Record<string, unknown>)[key] : undefined;
    if (child === null || typeof child !== "object") {
      throw new jsonpatch.JsonPatchError(
        `Cannot resolve '${segments.slice(0, s + 1).join("/")}' to an object or array`,
        "OPERATION_PATH_UNRESOLVABLE",
        index,
        op,
        root,
      );
    }
    let copy = child as Container;
    if (!copies.has(copy)) {
      copy = Array.isArray(copy) ? [...copy] : { ...copy };
      copies.add(copy);
      (node as Record<string, unknown>)[key] = copy;
    }
    node = copy;
  }
}
