/**
 * A session's pending durable timers (SPEC §9.1), soonest first, with their
 * countdowns and a cancel button.
 *
 * @module
 */
import { api, errorMessage, seg } from "./api.js";
import { ask, fill, h, toast } from "./dom.js";
import { short } from "./format.js";
import { until } from "./live_times.js";

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
      toast(errorMessage(error), "error");
    }
  }
}
