/**
 * One session, live: the page opens the session's WebSocket, keeps a mirror
 * from the welcome and the events, and redraws only the panels an event
 * touched, at most once per frame (the state tree at most five times a
 * second). History panels page from the HTTP API. After a drop (a server
 * restart, say) the socket resumes with `since`; a snapshot welcome reloads
 * the history panels too.
 *
 * @module
 */
import { AgentsPanel } from "./agents_panel.js";
import { api, ApiError, seg } from "./api.js";
import { ApprovalsPanel } from "./approvals_panel.js";
import { ConflictsPanel } from "./conflicts_panel.js";
import { fill, h, perFrame, throttle } from "./dom.js";
import { CheckpointsPanel, MessagesPanel, ResultsPanel } from "./history_panels.js";
import { JsonTree } from "./json_tree.js";
import { tickTimes } from "./live_times.js";
import { SessionActions } from "./session_actions.js";
import { SessionHead } from "./session_head.js";
import { SessionMirror } from "./session_mirror.js";
import { SessionSocket } from "./session_socket.js";
import { TaskBoard } from "./task_board.js";
import { Timeline } from "./timeline.js";
import { TimersPanel } from "./timers_panel.js";

/** @typedef {import("./session_mirror.js").Part} Part */

const LIFECYCLE = new Set(["paused", "resumed", "completed", "failed", "expired", "archived"]);

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
 * @param {Record<string, any>} records
 * @param {(r: any) => boolean} [which]
 * @returns {string} the count, or "" for none
 */
function count(records, which = () => true) {
  return String(Object.values(records).filter(which).length || "");
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
  /** @type {readonly string[]} */
  let presence = [];
  let shownStatus = "";

  const tree = new JsonTree({ depth: 2 });
  const lastChange = h("span", { class: "muted small last-change" });
  const agents = new AgentsPanel();
  const timeline = new Timeline(id);
  const messages = new MessagesPanel(id);
  const results = new ResultsPanel(id);
  const approvals = new ApprovalsPanel(id);
  const board = new TaskBoard(id, {
    writable: () => mirror.head.status === "active" || mirror.head.status === "paused",
  });
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
  const head = new SessionHead(id, actions);
  const counts = {
    approvals: h("span", { class: "count" }),
    tasks: h("span", { class: "count" }),
    timers: h("span", { class: "count" }),
    conflicts: h("span", { class: "count" }),
  };
  /** @param {string} text @param {() => void} onclick */
  const treeButton = (text, onclick) =>
    h("button", { type: "button", class: "ghost small", text, onclick });

  const el = h(
    "section",
    { class: "session-view", dataset: { session: id } },
    head.el,
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
          treeButton("Expand", () => tree.expandAll()),
          treeButton("Collapse", () => tree.collapseAll()),
        ),
        card("Agents", "agents", agents.el),
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
  // The tree redraws at most five times a second, so that its toggles stay clickable under load.
  const drawState = throttle(() => {
    if (!disposed) renderState();
  }, 200);
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
    const statusChanged = mirror.head.status !== shownStatus;
    shownStatus = mirror.head.status;
    el.dataset.status = mirror.head.status;
    el.dataset.version = String(mirror.seq);
    if (parts.has("head") || parts.has("progress")) head.render(mirror.head, mirror.seq);
    if (parts.has("state")) drawState();
    if (parts.has("agents") || statusChanged) agents.render(mirror.head.agents ?? {}, presence);
    const c = mirror.coordination;
    if (parts.has("approvals")) approvals.render(c.approvals);
    if (parts.has("tasks") || statusChanged) board.render(c.tasks);
    if (parts.has("timers")) timers.render(c.timers);
    if (parts.has("conflicts")) conflicts.render(c.conflicts);
    counts.approvals.textContent = count(c.approvals, (a) => a.status === "pending");
    counts.tasks.textContent = count(c.tasks);
    counts.timers.textContent = count(c.timers);
    counts.conflicts.textContent = count(c.conflicts, (x) => x.status === "open");
    tickTimes(el);
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

  /** @param {any} s a fresher session from a route */
  function headChanged(s) {
    if (mirror.refreshHead(s)) mark(["head", "agents"]);
    checkpoints.reload();
  }

  async function loadHead() {
    try {
      const s = await api(`/sessions/${seg(id)}`);
      if (!disposed && mirror.ready && mirror.refreshHead(s)) mark(["head"]);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) notFound();
    }
  }

  function notFound() {
    if (disposed) return;
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

  const socket = new SessionSocket(id, {
    welcome(f) {
      mark(mirror.welcome(f));
      head.unsay();
      if (f.replayed === undefined) {
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
      if (events.some((e) => LIFECYCLE.has(e.type))) void loadHead();
      else if (
        mirror.head.kind !== "default" &&
        (parts.has("agents") || parts.has("tasks") || parts.has("state"))
      ) refreshHead();
      mark(parts);
    },
    presence(list) {
      presence = list;
      mark(["agents"]);
    },
    state(state, detail) {
      head.live(state, detail.attempt);
      if (state === "gone") head.say("This session was deleted.", "error");
    },
    async failing(attempt) {
      try {
        await api(`/sessions/${seg(id)}`);
        if (attempt >= 3) head.say("The live connection keeps dropping; retrying…", "warn");
      } catch (error) {
        if (!(error instanceof ApiError)) return;
        if (error.status === 404) notFound();
        else if (error.status === 0) {
          head.say("The server cannot be reached. Reconnecting…", "warn");
        }
      }
    },
  });

  const ticker = setInterval(() => tickTimes(el), 1000);
  socket.start();
  api(`/sessions/${seg(id)}`).catch((error) => {
    if (error instanceof ApiError && error.status === 404) notFound();
  });

  return {
    el,
    dispose() {
      disposed = true;
      clearInterval(ticker);
      refreshHead.cancel();
      drawState.cancel();
      results.reload.cancel();
      checkpoints.reload.cancel();
      timeline.dispose();
      socket.close();
    },
  };
}
