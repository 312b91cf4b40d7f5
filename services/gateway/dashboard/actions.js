// Placing an order (a scenario) and running a load burst, with the burst's progress.

import { placeOrder, runLoad } from "./api.js";
import { setText } from "./dom.js";
import { plural } from "./format.js";

/** @typedef {import("./types.js").LoadView} LoadView */
/** @typedef {import("./types.js").OrderScenario} OrderScenario */

/**
 * @param {object} deps
 * @param {HTMLFormElement} deps.placeForm
 * @param {HTMLFormElement} deps.loadForm
 * @param {HTMLProgressElement} deps.loadBar
 * @param {HTMLElement} deps.loadText
 * @param {(orderId: string) => void} deps.onPlaced
 * @param {(message: string) => void} deps.announce
 * @param {(what: string, error: unknown) => void} deps.onError
 */
export function createActions({ placeForm, loadForm, loadBar, loadText, onPlaced, announce, onError }) {
  const scenarioSelect = /** @type {HTMLSelectElement} */ (placeForm.elements.namedItem("scenario"));
  const placeButton = /** @type {HTMLButtonElement} */ (placeForm.querySelector('button[type="submit"]'));
  const ordersInput = /** @type {HTMLInputElement} */ (loadForm.elements.namedItem("orders"));
  const loadButton = /** @type {HTMLButtonElement} */ (loadForm.querySelector('button[type="submit"]'));

  placeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const scenario = /** @type {OrderScenario} */ (scenarioSelect.value);
    const label = scenarioSelect.selectedOptions[0]?.textContent ?? scenario;
    placeButton.disabled = true;
    placeForm.setAttribute("aria-busy", "true");
    try {
      const { orderId } = await placeOrder(scenario);
      announce(`Placed order ${orderId} (${label})`);
      onPlaced(orderId);
    } catch (err) {
      onError(`Placing the order (${label})`, err);
    } finally {
      placeButton.disabled = false;
      placeForm.setAttribute("aria-busy", "false");
    }
  });

  /** @type {LoadView | null} */
  let current = null;

  /**
   * @param {LoadView | null} load
   */
  const renderLoad = (load) => {
    current = load;
    if (!load) {
      loadBar.max = 1;
      loadBar.value = 0;
      setText(loadText, "No burst yet.");
      loadButton.disabled = false;
      return;
    }
    const done = load.placed + load.failed;
    loadBar.max = Math.max(1, load.requested);
    loadBar.value = Math.min(done, load.requested);
    const failed = load.failed > 0 ? `, ${load.failed} failed` : "";
    setText(
      loadText,
      load.running
        ? `Running: ${done} of ${plural(load.requested, "order")} sent (${load.placed} placed${failed}).`
        : `Last burst: ${load.placed} of ${plural(load.requested, "order")} placed${failed}.`,
    );
    loadButton.disabled = load.running;
    loadForm.setAttribute("aria-busy", String(load.running));
  };

  loadForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const orders = Number(ordersInput.value);
    if (!Number.isInteger(orders) || orders < 1 || orders > 100) {
      onError("Running the load", new Error("the burst must be a whole number of orders from 1 to 100"));
      ordersInput.focus();
      return;
    }
    loadButton.disabled = true;
    try {
      const load = await runLoad(orders);
      announce(`Load burst of ${plural(orders, "order")} started`);
      renderLoad(load);
    } catch (err) {
      onError("Running the load", err);
      renderLoad(current);
    }
  });

  return { renderLoad };
}
