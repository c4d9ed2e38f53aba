/**
 * The page of `GET /docs`: fetches `/v1/openapi.json` (with the tab's
 * token, asking for one on a 401) and renders it: the description, every
 * operation by tag with its parameters, body and answers, the WebSocket
 * frames, and the named schemas. No dependency and no network but this
 * server; everything is built as DOM nodes (no HTML from the document is
 * ever parsed).
 *
 * @module
 */

/** The key the inspector (`/ui`) keeps the token under, so one login serves both. */
const TOKEN_KEY = "denizen.token";
const METHODS = ["get", "put", "post", "patch", "delete", "head", "options"];
const MAX_DEPTH = 6;

/** @typedef {Record<string, any>} Json */

/**
 * An element with attributes and children; strings become text nodes.
 *
 * @param {string} tag
 * @param {Record<string, string>} [attrs]
 * @param {(Node | string | null | undefined)[]} [children]
 * @returns {HTMLElement}
 */
function h(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

/** @returns {string} */
function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? "";
  } catch {
    return "";
  }
}

/**
 * Inline markdown: `code` and **bold**; everything else is text.
 *
 * @param {string} text
 * @returns {Node[]}
 */
function inline(text) {
  /** @type {Node[]} */
  const out = [];
  const re = /`([^`]+)`|\*\*([^*]+)\*\*/g;
  let at = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > at) out.push(document.createTextNode(text.slice(at, m.index)));
    out.push(m[1] !== undefined ? h("code", {}, [m[1]]) : h("strong", {}, [m[2]]));
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(document.createTextNode(text.slice(at)));
  return out;
}

/**
 * Block markdown: paragraphs, and pipe tables (as the WebSocket route's
 * description has).
 *
 * @param {string | undefined} text
 * @returns {HTMLElement}
 */
function markdown(text) {
  const box = h("div", { class: "md" });
  for (const block of (text ?? "").split(/\n\s*\n/)) {
    const lines = block.trim().split("\n");
    if (lines.length >= 2 && lines.every((l) => l.trim().startsWith("|"))) {
      const cells = (/** @type {string} */ l) => l.trim().replace(/^\||\|$/g, "").split("|");
      const head = h("tr", {}, cells(lines[0]).map((c) => h("th", {}, inline(c.trim()))));
      const rows = lines.slice(2).map((l) =>
        h("tr", {}, cells(l).map((c) => h("td", {}, inline(c.trim()))))
      );
      box.append(h("table", {}, [h("thead", {}, [head]), h("tbody", {}, rows)]));
    } else if (block.trim() !== "") {
      box.append(h("p", {}, inline(block.trim())));
    }
  }
  return box;
}

/**
 * A schema's name when it is a reference to `#/components/schemas/…`.
 *
 * @param {Json} schema
 * @returns {string | undefined}
 */
function refName(schema) {
  const ref = schema?.$ref;
  return typeof ref === "string" ? ref.replace("#/components/schemas/", "") : undefined;
}

/**
 * The constraints of a schema, as short words.
 *
 * @param {Json} s
 * @returns {string[]}
 */
function constraints(s) {
  /** @type {string[]} */
  const out = [];
  const words = {
    format: (/** @type {unknown} */ v) => `${v}`,
    pattern: (/** @type {unknown} */ v) => `matches ${v}`,
    minLength: (/** @type {unknown} */ v) => `≥ ${v} chars`,
    maxLength: (/** @type {unknown} */ v) => `≤ ${v} chars`,
    minimum: (/** @type {unknown} */ v) => `≥ ${v}`,
    maximum: (/** @type {unknown} */ v) => `≤ ${v}`,
    exclusiveMinimum: (/** @type {unknown} */ v) => `> ${v}`,
    exclusiveMaximum: (/** @type {unknown} */ v) => `< ${v}`,
    minItems: (/** @type {unknown} */ v) => `≥ ${v} items`,
    maxItems: (/** @type {unknown} */ v) => `≤ ${v} items`,
  };
  for (const [k, word] of Object.entries(words)) {
    if (s[k] !== undefined && !(k === "maximum" && s[k] === Number.MAX_SAFE_INTEGER)) {
      out.push(word(s[k]));
    }
  }
  if (s.additionalProperties === false) out.push("no other fields");
  return out;
}

