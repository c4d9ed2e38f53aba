/**
 * The event timeline of a session, newest first: live events from the
 * socket, older ones paged in from `GET /v1/sessions/:id/events?after=&limit=`
 * as the list is scrolled. Rows have one fixed height and only those in view
 * are in the DOM, so 10,000 events scroll as smoothly as ten. Filters by type
 * and agent; a click shows the event in full.
 *
 * @module
 */
import { api, seg } from "./api.js";
import { h, perFrame } from "./dom.js";
import { bytes, clock, pretty, short } from "./format.js";

const ROW = 28;
const OVERSCAN = 8;
const PAGE = 500;
const FIRST_PAGE = 200;
/** Events a page keeps in memory at most; older ones are dropped and paged in again on demand. */
const MAX_KEPT = 20_000;

/** @typedef {import("./session_socket.js").EventFrame} EventFrame */

export class Timeline {
  /** Events by seq, ascending in `#list`. @type {Map<number, EventFrame>} */
  #bySeq = new Map();
  /** @type {EventFrame[]} */
  #list = [];
  /** Newest first, after the filters. @type {EventFrame[]} */
  #view = [];
  /** @type {Set<string>} */
  #types = new Set();
  /** @type {Set<string>} */
  #agents = new Set();
  #loading = false;
  /** Seq of the oldest event loaded; 1 means all of history is here. */
  #oldest = Infinity;
  /** @type {number | undefined} */
  #selected;
  #dirtyView = true;
  #disposed = false;

