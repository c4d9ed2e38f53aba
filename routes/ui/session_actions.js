/**
 * The lifecycle buttons of a session page: pause, resume, complete, fail,
 * checkpoint, archive, export and delete, each shown when the session's
 * status allows it, with a confirmation where something is lost or ended.
 *
 * @module
 */
import { api, download, errorMessage, seg } from "./api.js";
import { ask, fill, h, toast } from "./dom.js";

/**
 * @typedef {{
 *   session: string,
 *   status(): string,
 *   changed(session: any): void,
 *   deleted(): void,
 *   checkpointed(): void,
 * }} ActionsHost
 */

/** Which buttons each status offers. */
const OFFERED = {
  active: ["pause", "complete", "fail", "checkpoint", "export", "delete"],
  paused: ["resume", "complete", "fail", "checkpoint", "export", "delete"],
  completed: ["archive", "export", "delete"],
  failed: ["archive", "export", "delete"],
  expired: ["archive", "export", "delete"],
  archived: ["export", "delete"],
};

const LABELS = {
  pause: "Pause",
  resume: "Resume",
  complete: "Complete",
  fail: "Fail",
  checkpoint: "Checkpoint",
  archive: "Archive",
  export: "Export",
  delete: "Delete",
};

export class SessionActions {
  #busy = false;

  /** @param {ActionsHost} host */
  constructor(host) {
    this.host = host;
    this.el = h("div", {
      class: "session-actions",
      role: "toolbar",
      "aria-label": "Session actions",
    });
  }

  render() {
    const status = this.host.status();
    const offered = OFFERED[/** @type {keyof typeof OFFERED} */ (status)] ?? ["export", "delete"];
    fill(
      this.el,
      offered.map((name) =>
        h("button", {
          type: "button",
          class: name === "delete" || name === "fail" ? "danger-outline small" : "small",
          dataset: { action: name },
          disabled: this.#busy,
          text: LABELS[/** @type {keyof typeof LABELS} */ (name)],
          onclick: () => void this.#run(name),
        })
      ),
    );
  }

  /** @param {string} name */
  async #run(name) {
    if (this.#busy) return;
    const id = this.host.session;
    const base = `/sessions/${seg(id)}`;
    /** @type {unknown} */
    let body = {};
    switch (name) {
      case "complete": {
        const report = await ask({
          title: "Complete this session?",
          message:
            "It stops taking commands; its hot state moves to history. This cannot be undone.",
          input: { label: "Report (optional, text or JSON)", multiline: true },
          action: "Complete",
          danger: true,
        });
        if (report === null) return;
        body = typeof report === "string" && report.trim() ? { report: parseMaybe(report) } : {};
        break;
      }
      case "fail": {
        const error = await ask({
          title: "Fail this session?",
          message: "It stops taking commands. This cannot be undone.",
          input: { label: "Error", required: true },
          action: "Fail session",
          danger: true,
        });
        if (typeof error !== "string") return;
        body = { error };
        break;
      }
      case "archive":
        if (
          !await ask({
            title: "Archive this session?",
            message: "A tar.gz archive is written and the session becomes archived.",
            action: "Archive",
          })
        ) return;
        break;
      case "delete":
        if (
          !await ask({
            title: "Delete this session?",
            message: "Its state, history, results, blobs and archive are all removed for good.",
            action: "Delete",
            danger: true,
            confirmText: id,
          })
        ) return;
        break;
      case "checkpoint": {
        const label = await ask({
          title: "Take a checkpoint",
          input: { label: "Label (optional)" },
          action: "Checkpoint",
        });
        if (label === null) return;
        body = typeof label === "string" && label.trim() ? { label: label.trim() } : {};
        break;
      }
    }
    this.#busy = true;
    this.render();
    try {
      switch (name) {
        case "export":
          await download(`${base}/export`, `${id}.tar.gz`);
          break;
        case "delete":
          await api(base, { method: "DELETE" });
          toast(`Deleted ${id}`);
          this.host.deleted();
          return;
        case "checkpoint": {
          const cp = await api(`${base}/checkpoints`, { method: "POST", body });
          toast(`Checkpoint ${cp.checkpoint}`);
          this.host.checkpointed();
          break;
        }
        default: {
          const s = await api(`${base}/${name}`, { method: "POST", body });
          toast(`${LABELS[/** @type {keyof typeof LABELS} */ (name)]}: ${s.status}`);
          this.host.changed(s);
        }
      }
    } catch (error) {
      toast(errorMessage(error), "error");
    } finally {
      this.#busy = false;
      this.render();
    }
  }
}

/**
 * JSON when it parses, else the text.
 *
 * @param {string} text
 * @returns {unknown}
 */
function parseMaybe(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