/**
 * A one-line type of a schema: `string`, `array of Task`, `"a" | "b"`, …
 *
 * @param {Json} s
 * @returns {Node[]}
 */
function typeLine(s) {
  const name = refName(s);
  if (name) return [h("a", { href: `#schema-${name}`, class: "ref" }, [name])];
  if (s.const !== undefined) return [h("code", {}, [JSON.stringify(s.const)])];
  if (Array.isArray(s.enum)) {
    return [
      h("code", {}, [s.enum.map((/** @type {unknown} */ v) => JSON.stringify(v)).join(" | ")]),
    ];
  }
  if (s.type === "array") return ["array of ", ...typeLine(s.items ?? {})];
  const alt = s.oneOf ?? s.anyOf ?? s.allOf;
  if (Array.isArray(alt)) {
    const word = s.allOf ? " and " : " or ";
    /** @type {Node[]} */
    const out = [];
    alt.forEach((/** @type {Json} */ a, /** @type {number} */ i) => {
      if (i > 0) out.push(document.createTextNode(word));
      out.push(...typeLine(a));
    });
    return out;
  }
  if (s.type === "object" && !s.properties && s.additionalProperties) {
    const value = s.additionalProperties === true ? {} : s.additionalProperties;
    return ["map of ", ...typeLine(value)];
  }
  const t = Array.isArray(s.type) ? s.type.join(" | ") : s.type;
  return [t ?? "any JSON"];
}

/**
 * A schema, in full: its type line, constraints and description, and for
 * an object a table of its fields (nested ones in turn, to a depth).
 *
 * @param {Json} s
 * @param {number} [depth]
 * @returns {HTMLElement}
 */
function schemaView(s, depth = 0) {
  const box = h("div", { class: "schema" });
  if (!s || typeof s !== "object") return box;
  const fields = s.properties ? Object.entries(s.properties) : [];
  if (fields.length === 0 || refName(s)) {
    box.append(h("div", { class: "type" }, typeLine(s)));
    const c = constraints(s);
    if (c.length > 0) box.append(h("div", { class: "muted" }, [c.join(", ")]));
    if (s.description) box.append(markdown(s.description));
    const alt = s.oneOf ?? s.anyOf ?? s.allOf;
    if (Array.isArray(alt) && depth < MAX_DEPTH && alt.some((a) => a.properties)) {
      const list = h("ol", { class: "alternatives" });
      for (const a of alt) list.append(h("li", {}, [schemaView(a, depth + 1)]));
      box.append(list);
    }
    if (s.type === "array" && s.items?.properties && depth < MAX_DEPTH) {
      box.append(schemaView(s.items, depth + 1));
    }
    return box;
  }
  if (s.description) box.append(markdown(s.description));
  const required = new Set(s.required ?? []);
  const rows = fields.map(([name, f]) => {
    const nested = depth < MAX_DEPTH &&
      (f.properties || (f.type === "array" && f.items?.properties) ||
        (f.oneOf ?? f.anyOf ?? f.allOf)?.some((/** @type {Json} */ a) => a.properties));
    return h("tr", {}, [
      h("td", {}, [
        h("code", {}, [name]),
        required.has(name) ? h("span", { class: "req" }, ["*"]) : null,
      ]),
      h("td", {}, [
        h("div", { class: "type" }, typeLine(f)),
        constraints(f).length > 0
          ? h("div", { class: "muted" }, [constraints(f).join(", ")])
          : null,
        f.description ? markdown(f.description) : null,
        nested ? h("details", {}, [h("summary", {}, ["fields"]), schemaView(f, depth + 1)]) : null,
      ]),
    ]);
  });
  box.append(h("table", { class: "fields" }, [h("tbody", {}, rows)]));
  const c = constraints(s);
  if (c.length > 0) box.append(h("div", { class: "muted" }, [c.join(", ")]));
  return box;
}

