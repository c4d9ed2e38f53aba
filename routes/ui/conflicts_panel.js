/**
 * A session's conflicts between findings (SPEC §9.4): open ones first, by
 * severity, each with a form to resolve it.
 *
 * @module
 */
import { api, decider, errorMessage, seg } from "./api.js";
import { fill, h, toast } from "./dom.js";
import { ago, short } from "./format.js";

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
                toast(errorMessage(error), "error");
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
