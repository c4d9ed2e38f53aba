/** RFC 6902 Appendix A, example by example, through the runtime's patch command. */
import assert from "node:assert/strict";
import { DenizenError } from "../../src/errors.ts";
import type { PatchOperation } from "../../src/inputs.ts";
import { memoryRuntime } from "./_fixtures.ts";

type Example = {
  name: string;
  doc: Record<string, unknown>;
  patch: Record<string, unknown>[];
  expected?: Record<string, unknown>;
  error?: number;
};

const examples: Example[] = [
  {
    name: "A.1 adding an object member",
    doc: { foo: "bar" },
    patch: [{ op: "add", path: "/baz", value: "qux" }],
    expected: { baz: "qux", foo: "bar" },
  },
  {
    name: "A.2 adding an array element",
    doc: { foo: ["bar", "baz"] },
    patch: [{ op: "add", path: "/foo/1", value: "qux" }],
    expected: { foo: ["bar", "qux", "baz"] },
  },
  {
    name: "A.3 removing an object member",
    doc: { baz: "qux", foo: "bar" },
    patch: [{ op: "remove", path: "/baz" }],
    expected: { foo: "bar" },
  },
  {
    name: "A.4 removing an array element",
    doc: { foo: ["bar", "qux", "baz"] },
    patch: [{ op: "remove", path: "/foo/1" }],
    expected: { foo: ["bar", "baz"] },
  },
  {
    name: "A.5 replacing a value",
    doc: { baz: "qux", foo: "bar" },
    patch: [{ op: "replace", path: "/baz", value: "boo" }],
    expected: { baz: "boo", foo: "bar" },
  },
  {
    name: "A.6 moving a value",
    doc: { foo: { bar: "baz", waldo: "fred" }, qux: { corge: "grault" } },
    patch: [{ op: "move", from: "/foo/waldo", path: "/qux/thud" }],
    expected: { foo: { bar: "baz" }, qux: { corge: "grault", thud: "fred" } },
  },
  {
    name: "A.7 moving an array element",
    doc: { foo: ["all", "grass", "cows", "eat"] },
    patch: [{ op: "move", from: "/foo/1", path: "/foo/3" }],
    expected: { foo: ["all", "cows", "eat", "grass"] },
  },
  {
    name: "A.8 testing a value: success",
    doc: { baz: "qux", foo: ["a", 2, "c"] },
    patch: [
      { op: "test", path: "/baz", value: "qux" },
      { op: "test", path: "/foo/1", value: 2 },
    ],
    expected: { baz: "qux", foo: ["a", 2, "c"] },
  },
  {
    name: "A.9 testing a value: error",
    doc: { baz: "qux" },
    patch: [{ op: "test", path: "/baz", value: "bar" }],
    error: 409,
  },
  {
    name: "A.10 adding a nested member object",
    doc: { foo: "bar" },
    patch: [{ op: "add", path: "/child", value: { grandchild: {} } }],
    expected: { foo: "bar", child: { grandchild: {} } },
  },
  {
    name: "A.11 ignoring unrecognized elements",
    doc: { foo: "bar" },
    patch: [{ op: "add", path: "/baz", value: "qux", xyz: 123 }],
    expected: { foo: "bar", baz: "qux" },
  },
  {
    name: "A.12 adding to a nonexistent target",
    doc: { foo: "bar" },
    patch: [{ op: "add", path: "/baz/bat", value: "qux" }],
    error: 400,
  },
  {
    name: "A.14 ~ escape ordering",
    doc: { "/": 9, "~1": 10 },
    patch: [{ op: "test", path: "/~01", value: 10 }],
    expected: { "/": 9, "~1": 10 },
  },
  {
    name: "A.15 comparing strings and numbers",
    doc: { "/": 9, "~1": 10 },
    patch: [{ op: "test", path: "/~01", value: "10" }],
    error: 409,
  },
  {
    name: "A.16 adding an array value",
    doc: { foo: ["bar"] },
    patch: [{ op: "add", path: "/foo/-", value: ["abc", "def"] }],
    expected: { foo: ["bar", ["abc", "def"]] },
  },
  {
    name: "an empty patch is valid",
    doc: { foo: "bar" },
    patch: [],
    expected: { foo: "bar" },
  },
];

for (const ex of examples) {
  Deno.test(`RFC 6902 ${ex.name}`, async () => {
    const rt = await memoryRuntime();
    try {
      const s = await rt.create("default", { state: ex.doc });
      const ops = ex.patch as unknown as PatchOperation[];
      if (ex.error !== undefined) {
        await assert.rejects(
          rt.patch(s.id, ops),
          (e) => e instanceof DenizenError && e.status === ex.error,
        );
      } else {
        await rt.patch(s.id, ops);
      }
      const after = await rt.get(s.id);
      assert.deepEqual(after.state, ex.expected ?? ex.doc, "an error leaves the state untouched");
      const changed = ex.error === undefined &&
        JSON.stringify(ex.expected) !== JSON.stringify(ex.doc);
      assert.equal(after.version, changed ? 2 : 1, "a patch that changes nothing commits nothing");
    } finally {
      await rt.close();
    }
  });
}
