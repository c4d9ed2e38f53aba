/**
 * Countdowns and "ago" times that stay current: elements carry
 * `data-until` or `data-since`, and {@linkcode tickTimes} refreshes their
 * text (a view calls it every second).
 *
 * @module
 */
import { h } from "./dom.js";
import { ago, countdown, when } from "./format.js";

/**
 * Refreshes every countdown and "ago" under `root`.
 *
 * @param {ParentNode} root
 */
export function tickTimes(root) {
  const now = Date.now();
  for (const el of root.querySelectorAll("[data-until]")) {
    const at = /** @type {HTMLElement} */ (el).dataset.until;
    el.textContent = countdown(at, now);
    el.classList.toggle("overdue", Date.parse(at ?? "") < now);
    el.classList.toggle("soon", Date.parse(at ?? "") - now < 60_000);
  }
  for (const el of root.querySelectorAll("[data-since]")) {
    el.textContent = ago(/** @type {HTMLElement} */ (el).dataset.since, now);
  }
}

/**
 * A countdown element.
 *
 * @param {string} at
 * @returns {HTMLElement}
 */
export function until(at) {
  return h("span", {
    class: "countdown",
    dataset: { until: at },
    title: when(at),
    text: countdown(at),
  });
}

/**
 * An "ago" element.
 *
 * @param {string} at
 * @returns {HTMLElement}
 */
export function since(at) {
  return h("span", { class: "ago", dataset: { since: at }, title: when(at), text: ago(at) });
}
