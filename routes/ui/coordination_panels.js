/**
 * The coordination panels of a session page (SPEC §9), drawn from the
 * mirror's records: approvals with their decide buttons and deadlines
 * counting down, the task board, timers and conflicts. Buttons call the
 * routes; the change comes back as an event and redraws the panel.
 *
 * Countdowns and "last heard" times are elements with `data-until` or
 * `data-since`; {@linkcode tickTimes} refreshes their text every second.
 *
 * @module
 */
import { api, decider, seg, setDecider } from "./api.js";
import { ask, fill, h, toast } from "./dom.js";
import { ago, countdown, short, when } from "./format.js";
import { messageOf } from "./history_panels.js";

const TASK_COLUMNS = ["blocked", "ready", "claimed", "done", "failed"];
/** Cards drawn per board column; the rest are counted. */
const CARDS_PER_COLUMN = 50;
/** Past approvals shown. */
const PAST_APPROVALS = 20;

/**
 * Refreshes every countdown and "ago" under `root`.
 *
 * @param {ParentNode} root
 */
export function tickTimes(root) {
  const now = Date.now();
  for (const el of root.querySelectorAll("[data-until]")) {
    const at = /** @type {HTMLElement} */ (el).dataset.until;
    el.textContent = countdown(at, now);
    el.classList.toggle("overdue", Date.parse(at ?? "") < now);
    el.classList.toggle("soon", Date.parse(at ?? "") - now < 60_000);
  }
  for (const el of root.querySelectorAll("[data-since]")) {
    el.textContent = ago(/** @type {HTMLElement} */ (el).dataset.since, now);
  }
}

/**
 * A countdown element.
 *
 * @param {string} at
 * @returns {HTMLElement}
 */
export function until(at) {
  return h("span", {
    class: "countdown",
    dataset: { until: at },
    title: when(at),
    text: countdown(at),
  });
}

/**
 * An "ago" element.
 *
 * @param {string} at
 * @returns {HTMLElement}
 */
export function since(at) {
  return h("span", { class: "ago", dataset: { since: at }, title: when(at), text: ago(at) });
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

export class ApprovalsPanel {
  /** @param {string} session */
  constructor(session) {
    this.session = session;
    this.list = h("div", { class: "approvals" });
    this.el = h(
      "div",
      { class: "approvals-panel" },
      h("div", { class: "toolbar" }, nameField("Decide as")),
      this.list,
    );
  }

  /** @param {Record<string, any>} approvals */
  render(approvals) {
    const all = Object.values(approvals);
    const pending = all.filter((a) => a.status === "pending")
      .sort((a, b) => a.deadline.localeCompare(b.deadline));
    const past = all.filter((a) => a.status !== "pending")
      .sort((a, b) => (b.decidedAt ?? "").localeCompare(a.decidedAt ?? ""));
    if (all.length === 0) {
      fill(this.list, h("p", { class: "muted", text: "No approvals" }));
      return;
    }
    fill(
      this.list,
      pending.length === 0
        ? h("p", { class: "muted", text: "Nothing waits for a decision" })
        : null,
      pending.map((a) => approvalCard(a, this.session)),
      past.length > 0
        ? h(
          "details",
          { class: "past" },
          h("summary", { text: `${past.length} decided or expired` }),
          h(
            "ul",
            { class: "plain" },
            past.slice(0, PAST_APPROVALS).map((a) =>
              h(
                "li",
                { class: "approval-past", dataset: { id: a.id, status: a.status } },
                h("span", { class: `pill approval-${a.status}`, text: a.option ?? a.status }),
                " ",
                short(a.prompt, 100),
                h("span", {
                  class: "muted",
                  text: ` · ${a.by ? `by ${a.by} · ` : ""}${a.reason ? `${a.reason} · ` : ""}${
                    when(a.decidedAt)
                  }`,
                }),
              )
            ),
          ),
        )
        : null,
    );
  }
}

/**
 * A pending approval with a button per option; used by the session page and the inbox.
 *
 * @param {any} a
 * @param {string} session
 * @param {{showSession?: boolean, decided?: () => void}} [opts]
 * @returns {HTMLElement}
 */
export function approvalCard(a, session, opts = {}) {
  const comment = /** @type {HTMLInputElement} */ (h("input", {
    type: "text",
    name: "comment",
    placeholder: "Comment (optional)",
    maxlength: "4096",
    "aria-label": "Comment",
  }));
  const buttons = a.options.map((/** @type {string} */ option, /** @type {number} */ i) =>
    h("button", {
      type: "button",
      class: i === 0 ? "primary small" : "small",
      dataset: { option },
      text: option,
      onclick: async (/** @type {Event} */ e) => {
        const btn = /** @type {HTMLButtonElement} */ (e.currentTarget);
        btn.disabled = true;
        try {
          await api(`/sessions/${seg(session)}/approvals/${seg(a.id)}/decision`, {
            method: "POST",
            body: {
              option,
              by: decider(),
              ...(comment.value.trim() ? { comment: comment.value.trim() } : {}),
            },
          });
          toast(`Decided ${a.id}: ${option}`);
          opts.decided?.();
        } catch (error) {
          toast(messageOf(error), "error");
          btn.disabled = false;
        }
      },
    })
  );
  return h(
    "article",
    { class: "approval card-inner", dataset: { id: a.id, session, status: a.status } },
    h(
      "div",
      { class: "approval-head" },
      h("strong", { class: "approval-prompt", text: a.prompt }),
      h("span", { class: "approval-deadline" }, "deadline ", until(a.deadline)),
    ),
    h(
      "div",
      { class: "muted small" },
      opts.showSession
        ? [h("a", { href: `#/s/${encodeURIComponent(session)}`, text: session }), " · "]
        : null,
      `${a.id}${a.agent ? ` · asked by ${a.agent}` : ""} · ${ago(a.requestedAt)}`,
      a.onDeadline ? ` · at the deadline: ${a.onDeadline}` : "",
      a.tasks?.length ? ` · holds ${a.tasks.length} task${a.tasks.length === 1 ? "" : "s"}` : "",
    ),
    a.data !== undefined ? h("pre", { class: "approval-data", text: short(a.data, 600) }) : null,
    h("div", { class: "approval-actions" }, comment, buttons),
  );
}

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
      toast(messageOf(error), "error");
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

export class TimersPanel {
  /** @param {string} session */
  constructor(session) {
    this.session = session;
    this.el = h("div", { class: "timers-panel" });
  }

  /** @param {Record<string, any>} timers */
  render(timers) {
    const all = Object.values(timers).sort((a, b) => a.due.localeCompare(b.due));
    if (all.length === 0) {
      fill(this.el, h("p", { class: "muted", text: "No pending timers" }));
      return;
    }
    fill(
      this.el,
      h(
        "table",
        { class: "compact" },
        h(
          "thead",
          null,
          h("tr", null, ["Timer", "Due", "Does", ""].map((t) => h("th", { text: t }))),
        ),
        h(
          "tbody",
          null,
          all.slice(0, 200).map((t) =>
            h(
              "tr",
              { dataset: { id: t.id } },
              h(
                "td",
                null,
                h("code", { text: t.id }),
                t.agent ? h("div", { class: "muted small", text: t.agent }) : null,
              ),
              h("td", null, until(t.due)),
              h("td", {
                class: "small",
                text: t.action
                  ? `${t.action}(${short(t.args ?? {}, 60)})`
                  : t.patch
                  ? `patch: ${t.patch.length} op${t.patch.length === 1 ? "" : "s"}`
                  : `reminder ${short(t.data ?? null, 60)}`,
              }),
              h(
                "td",
                null,
                h("button", {
                  type: "button",
                  class: "small ghost",
                  dataset: { action: "cancel-timer" },
                  text: "Cancel",
                  onclick: () => void this.#cancel(t),
                }),
              ),
            )
          ),
        ),
      ),
    );
  }

  /** @param {any} t */
  async #cancel(t) {
    const ok = await ask({
      title: `Cancel timer ${t.id}?`,
      message: "It will not fire.",
      action: "Cancel timer",
      danger: true,
    });
    if (!ok) return;
    try {
      await api(`/sessions/${seg(this.session)}/timers/${seg(t.id)}`, { method: "DELETE" });
      toast(`Cancelled ${t.id}`);
    } catch (error) {
      toast(messageOf(error), "error");
    }
  }
}

