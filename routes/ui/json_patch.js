/**
 * RFC 6902 JSON Patch, applied in place, for the page's mirror of a
 * session's state. The server has validated every op it sends, so an op
 * that does not apply means the mirror diverged: it throws, and the page
 * asks for a fresh snapshot.
 *
 * @module
 */

/**
 * The segments of a JSON Pointer ("" is the root, `[]`).
 *
 * @param {string} pointer
 * @returns {string[]}
 */
export function parsePointer(pointer) {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new Error(`Bad JSON Pointer '${pointer}'`);
  return pointer.slice(1).split("/").map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/**
 * A JSON Pointer from segments.
 *
 * @param {readonly (string | number)[]} segments
 * @returns {string}
 */
export function toPointer(segments) {
  return segments.map((s) => "/" + String(s).replaceAll("~", "~0").replaceAll("/", "~1")).join("");
}

/**
 * Applies `ops` to `doc` in place; returns the document (a new one when the
 * root was replaced).
 *
 * @param {unknown} doc
 * @param {readonly {op: string, path: string, from?: string, value?: unknown}[]} ops
 * @returns {unknown}
 */
export function applyOps(doc, ops) {
  for (const op of ops) doc = applyOp(doc, op);
  return doc;
}

/**
 * @param {unknown} doc
 * @param {{op: string, path: string, from?: string, value?: unknown}} op
 * @returns {unknown}
 */
function applyOp(doc, op) {
  switch (op.op) {
    case "add":
      return add(doc, parsePointer(op.path), clone(op.value));
    case "remove":
      return remove(doc, parsePointer(op.path)).doc;
    case "replace": {
      const path = parsePointer(op.path);
      if (path.length === 0) return clone(op.value);
      get(doc, path); // must exist
      return add(remove(doc, path).doc, path, clone(op.value));
    }
    case "move": {
      const from = parsePointer(op.from ?? "");
      const taken = remove(doc, from);
      return add(taken.doc, parsePointer(op.path), taken.value);
    }
    case "copy":
      return add(doc, parsePointer(op.path), clone(get(doc, parsePointer(op.from ?? ""))));
    case "test":
      return doc;
    default:
      throw new Error(`Unknown op '${op.op}'`);
  }
}

/**
 * @param {unknown} value
 * @returns {unknown}
 */
function clone(value) {
  return value === undefined ? undefined : structuredClone(value);
}

/**
 * @param {unknown} doc
 * @param {string[]} path
 * @returns {unknown}
 */
function get(doc, path) {
  let node = doc;
  for (const key of path) {
    if (Array.isArray(node)) {
      const i = index(key, node.length - 1);
      node = node[i];
    } else if (node !== null && typeof node === "object" && Object.hasOwn(node, key)) {
      node = /** @type {Record<string, unknown>} */ (node)[key];
    } else throw new Error(`No value at '${toPointer(path)}'`);
  }
  return node;
}

/**
 * @param {unknown} doc
 * @param {string[]} path
 * @param {unknown} value
 * @returns {unknown}
 */
function add(doc, path, value) {
  if (path.length === 0) return value;
  const parent = get(doc, path.slice(0, -1));
  const key = path[path.length - 1];
  if (Array.isArray(parent)) {
    const i = key === "-" ? parent.length : index(key, parent.length);
    parent.splice(i, 0, value);
  } else if (parent !== null && typeof parent === "object") {
    /** @type {Record<string, unknown>} */ (parent)[key] = value;
  } else throw new Error(`Cannot add at '${toPointer(path)}'`);
  return doc;
}

/**
 * @param {unknown} doc
 * @param {string[]} path
 * @returns {{doc: unknown, value: unknown}}
 */
function remove(doc, path) {
  if (path.length === 0) return { doc: undefined, value: doc };
  const parent = get(doc, path.slice(0, -1));
  const key = path[path.length - 1];
  if (Array.isArray(parent)) {
    const i = index(key, parent.length - 1);
    return { doc, value: parent.splice(i, 1)[0] };
  }
  if (parent !== null && typeof parent === "object" && Object.hasOwn(parent, key)) {
    const record = /** @type {Record<string, unknown>} */ (parent);
    const value = record[key];
    delete record[key];
    return { doc, value };
  }
  throw new Error(`No value at '${toPointer(path)}'`);
}

/**
 * @param {string} key
 * @param {number} max
 * @returns {number}
 */
function index(key, max) {
  if (!/^(0|[1-9]\d*)$/.test(key)) throw new Error(`Bad array index '${key}'`);
  const i = Number(key);
  if (i > max) throw new Error(`Array index ${i} out of range`);
  return i;
}
