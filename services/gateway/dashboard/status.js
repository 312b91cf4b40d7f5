// The page's messages: what an action did (role="status") and what went wrong (role="alert").

import { setText } from "./dom.js";

const status = /** @type {HTMLElement} */ (document.getElementById("status"));
const alertBox = /** @type {HTMLElement} */ (document.getElementById("alert"));
const alertText = /** @type {HTMLElement} */ (alertBox.querySelector(".alert-text"));
const dismiss = /** @type {HTMLButtonElement} */ (alertBox.querySelector(".alert-dismiss"));

dismiss.addEventListener("click", () => {
  alertBox.hidden = true;
  setText(alertText, "");
});

/**
 * Says what an action did.
 * @param {string} message
 */
export function announce(message) {
  const time = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  setText(status, `${time} · ${message}`);
}

/**
 * Shows an error until dismissed (a newer one replaces it).
 * @param {string} what what the page was doing: "Placing the order"
 * @param {unknown} error
 */
export function showError(what, error) {
  const message = error instanceof Error ? error.message : String(error);
  const code = error && typeof error === "object" && "code" in error ? String(error.code) : "";
  const time = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  alertText.textContent = `${time} · ${what} failed${code ? ` (${code})` : ""}: ${message}`;
  alertBox.hidden = false;
}
