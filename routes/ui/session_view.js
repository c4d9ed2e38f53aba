/**
 * One session, live: the page opens the session's WebSocket, keeps a mirror
 * from the welcome and the events, and redraws only the panels an event
 * touched, at most once per frame. History panels page from the HTTP API.
 * After a drop (a server restart, say) the socket resumes with `since`; a
 * snapshot welcome reloads the history panels too.
 *
 * @module
 */
import { api, ApiError, seg } from "./api.js";
import {
  ApprovalsPanel,
  ConflictsPanel,
  since,
  TaskBoard,
  tickTimes,
  TimersPanel,
  until,
} from "./coordination_panels.js";
import { fill, h, perFrame, progressBar, statusPill, throttle } from "./dom.js";
import { short, when } from "./format.js";
import { CheckpointsPanel, MessagesPanel, ResultsPanel } from "./history_panels.js";
import { JsonTree } from "./json_tree.js";
import { SessionActions } from "./session_actions.js";
import { SessionMirror } from "./session_mirror.js";
import { SessionSocket } from "./session_socket.js";
import { Timeline } from "./timeline.js";

/** @typedef {import("./session_mirror.js").Part} Part */

const TERMINAL = new Set(["completed", "failed", "expired", "archived"]);

/**
 * A titled card.
 *
 * @param {string} title
 * @param {string} id
 * @param {HTMLElement} body
 * @param {...unknown} extra nodes in the title bar
 * @returns {HTMLElement}
 */
function card(title, id, body, ...extra) {
  return h(
    "section",
    { class: "card", id: `panel-${id}`, "aria-labelledby": `title-${id}` },
    h("header", { class: "card-head" }, h("h3", { id: `title-${id}`, text: title }), ...extra),
    body,
  );
}

/**
 * The session page.
 *
 * @param {string} id
 * @param {{navigate(hash: string): void}} app
 * @returns {{el: HTMLElement, dispose(): void}}
 */
