/**
 * Approvals (SPEC §9.2) on a session page, and the card of one pending
 * approval with a button per option that the inbox uses too. Deadlines
 * count down; a decision goes to `POST …/approvals/:aid/decision` and comes
 * back as an event.
 *
 * @module
 */
import { api, decider, errorMessage, seg } from "./api.js";
import { fill, h, nameField, toast } from "./dom.js";
import { ago, short, when } from "./format.js";
import { until } from "./live_times.js";

/** Past approvals shown. */
const PAST_APPROVALS = 20;

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
          toast(errorMessage(error), "error");
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
