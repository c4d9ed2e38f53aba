/**
 * The head of a session page: name, status, kind, phase, version, times,
 * tags, overall progress, the live badge, the lifecycle buttons, and
 * banners for the outcome and for connection trouble. It is redrawn in
 * place: under a stream of events only the version, the times and the
 * progress change, and the buttons stay put under the pointer.
 *
 * @module
 */
import { fill, h, progressBar, statusPill } from "./dom.js";
import { short, when } from "./format.js";

const TERMINAL = new Set(["completed", "failed", "expired", "archived"]);

export class SessionHead {
  #title;
  #subtitle;
  #pill = h("span");
  #kind = h("strong");
  #phase = h("strong", { class: "phase" });
  #version = h("strong", { class: "version" });
  #updated = h("span", { class: "ago", dataset: { since: "" } });
  #expires = h("span", { class: "countdown", dataset: { until: "" } });
  #expiresItem = h("span", { class: "meta-item" }, "expires ", this.#expires);
  #extra = h("span", { class: "meta-extra" });
  #progress = h("div", { class: "session-progress" });
  #live = h("span", { class: "live", dataset: { state: "connecting" }, text: "connecting…" });
  #outcome = h("div", { class: "banner", hidden: true });
  #banner = h("div", { class: "banner", hidden: true, role: "alert" });
  /** What was last drawn, to redraw only what changed. */
  #shown = { status: "", meta: "", pct: -1 };

  /**
   * @param {string} id
   * @param {{el: HTMLElement, render(): void}} actions the lifecycle buttons
   */
  constructor(id, actions) {
    this.id = id;
    this.actions = actions;
    this.#title = h("h1", { class: "session-title", text: id });
    this.#subtitle = h("div", { class: "session-sub muted" });
    this.el = h(
      "div",
      { class: "session-head" },
      h("a", { class: "back", href: "#/", text: "← Sessions" }),
      h("div", { class: "session-title-row" }, this.#title, this.#live),
      this.#subtitle,
      h(
        "div",
        { class: "session-meta" },
        this.#pill,
        h("span", { class: "meta-item" }, "kind ", this.#kind),
        h("span", { class: "meta-item" }, "phase ", this.#phase),
        h("span", { class: "meta-item" }, "version ", this.#version),
        h("span", { class: "meta-item" }, "updated ", this.#updated),
        this.#expiresItem,
        this.#extra,
      ),
      this.#progress,
      actions.el,
      this.#outcome,
      this.#banner,
    );
  }

  /**
   * @param {Record<string, any>} s the session without its state
   * @param {number} version
   */
  render(s, version) {
    this.#version.textContent = String(version);
    this.#updated.dataset.since = s.updatedAt ?? "";
    this.#expires.dataset.until = s.expiresAt ?? "";
    this.#expiresItem.hidden = TERMINAL.has(s.status) || !s.expiresAt;
    const key = JSON.stringify([
      s.status,
      s.name,
      s.kind,
      s.phase,
      s.tags,
      s.completedAt,
      s.origin,
    ]);
    if (key !== this.#shown.meta) {
      this.#shown.meta = key;
      this.#title.textContent = s.name || s.id || this.id;
      this.#subtitle.textContent = s.name ? s.id : "";
      fill(this.#pill, statusPill(s.status));
      this.#kind.textContent = s.kind;
      this.#phase.textContent = s.phase;
      fill(
        this.#extra,
        s.completedAt
          ? h("span", { class: "meta-item", text: `ended ${when(s.completedAt)}` })
          : null,
        s.origin
          ? h(
            "span",
            { class: "meta-item" },
            "forked from ",
            h("a", {
              href: `#/s/${encodeURIComponent(s.origin.session)}`,
              text: s.origin.session,
            }),
          )
          : null,
        (s.tags ?? []).map((/** @type {string} */ t) => h("span", { class: "tag", text: t })),
      );
    }
    const pct = Math.round((s.progress ?? 0) * 100);
    if (pct !== this.#shown.pct) {
      this.#shown.pct = pct;
      fill(this.#progress, progressBar(s.progress ?? 0, "Overall progress"));
    }
    const outcome = [
      s.status === "failed" && s.error ? `Failed: ${s.error}` : "",
      s.status === "completed" && s.report !== undefined && s.report !== null
        ? `Report: ${short(s.report, 300)}`
        : "",
    ].filter(Boolean);
    this.#outcome.hidden = outcome.length === 0;
    this.#outcome.className = `banner outcome ${s.status === "failed" ? "error" : "info"}`;
    this.#outcome.textContent = outcome.join(" · ");
    if (s.status !== this.#shown.status) {
      this.#shown.status = s.status;
      this.actions.render();
    }
  }

  /**
   * Shows the socket's state in the live badge.
   *
   * @param {import("./session_socket.js").SocketState} state
   * @param {number} attempt
   */
  live(state, attempt) {
    this.#live.dataset.state = state;
    this.#live.textContent = state === "live"
      ? "live"
      : state === "reconnecting"
      ? `reconnecting${attempt > 1 ? ` (attempt ${attempt})` : ""}…`
      : state === "gone"
      ? "deleted"
      : state === "closed"
      ? "closed"
      : "connecting…";
  }

  /**
   * Shows a banner about the connection.
   *
   * @param {string} text
   * @param {"info" | "warn" | "error"} kind
   */
  say(text, kind) {
    this.#banner.hidden = false;
    this.#banner.className = `banner ${kind}`;
    this.#banner.textContent = text;
  }

  /** Hides the connection banner. */
  unsay() {
    this.#banner.hidden = true;
    this.#banner.textContent = "";
  }
}