export function sessionView(id, app) {
  const mirror = new SessionMirror();
  /** @type {Set<Part>} */
  const dirty = new Set();
  let disposed = false;
  let presence = /** @type {string[]} */ ([]);

  const title = h("h1", { class: "session-title", text: id });
  const subtitle = h("div", { class: "session-sub muted" });
  const meta = h("div", { class: "session-meta" });
  const liveBadge = h("span", {
    class: "live",
    dataset: { state: "connecting" },
    text: "connecting…",
  });
  const banner = h("div", { class: "banner", hidden: true, role: "alert" });
  const outcome = h("div", { class: "banner", hidden: true });
  const overall = h("div", { class: "session-progress" });
  const lastChange = h("span", { class: "muted small last-change" });
  const agents = h("div", { class: "agents" });

  const tree = new JsonTree({ depth: 2 });
  const timeline = new Timeline(id);
  const messages = new MessagesPanel(id);
  const results = new ResultsPanel(id);
  const approvals = new ApprovalsPanel(id);
  const writable = () => mirror.head.status === "active" || mirror.head.status === "paused";
  const board = new TaskBoard(id, { writable });
  const timers = new TimersPanel(id);
  const conflicts = new ConflictsPanel(id);
  const checkpoints = new CheckpointsPanel(id, {
    status: () => mirror.head.status,
    restored: (s) => headChanged(s),
    forked: (newId) => app.navigate(`#/s/${encodeURIComponent(newId)}`),
  });
  const actions = new SessionActions({
    session: id,
    status: () => mirror.head.status,
    changed: (s) => headChanged(s),
    deleted: () => app.navigate("#/"),
    checkpointed: () => checkpoints.reload(),
  });

  const counts = {
    approvals: h("span", { class: "count" }),
    tasks: h("span", { class: "count" }),
    timers: h("span", { class: "count" }),
    conflicts: h("span", { class: "count" }),
  };

  const el = h(
    "section",
    { class: "session-view", dataset: { session: id } },
    h(
      "div",
      { class: "session-head" },
      h("a", { class: "back", href: "#/", text: "← Sessions" }),
      h("div", { class: "session-title-row" }, title, liveBadge),
      subtitle,
      meta,
      overall,
      actions.el,
      outcome,
      banner,
    ),
    h(
      "div",
      { class: "session-grid" },
      h(
        "div",
        { class: "col" },
        card(
          "State",
          "state",
          tree.el,
          lastChange,
          h("button", {
            type: "button",
            class: "ghost small",
            text: "Expand",
            onclick: () => tree.expandAll(),
          }),
          h("button", {
            type: "button",
            class: "ghost small",
            text: "Collapse",
            onclick: () => tree.collapseAll(),
          }),
        ),
        card("Agents", "agents", agents),
        card("Approvals", "approvals", approvals.el, counts.approvals),
        card("Tasks", "tasks", board.el, counts.tasks),
        card("Timers", "timers", timers.el, counts.timers),
        card("Conflicts", "conflicts", conflicts.el, counts.conflicts),
      ),
      h(
        "div",
        { class: "col" },
        card("Events", "events", timeline.el),
        card("Messages", "messages", messages.el),
        card("Results", "results", results.el),
        card("Checkpoints", "checkpoints", checkpoints.el),
      ),
    ),
  );

  const draw = perFrame(() => render());
  // Kinds that compute their own progress: the server's figure, refreshed now and then.
  const refreshHead = throttle(() => void loadHead(), 2000);

  /** @param {Iterable<Part>} parts */
  function mark(parts) {
    for (const p of parts) dirty.add(p);
    draw();
  }

  function render() {
    if (disposed || !mirror.ready) return;
    const parts = new Set(dirty);
    dirty.clear();
    if (parts.has("head") || parts.has("progress")) renderHead();
    if (parts.has("state")) renderState();
    if (parts.has("agents") || parts.has("head")) renderAgents();
    const c = mirror.coordination;
    if (parts.has("approvals")) approvals.render(c.approvals);
    if (parts.has("tasks") || parts.has("head")) board.render(c.tasks);
    if (parts.has("timers")) timers.render(c.timers);
    if (parts.has("conflicts")) conflicts.render(c.conflicts);
    const n = (/** @type {Record<string, any>} */ r, /** @type {(x: any) => boolean} */ f) =>
      Object.values(r).filter(f).length;
    counts.approvals.textContent = String(n(c.approvals, (a) => a.status === "pending") || "");
    counts.tasks.textContent = String(Object.keys(c.tasks).length || "");
    counts.timers.textContent = String(Object.keys(c.timers).length || "");
    counts.conflicts.textContent = String(n(c.conflicts, (x) => x.status === "open") || "");
    tickTimes(el);
  }

  function renderHead() {
    const s = mirror.head;
    title.textContent = s.name || s.id || id;
    subtitle.textContent = s.name ? s.id : "";
    el.dataset.status = s.status;
    el.dataset.version = String(mirror.seq);
    fill(
      meta,
      statusPill(s.status),
      h("span", { class: "meta-item" }, "kind ", h("strong", { text: s.kind })),
      h("span", { class: "meta-item" }, "phase ", h("strong", { class: "phase", text: s.phase })),
      h(
        "span",
        { class: "meta-item" },
        "version ",
        h("strong", { class: "version", text: String(mirror.seq) }),
      ),
      h("span", { class: "meta-item" }, "updated ", since(s.updatedAt)),
      !TERMINAL.has(s.status) && s.expiresAt
        ? h("span", { class: "meta-item" }, "expires ", until(s.expiresAt))
        : null,
      s.completedAt
        ? h("span", { class: "meta-item", text: `ended ${when(s.completedAt)}` })
        : null,
      s.origin
        ? h(
          "span",
          { class: "meta-item" },
          "forked from ",
          h("a", { href: `#/s/${encodeURIComponent(s.origin.session)}`, text: s.origin.session }),
        )
        : null,
      (s.tags ?? []).map((/** @type {string} */ t) => h("span", { class: "tag", text: t })),
    );
    fill(overall, progressBar(s.progress ?? 0, "Overall progress"));
    const problems = [
      s.status === "failed" && s.error ? `Failed: ${s.error}` : "",
      s.status === "completed" && s.report !== undefined && s.report !== null
        ? `Report: ${short(s.report, 300)}`
        : "",
    ].filter(Boolean);
    outcome.hidden = problems.length === 0;
    outcome.className = `banner outcome ${s.status === "failed" ? "error" : "info"}`;
    outcome.textContent = problems.join(" · ");
    actions.render();
  }

  function renderState() {
    tree.render(mirror.state, mirror.lastChange);
    const ch = mirror.lastChange;
    lastChange.textContent = ch
      ? `last change #${ch.seq} ${ch.type}: ${
        ch.ops.slice(0, 3).map((o) => `${o.op} ${o.path || "/"}`).join(", ")
      }${ch.ops.length > 3 ? ` (+${ch.ops.length - 3})` : ""}`
      : "";
  }

  function renderAgents() {
    const entries = Object.entries(mirror.head.agents ?? {}).sort(([a], [b]) => a.localeCompare(b));
    if (entries.length === 0 && presence.length === 0) {
      fill(agents, h("p", { class: "muted", text: "No agents yet" }));
      return;
    }
    const names = new Set([...entries.map(([n]) => n), ...presence]);
    fill(
      agents,
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
          [...names].sort().map((name) => {
            const a = mirror.head.agents?.[name];
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

  /** @param {any} s a fresher session from a route */
  function headChanged(s) {
    if (mirror.refreshHead(s)) mark(["head", "agents"]);
    checkpoints.reload();
  }

  async function loadHead() {
    try {
      const s = await api(`/sessions/${seg(id)}`);
      if (disposed) return;
      if (!mirror.ready) return;
      if (mirror.refreshHead(s)) mark(["head"]);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) notFound();
    }
  }

  function notFound() {
    socket.close();
    fill(
      el,
      h("a", { class: "back", href: "#/", text: "← Sessions" }),
      h(
        "div",
        { class: "notice", role: "alert" },
        h("h2", { text: "Session not found" }),
        h("p", { text: `There is no session '${id}'. It may have been deleted.` }),
      ),
    );
  }

  /** @param {string} text @param {"info" | "error" | "warn"} kind */
  function say(text, kind) {
    banner.hidden = false;
    banner.dataset.kind = kind;
    banner.className = `banner ${kind}`;
    banner.textContent = text;
  }

  function unsay() {
    delete banner.dataset.kind;
    banner.hidden = true;
    banner.textContent = "";
  }

  const socket = new SessionSocket(id, {
    welcome(f) {
      const snapshot = f.replayed === undefined;
      mark(mirror.welcome(f));
      unsay();
      if (snapshot) {
        void timeline.reset(f.seq);
        void messages.load();
      }
      results.reload();
      checkpoints.reload();
      if (mirror.head.kind !== "default") refreshHead();
    },
    events(events) {
      let parts;
      try {
        parts = mirror.apply(events);
      } catch {
        socket.resync(0); // the mirror diverged: ask for a snapshot
        return;
      }
      timeline.push(events);
      if (parts.has("messages")) messages.push(events);
      if (parts.has("results")) results.reload();
      if (parts.has("checkpoints")) checkpoints.reload();
      if (
        events.some((e) =>
          ["paused", "resumed", "completed", "failed", "expired", "archived"].includes(e.type)
        )
      ) {
        void loadHead();
      } else if (
        mirror.head.kind !== "default" &&
        (parts.has("agents") || parts.has("tasks") || parts.has("state"))
      ) {
        refreshHead();
      }
      mark(parts);
    },
    presence(list) {
      presence = list;
      mark(["agents"]);
    },
    state(state, detail) {
      liveBadge.dataset.state = state;
      liveBadge.textContent = state === "live"
        ? "live"
        : state === "reconnecting"
        ? `reconnecting${detail.attempt > 1 ? ` (attempt ${detail.attempt})` : ""}…`
        : state === "gone"
        ? "deleted"
        : state === "closed"
        ? "closed"
        : "connecting…";
      if (state === "gone") say("This session was deleted.", "error");
    },
    async failing(attempt) {
      try {
        await api(`/sessions/${seg(id)}`);
        if (attempt >= 3) say("The live connection keeps dropping; retrying…", "warn");
      } catch (error) {
        if (!(error instanceof ApiError)) return;
        if (error.status === 404) notFound();
        else if (error.status === 0) say("The server cannot be reached. Reconnecting…", "warn");
      }
    },
  });

  const ticker = setInterval(() => tickTimes(el), 1000);
  socket.start();
  api(`/sessions/${seg(id)}`).catch((error) => {
    if (error instanceof ApiError && error.status === 404 && !disposed) notFound();
  });

  return {
    el,
    dispose() {
      disposed = true;
      clearInterval(ticker);
      refreshHead.cancel();
      results.reload.cancel();
      checkpoints.reload.cancel();
      timeline.dispose();
      socket.close();
    },
  };
}
