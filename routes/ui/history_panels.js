/**
 * The history panels of a session page: messages (the last 50 with a marker
 * for the rest, then all of them page by page), results (the latest per
 * key; large ones as download links) and checkpoints (restore and fork).
 *
 * @module
 */
import { api, errorMessage, saveBlob, seg } from "./api.js";
import { ask, fill, h, throttle, toast } from "./dom.js";
import { ago, bytes, pretty, short, when } from "./format.js";

/** Results larger than this are offered as a download instead of shown. */
const INLINE_RESULT_BYTES = 16 * 1024;
const MESSAGE_PAGE = 200;

/** @typedef {{id: string, seq: number, role: string, content: string, agent?: string, at: string,
 *   meta?: Record<string, unknown>}} Message */

export class MessagesPanel {
  /** @type {Message[]} */
  #messages = [];
  #omitted = 0;
  /** Showing every message, paged in backwards. */
  #all = false;
  #loading = false;

  /** @param {string} session */
  constructor(session) {
    this.session = session;
    this.list = h("ol", { class: "messages", "aria-label": "Messages" });
    this.marker = h("div", { class: "messages-marker" });
    this.el = h("div", { class: "messages-panel" }, this.marker, this.list);
  }

  /** Loads the last 50 (or, after "show all", the newest page). */
  async load() {
    this.#loading = true;
    try {
      if (this.#all) {
        const { messages } = await api(
          `/sessions/${seg(this.session)}/messages?limit=${MESSAGE_PAGE}`,
        );
        this.#messages = messages;
        this.#omitted = messages.length === MESSAGE_PAGE ? -1 : 0;
      } else {
        const { omitted, messages } = await api(
          `/sessions/${seg(this.session)}/messages?condensed=50`,
        );
        this.#messages = messages;
        this.#omitted = omitted;
      }
    } catch (error) {
      this.#fail(error);
      return;
    } finally {
      this.#loading = false;
    }
    this.#render(true);
  }

  /**
   * Appends live messages from events.
   *
   * @param {import("./session_socket.js").EventFrame[]} events
   */
  push(events) {
    let added = false;
    const last = this.#messages[this.#messages.length - 1]?.seq ?? 0;
    for (const e of events) {
      if (e.type !== "message" || e.seq <= last) continue;
      const d = e.data ?? {};
      this.#messages.push({
        id: d.id,
        seq: e.seq,
        role: d.role,
        content: d.content,
        at: e.at,
        ...(e.agent ? { agent: e.agent } : {}),
      });
      added = true;
    }
    if (!added) return;
    if (!this.#all && this.#messages.length > 50) {
      this.#omitted += this.#messages.length - 50;
      this.#messages = this.#messages.slice(-50);
    }
    this.#render(false);
  }

  async #older() {
    if (this.#loading) return;
    this.#all = true;
    const first = this.#messages[0];
    this.#loading = true;
    try {
      const q = first ? `before=${first.seq}&limit=${MESSAGE_PAGE}` : `limit=${MESSAGE_PAGE}`;
      const { messages } = await api(`/sessions/${seg(this.session)}/messages?${q}`);
      this.#messages = messages.concat(this.#messages);
      this.#omitted = messages.length === MESSAGE_PAGE ? -1 : 0;
    } catch (error) {
      this.#fail(error);
      return;
    } finally {
      this.#loading = false;
    }
    this.#render(false, true);
  }

  /** @param {unknown} error */
  #fail(error) {
    fill(
      this.marker,
      h("span", { class: "error-text", text: `Messages: ${/** @type {Error} */ (error).message}` }),
    );
  }

  /**
   * @param {boolean} toEnd scroll to the newest
   * @param {boolean} [keep] keep the view where it was (older ones came in above)
   */
  #render(toEnd, keep = false) {
    const box = this.list;
    const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - 24;
    const fromEnd = box.scrollHeight - box.scrollTop;
    fill(
      box,
      this.#messages.map((m) =>
        h(
          "li",
          { class: `message role-${m.role}`, dataset: { seq: String(m.seq) } },
          h(
            "div",
            { class: "message-meta" },
            h("strong", { text: m.role }),
            m.agent ? h("span", { class: "muted", text: ` · ${m.agent}` }) : null,
            h("span", { class: "muted", text: ` · ${when(m.at)}` }),
          ),
          h("div", { class: "message-content", text: short(m.content, 4000) }),
        )
      ),
    );
    if (this.#omitted !== 0) {
      const label = this.#omitted > 0
        ? `${this.#omitted} earlier message${this.#omitted === 1 ? "" : "s"} not shown`
        : "Earlier messages not shown";
      fill(
        this.marker,
        h("span", { class: "muted", text: label }),
        " ",
        h("button", {
          type: "button",
          class: "link",
          dataset: { action: "show-all-messages" },
          text: this.#all ? "Load earlier" : "Show all",
          onclick: () => void this.#older(),
        }),
      );
    } else {
      fill(
        this.marker,
        this.#messages.length === 0 ? h("span", { class: "muted", text: "No messages yet" }) : null,
      );
    }
    if (keep) box.scrollTop = box.scrollHeight - fromEnd;
    else if (toEnd || atEnd) box.scrollTop = box.scrollHeight;
  }
}

export class ResultsPanel {
  /** @param {string} session */
  constructor(session) {
    this.session = session;
    this.el = h("div", { class: "results-panel" }, h("p", { class: "muted", text: "Loading…" }));
    this.reload = throttle(() => void this.load(), 1000);
  }

