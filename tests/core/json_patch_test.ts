import assert from "node:assert/strict";
import fc from "fast-check";
import jsonpatch, { type Operation } from "fast-json-patch";
import { applyShared } from "../../src/json_patch.ts";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path below the root of `value`, plus one past the end of each array and one new key per object. */
function pathsOf(value: Json, at = ""): string[] {
  if (value === null || typeof value !== "object") return [];
  const out: string[] = [];
  const keys = Array.isArray(value) ? [...value.keys(), "-"] : [...Object.keys(value), "new~1key"];
  for (const k of keys) {
    const path = `${at}/${String(k).replaceAll("~", "~0").replaceAll("/", "~1")}`;
    out.push(path);
    const child = Array.isArray(value) ? value[k as number] : value[k as string];
    if (child !== undefined) out.push(...pathsOf(child, path));
  }
  return out;
}

const state = fc.dictionary(
  fc.constantFrom("a", "b", "c/d", "e~f"),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  { minKeys: 1 },
).map((doc) => JSON.parse(JSON.stringify(doc)) as Record<string, Json>); // plain objects, as parsed

const patched = state.chain((doc) => {
  const path = fc.constantFrom(...pathsOf(doc));
  const value = fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)));
  const op: fc.Arbitrary<Operation> = fc.oneof(
    fc.record({ op: fc.constant("add" as const), path, value }),
    fc.record({ op: fc.constant("replace" as const), path, value }),
    fc.record({ op: fc.constant("remove" as const), path }),
    fc.record({ op: fc.constant("move" as const), from: path, path }),
    fc.record({ op: fc.constant("copy" as const), from: path, path }),
    fc.record({ op: fc.constant("test" as const), path, value }),
  );
  return fc.tuple(fc.constant(doc), fc.array(op, { minLength: 1, maxLength: 6 }));
});

/**
 * The reference: fast-json-patch on a deep copy, each op validated, with a move done as RFC 6902
 * §4.4 defines it, a remove and then an add.
 */
function reference(doc: Record<string, Json>, ops: Operation[]): unknown {
  let out: unknown = structuredClone(doc);
  for (const [i, op] of structuredClone(ops).entries()) {
    if (op.op !== "move") {
      out = jsonpatch.applyOperation(out, op, true, true, true, i).newDocument;
      continue;
    }
    jsonpatch.validator(op, i);
    const { removed } = jsonpatch.applyOperation(out, { op: "remove", path: op.from }, true);
    out = jsonpatch.applyOperation(out, { op: "add", path: op.path, value: removed }, true)
      .newDocument;
  }
  return out;
}

Deno.test("a shared patch gives what fast-json-patch gives op by op on a deep copy, fails where it fails, and never changes the state it was given", () => {
  fc.assert(
    fc.property(patched, ([doc, ops]) => {
      const before = structuredClone(doc);
      let expected: unknown;
      let expectedError: string | undefined;
      try {
        expected = reference(doc, ops);
      } catch (error) {
        expectedError = (error as Error).name;
      }
      let actual: unknown;
      let actualError: string | undefined;
      try {
        actual = applyShared(doc, structuredClone(ops));
      } catch (error) {
        actualError = (error as Error).name;
      }
      assert.deepEqual(doc, before, "the given state is unchanged");
      if (expectedError === undefined) {
        assert.equal(actualError, undefined, `fast-json-patch applied ${JSON.stringify(ops)}`);
        assert.deepEqual(actual, expected);
      } else {
        assert.notEqual(actualError, undefined, `fast-json-patch refused with ${expectedError}`);
      }
    }),
    { numRuns: 2000 },
  );
});

Deno.test("a shared patch copies only the containers on its paths", () => {
  const doc = { a: { n: 1, deep: { x: [1, 2] } }, b: { big: [{ k: 1 }] } };
  const after = applyShared(doc, [
    { op: "add", path: "/a/deep/x/-", value: 3 },
    { op: "replace", path: "/a/n", value: 2 },
  ]);
  assert.deepEqual(after, { a: { n: 2, deep: { x: [1, 2, 3] } }, b: { big: [{ k: 1 }] } });
  assert.equal(after.b, doc.b);
  assert.notEqual(after.a, doc.a);
  assert.deepEqual(doc.a, { n: 1, deep: { x: [1, 2] } });
});

Deno.test("a move out of an array into a later element lands in the element the remove shifted there, on a copy", () => {
  const doc = { arr: [{ n: 0 }, { n: 1 }, { n: 2 }] };
  const after = applyShared(doc, [{ op: "move", from: "/arr/0", path: "/arr/1/moved" }]);
  assert.deepEqual(after, { arr: [{ n: 1 }, { n: 2, moved: { n: 0 } }] });
  assert.deepEqual(doc, { arr: [{ n: 0 }, { n: 1 }, { n: 2 }] });
  assert.throws(
    () =>
      applyShared(doc, [
        { op: "test", path: "/arr/0/n", value: 0 },
        { op: "move", from: "/arr/0", path: "/arr/3" },
      ]),
    (e: Error & { index?: number }) => e.name === "OPERATION_VALUE_OUT_OF_BOUNDS" && e.index === 1,
    "the add past the end of the shortened array fails, and names op 1",
  );
});

Deno.test("a path that reaches through a prototype or a non-canonical index fails and changes nothing", () => {
  const doc = { list: [{ v: 1 }], o: {} };
  const proto = Object.getOwnPropertyNames(Object.prototype.toString);
  for (const path of ["/toString/x", "/o/constructor/x", "/list/01/v", "/list//v", "/list/1/v"]) {
    assert.throws(
      () => applyShared(doc, [{ op: "add", path, value: 1 }]),
      (e: Error) => e.name === "OPERATION_PATH_UNRESOLVABLE",
      path,
    );
  }
  assert.deepEqual(doc, { list: [{ v: 1 }], o: {} });
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype.toString), proto);
});
