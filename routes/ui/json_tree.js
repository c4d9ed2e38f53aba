/**
 * A collapsible JSON tree. Only open nodes are drawn, and a large object or
 * array shows its first children with a "show more" button, so a 512 KiB
 * state stays quick. What the last change touched is highlighted: the
 * changed node itself, and a dot on each collapsed ancestor that holds a
 * change.
 *
 * @module
 */
import { h } from "./dom.js";
import { parsePointer, toPointer } from "./json_patch.js";

/** Children drawn at first per node, and per "show more". */
const PAGE = 100;
/** Nodes below the root open by themselves only up to this many children. */
const AUTO_OPEN_MAX = 20;
/** Characters of a string shown before it is cut. */
const MAX_STRING = 400;

export class JsonTree {
  /** Pointers of open nodes. @type {Set<string>} */
  #open = new Set([""]);
  /** Children shown per node, past the first page. @type {Map<string, number>} */
  #shown = new Map();
  /** Pointers a change touched. @type {Set<string>} */
  #exact = new Set();
  /** Pointers that hold a touched node. @type {Set<string>} */
  #within = new Set();
  /** "Expand" was pressed: large nodes open too. */
  #expanded = false;
  #flashSeq = 0;
  #drawnSeq = 0;
  /** @type {unknown} */
  #value;

  /** @param {{depth?: number}} [opts] how many levels start open */
  constructor(opts = {}) {
    this.depth = opts.depth ?? 1;
    this.el = h("div", { class: "json-tree", role: "tree" });
    this.el.addEventListener("click", (e) => this.#click(e));
  }

  /**
   * Draws `value`, highlighting what `change` touched.
   *
   * @param {unknown} value
   * @param {import("./session_mirror.js").Change | undefined} change
   */
  render(value, change) {
    this.#value = value;
    this.#exact.clear();
    this.#within.clear();
    if (change) {
      this.#flashSeq = change.seq;
      for (const op of change.ops) {
        this.#mark(op.path, op.op === "remove");
        if (op.op === "move" && op.from !== undefined) this.#mark(op.from, true);
      }
    }
    this.#draw();
  }

  #draw() {
    const flash = this.#flashSeq !== this.#drawnSeq;
    this.#drawnSeq = this.#flashSeq;
    const root = this.#node("", "", this.#value, 0, flash);
    this.el.replaceChildren(root);
  }