/**
 * A JSON example.
 *
 * @param {unknown} value
 * @returns {HTMLElement}
 */
function example(value) {
  return h("details", { class: "example" }, [
    h("summary", {}, ["example"]),
    h("pre", {}, [JSON.stringify(value, null, 2)]),
  ]);
}

/**
 * A media type map (`content`), each with its schema and example.
 *
 * @param {Json | undefined} content
 * @returns {HTMLElement[]}
 */
function contentView(content) {
  return Object.entries(content ?? {}).map(([type, media]) =>
    h("div", { class: "media" }, [
      h("div", { class: "muted" }, [type]),
      schemaView(media.schema ?? {}),
      media.example !== undefined ? example(media.example) : null,
    ])
  );
}

/**
 * One operation, folded: its method, path and summary; unfolded, the rest.
 *
 * @param {string} path
 * @param {string} method
 * @param {Json} op
 * @param {Json} doc
 * @returns {HTMLElement}
 */
function operation(path, method, op, doc) {
  const id = `op-${method}-${path}`;
  const open = Array.isArray(op.security) && op.security.length === 0;
  const body = h("div", { class: "op-body" }, [
    markdown(op.description),
    h("p", { class: "muted" }, [
      open
        ? "Needs no token."
        : doc.security
        ? "Needs the bearer token when the server has one."
        : "",
    ]),
  ]);
  const params = op.parameters ?? [];
  if (params.length > 0) {
    const rows = params.map((/** @type {Json} */ p) =>
      h("tr", {}, [
        h("td", {}, [
          h("code", {}, [p.name]),
          p.required ? h("span", { class: "req" }, ["*"]) : null,
        ]),
        h("td", { class: "muted" }, [p.in]),
        h("td", {}, [
          schemaView({ ...p.schema, description: p.description ?? p.schema?.description }),
        ]),
      ])
    );
    body.append(
      h("h4", {}, ["Parameters"]),
      h("table", { class: "fields" }, [h("tbody", {}, rows)]),
    );
  }
  if (op.requestBody) {
    body.append(
      h("h4", {}, [`Body${op.requestBody.required ? "" : " (optional)"}`]),
      op.requestBody.description ? markdown(op.requestBody.description) : "",
      ...contentView(op.requestBody.content),
    );
  }
  body.append(h("h4", {}, ["Answers"]));
  for (const [status, res] of Object.entries(op.responses ?? {})) {
    body.append(h("div", { class: `answer s${status[0]}` }, [
      h("div", {}, [h("strong", {}, [status]), " ", ...inline(res.description ?? "")]),
      ...contentView(res.content),
    ]));
  }
  if (op["x-websocket"]) {
    body.append(
      h("h4", {}, ["x-websocket"]),
      h("pre", {}, [JSON.stringify(op["x-websocket"], null, 2)]),
    );
  }
  return h("details", {
    class: "op",
    id,
    "data-text": `${method} ${path} ${op.summary ?? ""}`.toLowerCase(),
  }, [
    h("summary", {}, [
      h("span", { class: `method ${method}` }, [method.toUpperCase()]),
      h("code", { class: "path" }, [path]),
      h("span", { class: "summary" }, [op.summary ?? ""]),
    ]),
    body,
  ]);
}

/**
 * Renders the whole document into the page.
 *
 * @param {Json} doc
 */
