/**
 * The agents of a session: status, progress bar, task, error and when each
 * was last heard from, with a dot for those connected now (the socket's
 * presence frames).
 *
 * @module
 */
import { fill, h, progressBar } from "./dom.js";
import { since } from "./live_times.js";

export class AgentsPanel {
  constructor() {
    this.el = h("div", { class: "agents" });
  }

  /**
   * @param {Record<string, any>} agents by name
   * @param {readonly string[]} presence names connected now
   */
  render(agents, presence) {
    const names = [...new Set([...Object.keys(agents), ...presence])].sort();
    if (names.length === 0) {
      fill(this.el, h("p", { class: "muted", text: "No agents yet" }));
      return;
    }
    fill(
      this.el,
      h(
        "table",
        { class: "compact agents-table" },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            ["Agent", "Status", "Progress", "Task", "Last heard"].map((t) => h("th", { text: t })),
          ),
        ),
        h(
          "tbody",
          null,
          names.map((name) => {
            const a = agents[name];
            const online = presence.includes(name);
            return h(
              "tr",
              { dataset: { agent: name } },
              h(
                "td",
                null,
                h("span", {
                  class: `presence ${online ? "online" : "offline"}`,
                  title: online ? "Connected" : "Not connected",
                }),
                h("strong", { text: name }),
              ),
              h(
                "td",
                { class: "agent-status" },
                a ? a.status : "—",
                a?.error ? h("div", { class: "error-text small", text: a.error }) : null,
              ),
              h("td", null, progressBar(a?.progress ?? 0)),
              h("td", { class: "small", text: a?.task ?? "" }),
              h("td", null, a?.updatedAt ? since(a.updatedAt) : "—"),
            );
          }),
        ),
      ),
    );
  }
}
