/**
 * Canonical JSON: `JSON.stringify` with every object's keys in sorted order,
 * so equal values always give equal bytes.
 *
 * @module
 */

/**
 * Serializes `value` with sorted object keys and no whitespace.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }); // '{"a":[{"c":3,"d":2}],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, _sortKeys) ?? "null";
}

function _sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const source = value as Record<string, unknown>;
  // fromEntries defines own properties, so a "__proto__" key stays data.
  return Object.fromEntries(Object.keys(source).sort().map((k) => [k, source[k]]));
}