  async load() {
    let results;
    try {
      ({ results } = await api(`/sessions/${seg(this.session)}/results?latest=true&limit=200`));
    } catch (error) {
      fill(
        this.el,
        h("p", { class: "error-text", text: `Results: ${/** @type {Error} */ (error).message}` }),
      );
      return;
    }
    if (results.length === 0) {
      fill(this.el, h("p", { class: "muted", text: "No results yet" }));
      return;
    }
    fill(
      this.el,
      h(
        "ul",
        { class: "results" },
        results.reverse().map((/** @type {any} */ r) => this.#item(r)),
      ),
    );
  }

  /**
   * @param {any} r
   * @returns {HTMLElement}
   */
  #item(r) {
    const large = r.blob !== undefined || r.bytes > INLINE_RESULT_BYTES;
    const name = `${r.agent ? `${r.agent}-` : ""}${r.key}.json`.replace(/[^\w.-]+/g, "_");
    return h(
      "li",
      { class: "result", dataset: { key: r.key } },
      h(
        "div",
        { class: "result-head" },
        h("strong", { text: r.key }),
        r.partial ? h("span", { class: "pill", text: "partial" }) : null,
        h("span", { class: "muted", text: ` ${r.agent ?? ""} · ${bytes(r.bytes)} · ${ago(r.at)}` }),
      ),
      large
        ? h("button", {
          type: "button",
          class: "link",
          dataset: { action: "download-result" },
          text: `Download (${bytes(r.bytes)})`,
          onclick: () => void this.#download(r, name),
        })
        : h("pre", { class: "result-data", text: pretty(r.data, INLINE_RESULT_BYTES) }),
    );
  }

  /**
   * @param {any} r
   * @param {string} name
   */
  async #download(r, name) {
    try {
      const agent = r.agent ? `&agent=${encodeURIComponent(r.agent)}` : "";
      const { results } = await api(
        `/sessions/${seg(this.session)}/results?key=${encodeURIComponent(r.key)}${agent}&after=${
          r.seq - 1
        }&limit=1`,
      );
      const data = results[0]?.data;
      saveBlob(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }), name);
    } catch (error) {
      toast(`Download failed: ${/** @type {Error} */ (error).message}`, "error");
    }
  }
}

export class CheckpointsPanel {
  /**
   * @param {string} session
   * @param {{status(): string, restored(session: any): void, forked(id: string): void}} host
   */
  constructor(session, host) {
    this.session = session;
    this.host = host;
    this.el = h(
      "div",
      { class: "checkpoints-panel" },
      h("p", { class: "muted", text: "Loading…" }),
    );
    this.reload = throttle(() => void this.load(), 800);
  }

  async load() {
    let checkpoints;
    try {
      ({ checkpoints } = await api(`/sessions/${seg(this.session)}/checkpoints`));
    } catch (error) {
      fill(
        this.el,
        h("p", {
          class: "error-text",
          text: `Checkpoints: ${/** @type {Error} */ (error).message}`,
        }),
      );
      return;
    }
    if (checkpoints.length === 0) {
      fill(this.el, h("p", { class: "muted", text: "No checkpoints yet" }));
      return;
    }
    const active = this.host.status() === "active";
    fill(
      this.el,
      h(
        "ul",
        { class: "checkpoints" },
        checkpoints.map((/** @type {any} */ cp) =>
          h(
            "li",
            { class: "checkpoint", dataset: { id: cp.id } },
            h(
              "div",
              null,
              h("strong", { text: cp.label ?? "checkpoint" }),
              cp.final ? h("span", { class: "pill", text: "final" }) : null,
              h("div", {
                class: "muted small",
                text: `${cp.id} · v${cp.version} · ${when(cp.at)}`,
              }),
            ),
            h(
              "div",
              { class: "row-actions" },
              h("button", {
                type: "button",
                class: "small",
                disabled: !active,
                title: active
                  ? "Replace the state with this checkpoint's"
                  : "Only an active session can be restored",
                dataset: { action: "restore" },
                text: "Restore",
                onclick: () => void this.#restore(cp),
              }),
              h("button", {
                type: "button",
                class: "small",
                dataset: { action: "fork" },
                text: "Fork",
                onclick: () => void this.#fork(cp),
              }),
            ),
          )
        ),
      ),
    );
  }

  /** @param {any} cp */
  async #restore(cp) {
    const ok = await ask({
      title: "Restore this checkpoint?",
      message:
        `The state, agents, phase and coordination records go back to version ${cp.version} (${cp.id}). Changes since then stay in the history but leave the state.`,
      action: "Restore",
      danger: true,
    });
    if (!ok) return;
    try {
      const s = await api(`/sessions/${seg(this.session)}/checkpoints/${seg(cp.id)}/restore`, {
        method: "POST",
        body: {},
      });
      this.host.restored(s);
      toast(`Restored ${cp.id}`);
    } catch (error) {
      toast(errorMessage(error), "error");
    }
  }

  /** @param {any} cp */
  async #fork(cp) {
    const ok = await ask({
      title: "Fork a new session?",
      message: `A new session starts from checkpoint ${cp.id} (version ${cp.version}).`,
      action: "Fork",
    });
    if (!ok) return;
    try {
      const s = await api(`/sessions/${seg(this.session)}/fork`, {
        method: "POST",
        body: { checkpoint: cp.id },
      });
      this.host.forked(s.id);
    } catch (error) {
      toast(errorMessage(error), "error");
    }
  }
}
