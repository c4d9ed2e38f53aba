/**
 * The session list: `GET /v1/sessions` with its filters (status, kind, tag,
 * agent, waiting for approval, open conflicts), full-text search, counts by
 * status (`count=true`), and paging by cursor, 50 a page. It polls every few
 * seconds while the tab is visible. The filters live in the URL's hash, so a
 * filtered list can be bookmarked and the back button works.
 *
 * @module
 */
import { api, qs } from "./api.js";
import { fill, h, progressBar, statusPill } from "./dom.js";
import { ago, when } from "./format.js";

const STATUSES = ["active", "paused", "completed", "failed", "expired", "archived"];
const PAGE = 50;
const POLL_MS = 3000;
const TEXT_FILTERS = ["q", "kind", "tag", "agent"];

/**
 * The list page.
 *
 * @param {URLSearchParams} params the hash's query
 * @param {{navigate(hash: string, replace?: boolean): void, serverState(ok: boolean, text?: string): void}} app
 * @returns {{el: HTMLElement, dispose(): void}}
 */
export function listView(params, app) {
  /** @type {Record<string, string>} */
  const filters = {};
  for (const k of [...TEXT_FILTERS, "status", "waiting", "conflicts"]) {
    const v = params.get(k);
    if (v) filters[k] = v;
  }
  /** Cursors of the pages before this one; the current page's cursor last. @type {(string | undefined)[]} */
  let cursors = [params.get("cursor") ?? undefined];
  /** @type {string | undefined} */
  let next;
  let disposed = false;
  /** @type {AbortController | undefined} */
  let inFlight;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let typing;

  const countsBar = h("div", {
    class: "counts",
    role: "group",
    "aria-label": "Sessions by status",
  });
  const tbody = h("tbody");
  const pageInfo = h("span", { class: "muted page-info" });
  const refreshed = h("span", { class: "muted small refreshed" });
  const prev = /** @type {HTMLButtonElement} */ (h("button", {
    type: "button",
    class: "small",
    dataset: { action: "newer" },
    text: "← Newer",
    onclick: () => {
      if (cursors.length <= 1) return;
      cursors = cursors.slice(0, -1);
      void load(true);
    },
  }));
  const nextBtn = /** @type {HTMLButtonElement} */ (h("button", {
    type: "button",
    class: "small",
    dataset: { action: "older" },
    text: "Older →",
    onclick: () => {
      if (!next) return;
      cursors = [...cursors, next];
      void load(true);
    },
  }));

  /**
   * @param {string} name
   * @param {string} label
   * @param {string} placeholder
   * @param {string} [type]
   */
  const text = (name, label, placeholder, type = "text") => {
    const input = /** @type {HTMLInputElement} */ (h("input", {
      type,
      name,
      placeholder,
      value: filters[name] ?? "",
      "aria-label": label,
      spellcheck: false,
      autocomplete: "off",
    }));
    input.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(applyText, 250);
    });
    inputs.push(input);
    return input;
  };
  /** @type {HTMLInputElement[]} */
  const inputs = [];
  /** Takes every text filter as typed (one pause in typing, however many fields changed). */
  const applyText = () => {
    for (const input of inputs) {
      const v = input.value.trim();
      if (v) filters[input.name] = v;
      else delete filters[input.name];
    }
    set("", "");
  };
  const statusSelect = /** @type {HTMLSelectElement} */ (h(
    "select",
    { name: "status", "aria-label": "Status", onchange: () => set("status", statusSelect.value) },
    h("option", { value: "", text: "Any status" }),
    STATUSES.map((s) => h("option", { value: s, text: s })),
  ));
  statusSelect.value = filters.status ?? "";
  /**
   * @param {string} name
   * @param {string} value
   * @param {string} label
   */
  const check = (name, value, label) =>
    h(
      "label",
      { class: "check" },
      h("input", {
        type: "checkbox",
        name,
        checked: filters[name] === value,
        onchange: (/** @type {Event} */ e) =>
          set(name, /** @type {HTMLInputElement} */ (e.target).checked ? value : ""),
      }),
      label,
    );

  const el = h(
    "section",
    { class: "list-view" },
    h("div", { class: "view-head" }, h("h1", { text: "Sessions" }), refreshed),
    countsBar,
    h(
      "form",
      {
        class: "filters",
        role: "search",
        onsubmit: (/** @type {Event} */ e) => e.preventDefault(),
      },
      text("q", "Search", "Search names, tags, meta, state, messages…", "search"),
      statusSelect,
      text("kind", "Kind", "kind"),
      text("tag", "Tag", "tag"),
      text("agent", "Agent", "agent"),
      check("waiting", "approval", "Waiting for approval"),
      check("conflicts", "open", "Open conflicts"),
    ),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "sessions" },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            ["Session", "Kind", "Status", "Phase", "Progress", "Agents", "Needs", "Updated"].map((
              t,
            ) => h("th", { scope: "col", text: t })),
          ),
        ),
        tbody,
      ),
    ),
    h("div", { class: "pager" }, prev, pageInfo, nextBtn),
  );

  /**
   * @param {string} name
   * @param {string} value
   */
  function set(name, value) {
    if (name && value) filters[name] = value;
    else if (name) delete filters[name];
    cursors = [undefined];
    app.navigate(`#/${qs(filters)}`, true);
    void load(true);
  }

  /** @param {boolean} [fresh] drop what is shown while loading */
  async function load(fresh = false) {
    if (disposed) return;
    if (inFlight && !fresh) return;
    inFlight?.abort();
    const ctrl = new AbortController();
    inFlight = ctrl;
    const cursor = cursors[cursors.length - 1];
    let page;
    try {
      page = await api(`/sessions${qs({ ...filters, limit: PAGE, count: true, cursor })}`, {
        signal: ctrl.signal,
      });
    } catch (error) {
      if (ctrl.signal.aborted || disposed) return;
      const e = /** @type {import("./api.js").ApiError} */ (error);
      if (e.status === 0) app.serverState(false, "Server unreachable, retrying…");
      else if (e.status !== 401) {
        fill(tbody, h("tr", null, h("td", { colspan: "8", class: "error-text", text: e.message })));
      }
      return;
    } finally {
      if (inFlight === ctrl) inFlight = undefined;
    }
    if (disposed) return;
    app.serverState(true);
    next = page.nextCursor ?? undefined;
    renderCounts(page.total ?? {});
    renderRows(page.items);
    const n = cursors.length;
    pageInfo.textContent = `Page ${n} · ${page.items.length} shown`;
    prev.disabled = n <= 1;
    nextBtn.disabled = !next;
    refreshed.textContent = `refreshed ${new Date().toLocaleTimeString([], { hour12: false })}`;
  }

  /** @param {Record<string, number>} total */
  function renderCounts(total) {
    const all = STATUSES.reduce((sum, s) => sum + (total[s] ?? 0), 0);
    /**
     * @param {string} status
     * @param {string} label
     * @param {number} n
     */
    const chip = (status, label, n) =>
      h(
        "button",
        {
          type: "button",
          class: `chip${(filters.status ?? "") === status ? " selected" : ""}${
            status ? ` status-${status}` : ""
          }`,
          "aria-pressed": String((filters.status ?? "") === status),
          dataset: { status: status || "all", count: String(n) },
          onclick: () => {
            statusSelect.value = status;
            set("status", status);
          },
        },
        h("span", { text: label }),
        h("strong", { text: n.toLocaleString() }),
      );
    fill(countsBar, chip("", "All", all), STATUSES.map((s) => chip(s, s, total[s] ?? 0)));
  }

  /** @param {any[]} items */
  function renderRows(items) {
    if (items.length === 0) {
      fill(
        tbody,
        h(
          "tr",
          null,
          h("td", {
            colspan: "8",
            class: "muted empty",
            text: Object.keys(filters).length > 0
              ? "No session matches these filters"
              : "No sessions yet",
          }),
        ),
      );
      return;
    }
    fill(
      tbody,
      items.map((s) => {
        const agents = Object.keys(s.agents ?? {});
        const href = `#/s/${encodeURIComponent(s.id)}`;
        return h(
          "tr",
          {
            class: "session-row",
            dataset: { id: s.id, status: s.status },
            onclick: (/** @type {MouseEvent} */ e) => {
              if (/** @type {HTMLElement} */ (e.target).closest("a, button")) return;
              app.navigate(href);
            },
          },
          h(
            "td",
            { class: "session-name" },
            h("a", { href, text: s.name || s.id }),
            s.name || (s.tags ?? []).length > 0
              ? h(
                "div",
                { class: "session-sub-line" },
                s.name ? h("span", { class: "muted small mono", text: s.id }) : null,
                (s.tags ?? []).slice(0, 6).map((/** @type {string} */ t) =>
                  h("span", { class: "tag", text: t })
                ),
              )
              : null,
          ),
          h("td", { text: s.kind }),
          h("td", null, statusPill(s.status)),
          h("td", { class: "small", text: s.phase }),
          h("td", null, progressBar(s.progress)),
          h("td", {
            class: "small",
            title: agents.join(", "),
            text: agents.length ? String(agents.length) : "—",
          }),
          h(
            "td",
            null,
            s.pendingApprovals > 0
              ? h("span", {
                class: "pill attention",
                title: "Pending approvals",
                text: `${s.pendingApprovals} approval${s.pendingApprovals === 1 ? "" : "s"}`,
              })
              : null,
            s.openConflicts > 0
              ? h("span", {
                class: "pill warn",
                title: "Open conflicts",
                text: `${s.openConflicts} conflict${s.openConflicts === 1 ? "" : "s"}`,
              })
              : null,
          ),
          h("td", { class: "small", title: when(s.updatedAt), text: ago(s.updatedAt) }),
        );
      }),
    );
  }

  const timer = setInterval(() => {
    if (document.visibilityState === "visible") void load();
  }, POLL_MS);
  void load(true);

  return {
    el,
    dispose() {
      disposed = true;
      clearInterval(timer);
      clearTimeout(typing);
      inFlight?.abort();
    },
  };
}
