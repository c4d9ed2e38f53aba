/**
 * The approvals inbox across sessions (`GET /v1/approvals`), oldest deadline
 * first: each pending approval with its session, deadline countdown and
 * decide buttons. Polls every few seconds; pages by cursor.
 *
 * @module
 */
import { api, qs } from "./api.js";
import { approvalCard } from "./approvals_panel.js";
import { fill, h, nameField, statusPill } from "./dom.js";
import { short, when } from "./format.js";
import { tickTimes } from "./live_times.js";

const PAGE = 50;
const POLL_MS = 3000;

/**
 * The inbox page.
 *
 * @param {URLSearchParams} params
 * @param {{navigate(hash: string, replace?: boolean): void, serverState(ok: boolean, text?: string): void,
 *   inboxCount(n: number | undefined): void}} app
 * @returns {{el: HTMLElement, dispose(): void}}
 */
export function inboxView(params, app) {
  let status = params.get("status") ?? "pending";
  /** @type {(string | undefined)[]} */
  let cursors = [undefined];
  /** @type {string | undefined} */
  let next;
  let disposed = false;
  let loading = false;

  const list = h("div", { class: "inbox-list" });
  const pageInfo = h("span", { class: "muted page-info" });
  const select = /** @type {HTMLSelectElement} */ (h(
    "select",
    {
      name: "status",
      "aria-label": "Status",
      onchange: () => {
        status = select.value;
        cursors = [undefined];
        app.navigate(`#/inbox${qs({ status: status === "pending" ? "" : status })}`, true);
        void load();
      },
    },
    ["pending", "decided", "expired"].map((s) => h("option", { value: s, text: s })),
  ));
  select.value = status;
  const prev = /** @type {HTMLButtonElement} */ (h("button", {
    type: "button",
    class: "small",
    text: "← Previous",
    onclick: () => {
      cursors = cursors.slice(0, -1);
      void load();
    },
  }));
  const nextBtn = /** @type {HTMLButtonElement} */ (h("button", {
    type: "button",
    class: "small",
    text: "Next →",
    onclick: () => {
      if (!next) return;
      cursors = [...cursors, next];
      void load();
    },
  }));

  const el = h(
    "section",
    { class: "inbox-view" },
    h("div", { class: "view-head" }, h("h1", { text: "Approvals" })),
    h(
      "div",
      { class: "toolbar" },
      select,
      nameField("Decide as"),
      h("span", { class: "muted small", text: "Oldest deadline first, across every session" }),
    ),
    list,
    h("div", { class: "pager" }, prev, pageInfo, nextBtn),
  );

  async function load() {
    if (disposed || loading) return;
    loading = true;
    let page;
    try {
      page = await api(
        `/approvals${qs({ status, limit: PAGE, cursor: cursors[cursors.length - 1] })}`,
      );
    } catch (error) {
      const e = /** @type {import("./api.js").ApiError} */ (error);
      if (e.status === 0) app.serverState(false, "Server unreachable, retrying…");
      else if (e.status !== 401) fill(list, h("p", { class: "error-text", text: e.message }));
      return;
    } finally {
      loading = false;
    }
    if (disposed) return;
    app.serverState(true);
    next = page.nextCursor ?? undefined;
    if (status === "pending" && cursors.length === 1) {
      app.inboxCount(page.nextCursor ? undefined : page.items.length);
    }
    render(page.items);
    pageInfo.textContent = `Page ${cursors.length} · ${page.items.length} shown`;
    prev.disabled = cursors.length <= 1;
    nextBtn.disabled = !next;
  }

  /** @param {any[]} items */
  function render(items) {
    if (items.length === 0) {
      fill(
        list,
        h("p", {
          class: "muted empty",
          text: status === "pending" ? "Nothing waits for a decision" : `No ${status} approvals`,
        }),
      );
      return;
    }
    // A list being typed in (a comment) is not redrawn under the person's hands.
    if (list.contains(document.activeElement) && document.activeElement?.tagName === "INPUT") {
      return;
    }
    fill(
      list,
      items.map((a) =>
        a.status === "pending"
          ? approvalCard(a, a.session, { showSession: true, decided: () => void load() })
          : h(
            "article",
            {
              class: "approval card-inner",
              dataset: { id: a.id, session: a.session, status: a.status },
            },
            h(
              "div",
              { class: "approval-head" },
              h("strong", { text: a.prompt }),
              statusPill(a.status === "decided" ? `${a.option}` : "expired"),
            ),
            h(
              "div",
              { class: "muted small" },
              h("a", { href: `#/s/${encodeURIComponent(a.session)}`, text: a.session }),
              ` · ${a.id}${a.by ? ` · by ${a.by}` : ""} · ${when(a.decidedAt)}`,
              a.comment ? ` · “${short(a.comment, 200)}”` : "",
            ),
          )
      ),
    );
    tickTimes(list);
  }

  const poll = setInterval(() => {
    if (document.visibilityState === "visible") void load();
  }, POLL_MS);
  const ticker = setInterval(() => tickTimes(list), 1000);
  void load();

  return {
    el,
    dispose() {
      disposed = true;
      clearInterval(poll);
      clearInterval(ticker);
    },
  };
}
