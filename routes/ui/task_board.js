/**
 * The task board of a session (SPEC §9.3): blocked, ready, claimed (with
 * holder and lease), done and failed. A person may claim a ready task, and
 * complete or fail one they hold, under the "Claim as" name.
 *
 * @module
 */
import { api, decider, errorMessage, seg } from "./api.js";
import { ask, fill, h, nameField, toast } from "./dom.js";
import { short } from "./format.js";
import { until } from "./live_times.js";

const TASK_COLUMNS = ["blocked", "ready", "claimed", "done", "failed"];
/** Cards drawn per board column; the rest are counted. */
const CARDS_PER_COLUMN = 50;

export class TaskBoard {
  /**
   * @param {string} session
   * @param {{writable(): boolean}} host
   */
  constructor(session, host) {
    this.session = session;
    this.host = host;
    this.board = h("div", { class: "board" });
    this.el = h(
      "div",
      { class: "board-panel" },
      h("div", { class: "toolbar" }, nameField("Claim as")),
      this.board,
    );
  }

  /** @param {Record<string, any>} tasks */
  render(tasks) {
    const all = Object.values(tasks).sort((a, b) => a.order - b.order);
    if (all.length === 0) {
      fill(this.board, h("p", { class: "muted", text: "No tasks" }));
      return;
    }
    const me = decider();
    const writable = this.host.writable();
    fill(
      this.board,
      TASK_COLUMNS.map((status) => {
        const cards = all.filter((t) => t.status === status);
        return h(
          "section",
          { class: `board-column column-${status}`, dataset: { status } },
          h("h4", null, status, h("span", { class: "count", text: String(cards.length) })),
          cards.slice(0, CARDS_PER_COLUMN).map((t) => this.#card(t, me, writable)),
          cards.length > CARDS_PER_COLUMN
            ? h("p", { class: "muted small", text: `+${cards.length - CARDS_PER_COLUMN} more` })
            : null,
        );
      }),
    );
  }

  /**
   * @param {any} t
   * @param {string} me
   * @param {boolean} writable
   * @returns {HTMLElement}
   */
  #card(t, me, writable) {
    return h(
      "article",
      { class: "task", dataset: { id: t.id, status: t.status } },
      h("div", { class: "task-title", text: t.title }),
      h("div", {
        class: "muted small",
        text: `${t.id}${t.attempt > 0 ? ` · attempt ${t.attempt}/${t.maxAttempts}` : ""}`,
      }),
      t.gate ? h("div", { class: "small", text: `waits for approval ${t.gate}` }) : null,
      t.status === "blocked" && t.deps.length > 0
        ? h("div", { class: "small", text: `after ${t.deps.join(", ")}` })
        : null,
      t.status === "claimed"
        ? h(
          "div",
          { class: "small task-holder" },
          h("strong", { text: t.holder }),
          " · lease ",
          t.leaseUntil ? until(t.leaseUntil) : "",
        )
        : null,
      t.status === "done" && t.result !== undefined
        ? h("div", { class: "small muted", text: short(t.result, 80) })
        : null,
      t.status === "failed" && t.error
        ? h("div", { class: "small error-text", text: t.error })
        : null,
      t.status === "ready" && writable
        ? h("button", {
          type: "button",
          class: "small",
          dataset: { action: "claim" },
          text: "Claim",
          onclick: () =>
            void this.#post("tasks/claim", { agent: decider(), task: t.id }, `Claimed ${t.id}`),
        })
        : null,
      t.status === "claimed" && t.holder === me && writable
        ? h(
          "div",
          { class: "row-actions" },
          h("button", {
            type: "button",
            class: "small",
            dataset: { action: "complete-task" },
            text: "Done",
            onclick: () =>
              void this.#post(`tasks/${seg(t.id)}/complete`, { agent: me }, `Completed ${t.id}`),
          }),
          h("button", {
            type: "button",
            class: "small",
            dataset: { action: "fail-task" },
            text: "Fail",
            onclick: () => void this.#fail(t, me),
          }),
        )
        : null,
    );
  }

  /**
   * @param {string} path
   * @param {unknown} body
   * @param {string} done
   */
  async #post(path, body, done) {
    try {
      const res = await api(`/sessions/${seg(this.session)}/${path}`, { method: "POST", body });
      if (path === "tasks/claim" && res?.task === null) {
        toast("That task is no longer ready", "error");
      } else toast(done);
    } catch (error) {
      toast(errorMessage(error), "error");
    }
  }

  /**
   * @param {any} t
   * @param {string} me
   */
  async #fail(t, me) {
    const error = await ask({
      title: `Fail task ${t.id}?`,
      input: { label: "Why", required: true },
      action: "Fail task",
      danger: true,
    });
    if (typeof error !== "string") return;
    await this.#post(`tasks/${seg(t.id)}/fail`, { agent: me, error }, `Failed ${t.id}`);
  }
}