  /** @param {string} session */
  constructor(session) {
    this.session = session;
    this.typeSelect = /** @type {HTMLSelectElement} */ (h(
      "select",
      { name: "type", "aria-label": "Event type", onchange: () => this.#refilter() },
      h("option", { value: "", text: "All types" }),
    ));
    this.agentSelect = /** @type {HTMLSelectElement} */ (h(
      "select",
      { name: "agent", "aria-label": "Agent", onchange: () => this.#refilter() },
      h("option", { value: "", text: "All agents" }),
    ));
    this.spacer = h("div", { class: "tl-spacer" });
    this.viewport = h("div", {
      class: "tl-viewport",
      tabindex: "0",
      role: "list",
      "aria-label": "Events, newest first",
    }, this.spacer);
    this.status = h("span", { class: "muted tl-status" });
    this.olderButton = /** @type {HTMLButtonElement} */ (h("button", {
      type: "button",
      class: "ghost small",
      text: "Load older",
      onclick: () => void this.loadOlder(),
    }));
    this.detail = h("pre", { class: "tl-detail", hidden: true });
    this.el = h(
      "div",
      { class: "timeline" },
      h(
        "div",
        { class: "toolbar" },
        this.typeSelect,
        this.agentSelect,
        this.status,
        this.olderButton,
      ),
      this.viewport,
      this.detail,
    );
    this.draw = perFrame(() => this.#draw());
    this.viewport.addEventListener("scroll", () => {
      this.draw();
      const nearEnd = this.viewport.scrollTop + this.viewport.clientHeight >
        this.spacer.offsetHeight - ROW * 20;
      if (nearEnd) void this.loadOlder();
    });
    this.viewport.addEventListener("click", (e) => {
      const row = /** @type {HTMLElement} */ (e.target).closest("[data-seq]");
      if (row instanceof HTMLElement) this.#select(Number(row.dataset.seq));
    });
  }

  /**
   * Loads the newest page of history up to `seq` (a fresh snapshot or the first open).
   *
   * @param {number} seq
   */
  async reset(seq) {
    this.#bySeq.clear();
    this.#list = [];
    this.#oldest = seq + 1;
    this.#dirtyView = true;
    if (seq > 0) await this.#page(Math.max(0, seq - FIRST_PAGE), Math.min(seq, FIRST_PAGE));
    this.draw();
  }

  /**
   * Adds live events.
   *
   * @param {EventFrame[]} events
   */
  push(events) {
    const top = this.viewport.scrollTop;
    this.#rebuildView();
    const before = this.#view.length;
    let added = 0;
    for (const e of events) if (this.#add(e)) added++;
    if (added === 0) return;
    if (this.#oldest === Infinity) this.#oldest = events[0].seq;
    if (this.#list.length > MAX_KEPT) this.#forgetOldest(this.#list.length - MAX_KEPT);
    this.#dirtyView = true;
    // Keep what the reader looks at in place while new rows arrive above it.
    if (top > ROW) {
      this.#rebuildView();
      this.spacer.style.height = `${this.#view.length * ROW}px`;
      this.viewport.scrollTop = top + (this.#view.length - before) * ROW;
    }
    this.draw();
  }

  /**
   * Drops the `n` oldest events from memory (a long-running live page); they
   * page in again from history if the reader scrolls that far.
   *
   * @param {number} n
   */
  #forgetOldest(n) {
    for (const e of this.#list.splice(0, n)) this.#bySeq.delete(e.seq);
    this.#oldest = this.#list[0]?.seq ?? Infinity;
  }

  /** Pages older history in, if there is any. */
  async loadOlder() {
    if (this.#loading || this.#oldest <= 1 || this.#disposed) return;
    const after = Math.max(0, this.#oldest - 1 - PAGE);
    await this.#page(after, this.#oldest - 1 - after);
    this.draw();
  }

  dispose() {
    this.#disposed = true;
  }

  /** @returns {number} events loaded */
  get size() {
    return this.#list.length;
  }

  /**
   * @param {number} after
   * @param {number} limit
   */
  async #page(after, limit) {
    if (limit <= 0) return;
    this.#loading = true;
    this.#draw();
    try {
      const { events } = await api(
        `/sessions/${seg(this.session)}/events?after=${after}&limit=${limit}`,
      );
      this.#addOlder(events.map((/** @type {any} */ e) => ({ t: "event", ...e })));
      this.#oldest = Math.min(this.#oldest, after + 1);
      this.#dirtyView = true;
    } catch (error) {
      this.status.textContent = `Could not load history: ${/** @type {Error} */ (error).message}`;
    } finally {
      this.#loading = false;
    }
  }

  /**
   * Adds a page of history, ascending; usually all older than what is here.
   *
   * @param {EventFrame[]} page
   */
  #addOlder(page) {
    const first = this.#list[0];
    const fresh = page.filter((e) => !this.#bySeq.has(e.seq));
    if (first === undefined || fresh.length === 0 || fresh[fresh.length - 1].seq >= first.seq) {
      for (const e of fresh) this.#add(e);
      return;
    }
    const before = this.#list;
    this.#list = [];
    for (const e of fresh) this.#add(e);
    this.#list = this.#list.concat(before);
  }

  /**
   * @param {EventFrame} e
   * @returns {boolean}
   */
  #add(e) {
    if (this.#bySeq.has(e.seq)) return false;
    const { sessionId: _s, ...rest } = /** @type {EventFrame & {sessionId?: string}} */ (e);
    const ev = /** @type {EventFrame} */ (rest);
    this.#bySeq.set(e.seq, ev);
    const last = this.#list[this.#list.length - 1];
    if (last === undefined || last.seq < e.seq) this.#list.push(ev);
    else {
      // Older history: find its place (pages arrive in blocks, so this is rare and short).
      let i = this.#list.length;
      while (i > 0 && this.#list[i - 1].seq > e.seq) i--;
      this.#list.splice(i, 0, ev);
    }
    if (!this.#types.has(e.type)) {
      this.#types.add(e.type);
      this.#options(this.typeSelect, this.#types);
    }
    if (e.agent !== undefined && !this.#agents.has(e.agent)) {
      this.#agents.add(e.agent);
      this.#options(this.agentSelect, this.#agents);
    }
    return true;
  }

  /**
   * @param {HTMLSelectElement} select
   * @param {Set<string>} values
   */
  #options(select, values) {
    const chosen = select.value;
    const first = /** @type {HTMLOptionElement} */ (select.options[0]);
    select.replaceChildren(
      first,
      ...[...values].sort().map((v) => h("option", { value: v, text: v })),
    );
    select.value = chosen;
  }

  #refilter() {
    this.#dirtyView = true;
    this.viewport.scrollTop = 0;
    this.draw();
  }

  #rebuildView() {
    if (!this.#dirtyView) return;
    this.#dirtyView = false;
    const type = this.typeSelect.value;
    const agent = this.agentSelect.value;
    const out = [];
    for (let i = this.#list.length - 1; i >= 0; i--) {
      const e = this.#list[i];
      if (type && e.type !== type) continue;
      if (agent && e.agent !== agent) continue;
      out.push(e);
    }
    this.#view = out;
  }

  #draw() {
    if (this.#disposed) return;
    this.#rebuildView();
    const view = this.#view;
    this.spacer.style.height = `${view.length * ROW}px`;
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight || 400;
    const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    const last = Math.min(view.length, Math.ceil((top + height) / ROW) + OVERSCAN);
    const rows = [];
    for (let i = first; i < last; i++) rows.push(this.#row(view[i], i));
    this.spacer.replaceChildren(...rows);
    const all = this.#oldest <= 1;
    const filtered = view.length !== this.#list.length ? `${view.length} shown · ` : "";
    this.status.textContent = this.#loading
      ? "Loading history…"
      : `${filtered}${this.#list.length} loaded${all ? " (all)" : ""}`;
    this.olderButton.hidden = all;
  }

  /**
   * @param {EventFrame} e
   * @param {number} i
   * @returns {HTMLElement}
   */
  #row(e, i) {
    return h(
      "div",
      {
        class: `tl-row${e.seq === this.#selected ? " selected" : ""}`,
        role: "listitem",
        style: { top: `${i * ROW}px` },
        dataset: { seq: String(e.seq), type: e.type },
      },
      h("span", { class: "tl-seq", text: `#${e.seq}` }),
      h("span", { class: "tl-time", text: clock(e.at), title: e.at }),
      h("span", { class: `tl-type type-${e.type.split(".")[0]}`, text: e.type }),
      h("span", { class: "tl-agent", text: e.agent ?? "" }),
      h("span", { class: "tl-summary", text: summary(e) }),
    );
  }

  /** @param {number} seq */
  #select(seq) {
    this.#selected = this.#selected === seq ? undefined : seq;
    const e = this.#selected === undefined ? undefined : this.#bySeq.get(this.#selected);
    this.detail.hidden = e === undefined;
    if (e) {
      this.detail.textContent =
        `#${e.seq} ${e.type}${e.agent ? ` by ${e.agent}` : ""} at ${e.at}\n` +
        pretty(e.data, 50_000);
    }
    this.draw();
  }
}

/**
 * One line that says what an event did.
 *
 * @param {EventFrame} e
 * @returns {string}
 */
export function summary(e) {
  const d = e.data ?? {};
  const ops = (/** @type {unknown} */ value) => {
    const list = Array.isArray(value) ? value : [];
    return list.slice(0, 3).map((o) => `${o.op} ${o.path || "/"}`).join(", ") +
      (list.length > 3 ? ` (+${list.length - 3})` : "");
  };
  switch (e.type) {
    case "patch":
    case "hook":
      return ops(d.ops);
    case "action":
      return `${d.name}(${short(d.args, 60)}) ${ops(d.ops)}`;
    case "agent":
      return `${d.name}: ${d.status} ${Math.round((d.progress ?? 0) * 100)}%${
        d.task ? ` · ${d.task}` : ""
      }`;
    case "message":
      return `${d.role}: ${short(d.content, 200)}`;
    case "result":
      return `${d.key}${d.partial ? " (partial)" : ""} · ${bytes(d.bytes ?? 0)}`;
    case "checkpoint":
      return `${d.label ?? ""} ${d.id} at v${d.version}`;
    case "restored":
      return `checkpoint ${d.checkpoint} (v${d.from})`;
    case "created":
      return `${d.kind}${d.name ? ` · ${d.name}` : ""}`;
    case "approval.requested":
    case "approval.decided":
    case "approval.expired": {
      const a = d.approval ?? {};
      return `${a.id}: ${short(a.prompt, 80)}${a.option ? ` → ${a.option}` : ""}${
        a.by ? ` by ${a.by}` : ""
      }`;
    }
    case "task.added":
      return (d.tasks ?? []).map((/** @type {any} */ t) => t.id).join(", ");
    case "task.dropped":
    case "timer.dropped":
      return (d.ids ?? []).join(", ");
    case "task.released":
      return `${d.approval} released ${(d.ready ?? []).join(", ")}`;
    case "timer.scheduled":
      return `${d.timer?.id} due ${d.timer?.due}`;
    case "timer.fired":
    case "timer.cancelled":
      return `${d.id}${d.action ? ` → ${d.action}` : ""}${
        d.error ? ` failed: ${d.error.message}` : ""
      }`;
    case "conflict.recorded":
    case "conflict.resolved":
      return `${d.conflict?.id}: ${d.conflict?.entity} (${d.conflict?.severity})`;
    default:
      if (e.type.startsWith("task.")) {
        const t = d.task ?? {};
        return `${t.id} ${t.status}${t.holder ? ` · ${t.holder}` : ""}`;
      }
      return short(d, 200);
  }
}