  /**
   * @param {string} pointer
   * @param {boolean} gone the node no longer exists: its parent changed
   */
  #mark(pointer, gone) {
    let segs;
    try {
      segs = parsePointer(pointer);
    } catch {
      return;
    }
    if (segs[segs.length - 1] === "-") segs = segs.slice(0, -1);
    const target = gone ? segs.slice(0, -1) : segs;
    this.#exact.add(toPointer(target));
    for (let i = 0; i < target.length; i++) this.#within.add(toPointer(target.slice(0, i)));
    if (gone) this.#within.add(toPointer(target));
  }

  /**
   * @param {string} pointer
   * @param {string} label
   * @param {unknown} value
   * @param {number} depth
   * @param {boolean} flash
   * @returns {HTMLElement}
   */
  #node(pointer, label, value, depth, flash) {
    const changed = this.#exact.has(pointer);
    const cls = `jt-node${changed ? " jt-changed" : ""}${changed && flash ? " jt-flash" : ""}`;
    const key = label === "" ? null : h("span", { class: "jt-key", text: label });
    if (value === null || typeof value !== "object") {
      return h(
        "div",
        { class: cls, role: "treeitem", dataset: { path: pointer } },
        h("span", { class: "jt-toggle jt-leaf" }),
        key,
        key ? h("span", { class: "jt-colon", text: ": " }) : null,
        leaf(value),
      );
    }
    const isArray = Array.isArray(value);
    const entries = isArray ? null : Object.keys(value);
    const size = isArray ? value.length : /** @type {string[]} */ (entries).length;
    const open = this.#isOpen(pointer, depth, size);
    const within = this.#within.has(pointer);
    const row = h(
      "div",
      { class: "jt-row" },
      h("button", {
        type: "button",
        class: "jt-toggle",
        "aria-expanded": String(open),
        "aria-label": open ? "Collapse" : "Expand",
        dataset: { toggle: pointer },
        text: open ? "▾" : "▸",
      }),
      key,
      key ? h("span", { class: "jt-colon", text: ": " }) : null,
      h("span", {
        class: "jt-summary",
        text: isArray
          ? `[${size} item${size === 1 ? "" : "s"}]`
          : `{${size} key${size === 1 ? "" : "s"}}`,
      }),
      within && !open ? h("span", { class: "jt-dot", title: "Changed inside" }) : null,
    );
    const node = h("div", {
      class: cls,
      role: "treeitem",
      "aria-expanded": String(open),
      dataset: { path: pointer },
    }, row);
    if (!open) return node;
    const limit = this.#shown.get(pointer) ?? PAGE;
    const kids = h("div", { class: "jt-children", role: "group" });
    const n = Math.min(size, limit);
    for (let i = 0; i < n; i++) {
      const k = isArray ? String(i) : /** @type {string[]} */ (entries)[i];
      const child = /** @type {Record<string, unknown>} */ (value)[k];
      kids.appendChild(this.#node(`${pointer}/${escape(k)}`, k, child, depth + 1, flash));
    }
    if (size > n) {
      kids.appendChild(h("button", {
        type: "button",
        class: "link jt-more",
        dataset: { more: pointer },
        text: `show ${Math.min(PAGE * 5, size - n)} more of ${size - n}`,
      }));
    }
    node.appendChild(kids);
    return node;
  }

  /**
   * Open when the person opened it, else when it is shallow and (below the
   * root) small enough to read at a glance.
   *
   * @param {string} pointer
   * @param {number} depth
   * @param {number} size
   */
  #isOpen(pointer, depth, size) {
    if (this.#open.has(pointer)) return true;
    if (this.#open.has(`!${pointer}`)) return false;
    return depth < this.depth && (depth === 0 || this.#expanded || size <= AUTO_OPEN_MAX);
  }

  /** @param {Event} e */
  #click(e) {
    const t = /** @type {HTMLElement} */ (e.target);
    const toggle = t.closest("[data-toggle]");
    if (toggle instanceof HTMLElement) {
      const p = toggle.dataset.toggle ?? "";
      const open = toggle.getAttribute("aria-expanded") === "true";
      this.#open.delete(p);
      this.#open.delete(`!${p}`);
      this.#open.add(open ? `!${p}` : p);
      this.#draw();
      return;
    }
    const more = t.closest("[data-more]");
    if (more instanceof HTMLElement) {
      const p = more.dataset.more ?? "";
      this.#shown.set(p, (this.#shown.get(p) ?? PAGE) + PAGE * 5);
      this.#draw();
    }
  }

  /** Opens every node down to `depth` levels and draws again. */
  expandAll(depth = 4) {
    this.#open.clear();
    this.#expanded = true;
    this.depth = depth;
    this.#draw();
  }

  /** Closes everything but the root. */
  collapseAll() {
    this.#open = new Set([""]);
    this.#expanded = false;
    this.depth = 1;
    this.#draw();
  }
}

/**
 * @param {string} key
 * @returns {string}
 */
function escape(key) {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}

/**
 * @param {unknown} value
 * @returns {HTMLElement}
 */
function leaf(value) {
  if (typeof value === "string") {
    const cut = value.length > MAX_STRING;
    return h("span", {
      class: "jt-string",
      title: cut ? `${value.length} characters` : null,
      text: JSON.stringify(cut ? value.slice(0, MAX_STRING) : value) + (cut ? "…" : ""),
    });
  }
  if (typeof value === "number") return h("span", { class: "jt-number", text: String(value) });
  if (typeof value === "boolean") return h("span", { class: "jt-bool", text: String(value) });
  if (value === null) return h("span", { class: "jt-null", text: "null" });
  return h("span", { class: "jt-null", text: String(value) });
}
