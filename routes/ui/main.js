/**
 * The inspector's entry: checks access, asks for the token when the server
 * wants one, and routes by the URL's hash: `#/` the session list (filters in
 * the hash's query), `#/s/<id>` one session, `#/inbox` the approvals inbox.
 * Until a call with the token succeeds the page shows only the token form.
 *
 * @module
 */
import { api, forgetToken, getToken, onUnauthorized, setToken } from "./api.js";
import { fill, h } from "./dom.js";
import { inboxView } from "./inbox_view.js";
import { listView } from "./list_view.js";
import { sessionView } from "./session_view.js";

const main = /** @type {HTMLElement} */ (document.getElementById("main"));
const serverState = /** @type {HTMLElement} */ (document.getElementById("server-state"));
const inboxBadge = /** @type {HTMLElement} */ (document.getElementById("inbox-count"));
const forgetButton = /** @type {HTMLButtonElement} */ (document.getElementById("forget-token"));

/** @type {{el: HTMLElement, dispose(): void} | undefined} */
let view;
let authed = false;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let retry;
/** @type {ReturnType<typeof setInterval> | undefined} */
let inboxPoll;

const app = {
  /**
   * Goes to `hash`; with `replace`, only rewrites the address (no new view).
   *
   * @param {string} hash
   * @param {boolean} [replace]
   */
  navigate(hash, replace = false) {
    if (replace) history.replaceState(null, "", hash);
    else if (location.hash === hash) route();
    else location.hash = hash;
  },
  /**
   * Tells whether the server answers.
   *
   * @param {boolean} ok
   * @param {string} [text]
   */
  serverState(ok, text) {
    serverState.dataset.state = ok ? "ok" : "down";
    serverState.textContent = ok ? "" : text ?? "Server unreachable";
  },
  /** @param {number | undefined} n pending approvals, undefined for "many" */
  inboxCount(n) {
    inboxBadge.hidden = n === 0;
    inboxBadge.textContent = n === undefined ? "50+" : String(n);
  },
};

function route() {
  if (!authed) return;
  view?.dispose();
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query = ""] = hash.split("?");
  const params = new URLSearchParams(query);
  let match;
  if ((match = /^\/s\/(.+)$/.exec(path))) {
    view = sessionView(decodeURIComponent(match[1]), app);
    nav("sessions");
  } else if (path === "/inbox") {
    view = inboxView(params, app);
    nav("inbox");
  } else {
    view = listView(params, app);
    nav("sessions");
  }
  fill(main, view.el);
  scrollTo(0, 0);
}

/** @param {string} which */
function nav(which) {
  for (const a of document.querySelectorAll("[data-nav]")) {
    const on = /** @type {HTMLElement} */ (a).dataset.nav === which;
    a.classList.toggle("current", on);
    if (on) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

/** Tries the API with the token kept for the tab; shows the views, or says why not. */
async function checkAccess() {
  clearTimeout(retry);
  try {
    await api("/sessions?limit=1");
  } catch (error) {
    const e = /** @type {import("./api.js").ApiError} */ (error);
    if (e.status === 401) return gate(getToken() ? "refused" : "missing", e.message);
    if (e.status === 403) {
      return gate(
        "forbidden",
        "This token reaches one session only; the inspector needs the server's token.",
      );
    }
    if (e.status === 0) {
      offline();
      retry = setTimeout(() => void checkAccess(), 2000);
      return;
    }
    fill(
      main,
      h(
        "div",
        { class: "notice error", role: "alert" },
        h("h2", { text: "The server answered with an error" }),
        h("p", { text: e.message }),
      ),
    );
    retry = setTimeout(() => void checkAccess(), 5000);
    return;
  }
  authed = true;
  app.serverState(true);
  forgetButton.hidden = !getToken();
  startInboxPoll();
  route();
}

function offline() {
  authed = false;
  view?.dispose();
  view = undefined;
  app.serverState(false, "Server unreachable");
  fill(
    main,
    h(
      "div",
      { class: "notice", role: "alert", id: "offline" },
      h("h2", { text: "The server cannot be reached" }),
      h("p", { text: "Retrying every few seconds…" }),
    ),
  );
}

/**
 * The token form.
 *
 * @param {"missing" | "refused" | "forbidden"} why
 * @param {string} detail the server's message
 */
function gate(why, detail) {
  authed = false;
  view?.dispose();
  view = undefined;
  stopInboxPoll();
  inboxBadge.hidden = true;
  forgetButton.hidden = true;
  const messages = {
    missing: "This server needs a token. Enter the value of DENIZEN_TOKEN to continue.",
    refused: "The token was not accepted. Check it and enter it again.",
    forbidden: "This token cannot open the inspector.",
  };
  const input = /** @type {HTMLInputElement} */ (h("input", {
    type: "password",
    id: "token-input",
    name: "token",
    autocomplete: "off",
    spellcheck: false,
    required: true,
    "aria-describedby": "gate-message",
  }));
  fill(
    main,
    h(
      "form",
      {
        class: "gate",
        id: "gate",
        dataset: { reason: why },
        onsubmit: (/** @type {Event} */ e) => {
          e.preventDefault();
          const token = input.value.trim();
          if (!token) return;
          setToken(token);
          void checkAccess();
        },
      },
      h("h1", { text: "Sign in to the inspector" }),
      h("p", {
        id: "gate-message",
        class: why === "missing" ? "" : "error-text",
        role: "alert",
        text: messages[why],
      }),
      why === "missing" ? null : h("p", { class: "muted small", text: `Server said: ${detail}` }),
      h("label", { class: "field" }, h("span", { text: "Token" }), input),
      h("p", {
        class: "muted small",
        text: "It is kept for this tab only (sessionStorage) and sent with every request.",
      }),
      h("button", { type: "submit", class: "primary", text: "Continue" }),
    ),
  );
  input.focus();
}

function startInboxPoll() {
  stopInboxPoll();
  const poll = async () => {
    if (document.visibilityState !== "visible") return;
    try {
      const page = await api("/approvals?status=pending&limit=50");
      app.inboxCount(page.nextCursor ? undefined : page.items.length);
    } catch {
      // the views say what is wrong
    }
  };
  void poll();
  inboxPoll = setInterval(poll, 5000);
}

function stopInboxPoll() {
  clearInterval(inboxPoll);
}

onUnauthorized((error) => {
  if (!authed) return;
  gate(getToken() ? "refused" : "missing", error.message);
});

forgetButton.addEventListener("click", () => {
  forgetToken();
  location.hash = "#/";
  void checkAccess();
});

addEventListener("hashchange", route);
void checkAccess();