function render(doc) {
  const main = /** @type {HTMLElement} */ (document.getElementById("main"));
  const side = /** @type {HTMLElement} */ (document.getElementById("side"));
  document.title = `${doc.info?.title ?? "API"} ${doc.info?.version ?? ""}`;
  /** @type {HTMLElement} */ (document.getElementById("version")).textContent = `${
    doc.info?.version ?? ""
  } · OpenAPI ${doc.openapi}`;
  main.replaceChildren(h("h1", {}, [doc.info?.title ?? "API"]), markdown(doc.info?.description));
  side.replaceChildren();
  /** @type {Map<string, [string, string, Json][]>} */
  const byTag = new Map((doc.tags ?? []).map((/** @type {Json} */ t) => [t.name, []]));
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? "other";
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)?.push([path, method, op]);
    }
  }
  const tagInfo = new Map((doc.tags ?? []).map((/** @type {Json} */ t) => [t.name, t.description]));
  for (const [tag, ops] of byTag) {
    if (ops.length === 0) continue;
    const section = h("section", { id: `tag-${tag}` }, [
      h("h2", {}, [tag]),
      markdown(tagInfo.get(tag)),
    ]);
    const links = h("ul", {});
    for (const [path, method, op] of ops) {
      section.append(operation(path, method, op, doc));
      links.append(h("li", {}, [
        h("a", { href: `#op-${method}-${path}` }, [
          h("span", { class: `method ${method}` }, [method.toUpperCase()]),
          ` ${path}`,
        ]),
      ]));
    }
    main.append(section);
    side.append(h("h3", {}, [h("a", { href: `#tag-${tag}` }, [tag])]), links);
  }
  const schemas = Object.entries(doc.components?.schemas ?? {});
  if (schemas.length > 0) {
    const section = h("section", { id: "schemas" }, [h("h2", {}, ["Schemas"])]);
    for (const [name, s] of schemas) {
      section.append(
        h("div", { class: "named", id: `schema-${name}` }, [h("h3", {}, [name]), schemaView(s)]),
      );
    }
    main.append(section);
    side.append(h("h3", {}, [h("a", { href: "#schemas" }, ["schemas"])]));
  }
  openHash();
}

/** Unfolds the operation the URL's hash names, and scrolls to it. */
function openHash() {
  const target = location.hash
    ? document.getElementById(decodeURIComponent(location.hash.slice(1)))
    : null;
  if (target instanceof HTMLDetailsElement) target.open = true;
  target?.scrollIntoView();
}

/** Hides the operations that do not match the filter. */
function filter() {
  const input = /** @type {HTMLInputElement} */ (document.getElementById("filter"));
  const words = input.value.toLowerCase().split(/\s+/).filter((w) => w !== "");
  for (const op of document.querySelectorAll("details.op")) {
    const text = op.getAttribute("data-text") ?? "";
    /** @type {HTMLElement} */ (op).hidden = !words.every((w) => text.includes(w));
  }
}

/** Fetches the document; on a 401 asks for the token and tries again. */
async function load() {
  const main = /** @type {HTMLElement} */ (document.getElementById("main"));
  const form = /** @type {HTMLFormElement} */ (document.getElementById("token-form"));
  const t = token();
  const res = await fetch(
    "/v1/openapi.json",
    t ? { headers: { Authorization: `Bearer ${t}` } } : {},
  );
  if (res.status === 401) {
    const error = /** @type {HTMLElement} */ (document.getElementById("token-error"));
    error.hidden = t === "";
    error.textContent = t === "" ? "" : "That token was refused.";
    form.hidden = false;
    main.replaceChildren();
    /** @type {HTMLInputElement} */ (document.getElementById("token")).focus();
    return;
  }
  if (!res.ok) {
    main.replaceChildren(
      h("p", { class: "notice" }, [`The document could not be read: ${res.status}`]),
    );
    return;
  }
  form.hidden = true;
  render(await res.json());
}

document.getElementById("token-form")?.addEventListener("submit", (e) => {
  e.preventDefault();
  const input = /** @type {HTMLInputElement} */ (document.getElementById("token"));
  try {
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
  } catch {
    // storage refused (private mode): nothing to keep the token in
  }
  void load();
});
document.getElementById("filter")?.addEventListener("input", filter);
addEventListener("hashchange", openHash);
void load().catch((error) => {
  const main = /** @type {HTMLElement} */ (document.getElementById("main"));
  main.replaceChildren(h("p", { class: "notice" }, [`The document could not be read: ${error}`]));
});