export class ConflictsPanel {
  /** @param {string} session */
  constructor(session) {
    this.session = session;
    this.el = h("div", { class: "conflicts-panel" });
  }

  /** @param {Record<string, any>} conflicts */
  render(conflicts) {
    const rank = { critical: 0, high: 1, medium: 2, low: 3 };
    const all = Object.values(conflicts).sort((a, b) =>
      (a.status === b.status ? 0 : a.status === "open" ? -1 : 1) ||
      (rank[/** @type {keyof typeof rank} */ (a.severity)] -
        rank[/** @type {keyof typeof rank} */ (b.severity)]) ||
      b.recordedAt.localeCompare(a.recordedAt)
    );
    if (all.length === 0) {
      fill(this.el, h("p", { class: "muted", text: "No conflicts" }));
      return;
    }
    fill(this.el, all.slice(0, 100).map((c) => this.#card(c)));
  }

  /**
   * @param {any} c
   * @returns {HTMLElement}
   */
  #card(c) {
    const input = /** @type {HTMLInputElement} */ (h("input", {
      type: "text",
      name: "resolution",
      placeholder: "Resolution",
      "aria-label": "Resolution",
      required: true,
    }));
    return h(
      "article",
      { class: `conflict card-inner ${c.status}`, dataset: { id: c.id, status: c.status } },
      h(
        "div",
        { class: "approval-head" },
        h("strong", { text: c.entity }),
        h("span", { class: `pill severity-${c.severity}`, text: c.severity }),
      ),
      h("div", {
        class: "muted small",
        text: `${c.id} · ${c.type}${c.strategy ? ` · strategy: ${c.strategy}` : ""} · ${
          ago(c.recordedAt)
        }`,
      }),
      h(
        "ul",
        { class: "findings" },
        c.findings.map((/** @type {any} */ f) =>
          h(
            "li",
            null,
            h("strong", { text: f.agent }),
            f.result ? h("span", { class: "muted", text: ` (${f.result})` }) : null,
            `: ${f.claim}`,
          )
        ),
      ),
      c.status === "open"
        ? h(
          "form",
          {
            class: "resolve",
            onsubmit: async (/** @type {Event} */ e) => {
              e.preventDefault();
              const resolution = input.value.trim();
              if (!resolution) return;
              try {
                await api(`/sessions/${seg(this.session)}/conflicts/${seg(c.id)}/resolve`, {
                  method: "POST",
                  body: { resolution, by: decider() },
                });
                toast(`Resolved ${c.id}`);
              } catch (error) {
                toast(messageOf(error), "error");
              }
            },
          },
          input,
          h("button", {
            type: "submit",
            class: "small",
            dataset: { action: "resolve" },
            text: "Resolve",
          }),
        )
        : h(
          "div",
          { class: "small" },
          "Resolved",
          c.by ? ` by ${c.by}` : "",
          `: ${short(c.resolution, 200)}`,
        ),
    );
  }
}
