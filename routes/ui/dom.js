/**
 * DOM helpers: `h` builds elements, `ask` opens a modal dialog that
 * confirms or asks for a value, `toast` shows a short notice; and the small
 * widgets every view uses (progress bar, status pill, the "Decide as" name
 * field). Text always goes in as text nodes, never as HTML.
 *
 * @module
 */
import { decider, setDecider } from "./api.js";

/**
 * Creates an element. `props` sets `class`, `text`, `dataset`, `style`
 * (an object), `on<event>` listeners and any other attribute or property;
 * children may be nodes, strings, numbers, arrays, or null and false (left out).
 *
 * @param {string} tag
 * @param {Record<string, unknown> | null} [props]
 * @param {...unknown} children
 * @returns {HTMLElement}
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || (value === false && !(key in el))) continue;
    if (key === "class") el.className = String(value);
    else if (key === "text") el.textContent = String(value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style") Object.assign(el.style, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    } else if (key in el && typeof value !== "string") {
      /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (el))[key] = value;
    } else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/**
 * Appends children as `h` takes them.
 *
 * @param {Node} el
 * @param {unknown[]} children
 */
function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/**
 * Replaces an element's children.
 *
 * @param {Element} el
 * @param {...unknown} children
 */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * Opens a modal dialog. With `input`, resolves to the text entered (or null
 * when cancelled); without, to true or false. `confirmText` makes the person
 * type that text before a destructive action is allowed.
 *
 * @param {{title: string, message?: string, action?: string, danger?: boolean,
 *   input?: {label: string, value?: string, required?: boolean, multiline?: boolean},
 *   confirmText?: string}} opts
 * @returns {Promise<boolean | string | null>}
 */
export function ask(opts) {
  return new Promise((resolve) => {
    /** @type {HTMLInputElement | HTMLTextAreaElement | undefined} */
    let field;
    if (opts.input) {
      field = opts.input.multiline
        ? /** @type {HTMLTextAreaElement} */ (h("textarea", { rows: 4, name: "value" }))
        : /** @type {HTMLInputElement} */ (h("input", { type: "text", name: "value" }));
      field.value = opts.input.value ?? "";
      if (opts.input.required) field.required = true;
    } else if (opts.confirmText) {
      field = /** @type {HTMLInputElement} */ (h("input", {
        type: "text",
        name: "confirm",
        autocomplete: "off",
        spellcheck: false,
      }));
    }
    const ok = h("button", {
      type: "submit",
      class: opts.danger ? "danger" : "primary",
      value: "ok",
      dataset: { role: "confirm" },
      text: opts.action ?? "OK",
    });
    const cancel = h("button", {
      type: "button",
      class: "ghost",
      dataset: { role: "cancel" },
      text: "Cancel",
    });
    const label = opts.input
      ? h("label", { class: "field" }, h("span", { text: opts.input.label }), field)
      : opts.confirmText
      ? h(
        "label",
        { class: "field" },
        h("span", null, "Type ", h("code", { text: opts.confirmText }), " to confirm"),
        field,
      )
      : null;
    const form = h(
      "form",
      { method: "dialog" },
      h("h2", { text: opts.title }),
      opts.message ? h("p", { text: opts.message }) : null,
      label,
      h("div", { class: "dialog-buttons" }, cancel, ok),
    );
    const dialog = /** @type {HTMLDialogElement} */ (h("dialog", { class: "modal" }, form));
    if (opts.confirmText && field) {
      /** @type {HTMLButtonElement} */ (ok).disabled = true;
      field.addEventListener("input", () => {
        /** @type {HTMLButtonElement} */ (ok).disabled = field?.value !== opts.confirmText;
      });
    }
    let answered = false;
    /** @param {boolean | string | null} value */
    const done = (value) => {
      if (answered) return;
      answered = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    cancel.addEventListener("click", () => done(opts.input ? null : false));
    dialog.addEventListener("cancel", () => done(opts.input ? null : false));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (opts.input) {
        if (opts.input.required && !field?.value.trim()) return;
        done(field?.value ?? "");
      } else done(true);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    (field ?? ok).focus();
  });
}

/**
 * Shows a notice for a few seconds.
 *
 * @param {string} text
 * @param {"info" | "error"} [kind]
 */
export function toast(text, kind = "info") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const el = h(
    "div",
    { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" },
    text,
  );
  box.appendChild(el);
  setTimeout(() => el.remove(), kind === "error" ? 6000 : 3000);
}

/**
 * Calls `fn` at most once per animation frame, however often it is asked.
 *
 * @param {() => void} fn
 * @returns {() => void}
 */
export function perFrame(fn) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      fn();
    });
  };
}

/**
 * Calls `fn` at most every `ms`, the last call not lost.
 *
 * @param {() => void} fn
 * @param {number} ms
 * @returns {(() => void) & {cancel(): void}}
 */
export function throttle(fn, ms) {
  let last = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const run = () => {
    timer = undefined;
    last = Date.now();
    fn();
  };
  const call = () => {
    if (timer !== undefined) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(run, wait);
  };
  return Object.assign(call, { cancel: () => clearTimeout(timer) });
}

/**
 * A progress bar with its percentage.
 *
 * @param {number} value from 0 to 1
 * @param {string} [label]
 * @returns {HTMLElement}
 */
export function progressBar(value, label) {
  const pct = Math.round(Math.max(0, Math.min(1, Number(value) || 0)) * 100);
  return h(
    "span",
    { class: "progress", title: label ?? `${pct}%` },
    h("span", {
      class: "progress-track",
      role: "progressbar",
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      "aria-valuenow": String(pct),
    }, h("span", { class: "progress-fill", style: { width: `${pct}%` } })),
    h("span", { class: "progress-text", text: `${pct}%` }),
  );
}

/**
 * A status pill.
 *
 * @param {string} status
 * @returns {HTMLElement}
 */
export function statusPill(status) {
  return h("span", { class: `pill status-${status}`, text: status });
}

/**
 * A "Decide as" / "Claim as" field bound to the name kept in localStorage.
 *
 * @param {string} label
 * @returns {HTMLElement}
 */
export function nameField(label) {
  const input = /** @type {HTMLInputElement} */ (h("input", {
    type: "text",
    class: "name-input",
    name: "as",
    value: decider(),
    maxlength: "128",
    spellcheck: false,
    "aria-label": label,
  }));
  input.addEventListener("change", () => {
    const v = input.value.trim();
    if (/^[A-Za-z0-9_.:@-]{1,128}$/.test(v)) setDecider(v);
    else {
      toast("Names are 1-128 of letters, digits and _.:@-", "error");
      input.value = decider();
    }
  });
  return h("label", { class: "inline-field" }, h("span", { text: label }), input);
}
