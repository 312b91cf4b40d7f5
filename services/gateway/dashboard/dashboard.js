// The dashboard's entry: opens the live stream and hands each view to the page's parts.

import { createActions } from "./actions.js";
import { STREAM_URL } from "./api.js";
import { createCharts } from "./charts.js";
import { setAttr, setText } from "./dom.js";
import { createFaults } from "./faults.js";
import { formatClock } from "./format.js";
import { createMessaging } from "./messaging.js";
import { createOrders } from "./orders.js";
import { announce, showError } from "./status.js";
import { openStream } from "./stream.js";
import { createTimeline } from "./timeline.js";
import { createTopology } from "./topology.js";
import { createTrace } from "./trace.js";

/** @typedef {import("./types.js").MeshView} MeshView */

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @returns {T}
 */
function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return /** @type {T} */ (node);
}

const connection = byId("connection");
const connectionText = /** @type {HTMLElement} */ (connection.querySelector(".connection-text"));
const sagaMode = byId("saga-mode");
const updatedAt = byId("updated-at");

const timeline = createTimeline(byId("timeline"), showError);
const trace = createTrace(byId("trace"));

const orders = createOrders(byId("orders"), byId("orders-summary"), (orderId) => select(orderId));

/**
 * Opens an order's timeline and marks its row.
 * @param {string} orderId
 */
function select(orderId) {
  orders.select(orderId);
  timeline.show(orderId);
  trace.show(orderId);
}

const topology = createTopology({
  legend: byId("topology-legend"),
  drawing: byId("topology-drawing"),
  instances: byId("topology-list"),
  breakers: byId("breaker-list"),
  links: byId("link-list"),
});

const faults = createFaults({
  form: byId("fault-form"),
  clearButton: byId("clear-faults"),
  list: byId("faults"),
  announce,
  onError: showError,
});

const actions = createActions({
  placeForm: byId("place-form"),
  loadForm: byId("load-form"),
  loadBar: byId("load-bar"),
  loadText: byId("load-progress-text"),
  onPlaced: select,
  announce,
  onError: showError,
});

const messaging = createMessaging(byId("messaging"), announce, showError);

const charts = createCharts({
  rate: byId("chart-rate"),
  latency: byId("chart-latency"),
  outcomes: byId("chart-outcomes"),
});

/**
 * Runs one part's render; a failing part says so and leaves the others drawing.
 * @param {string} part
 * @param {() => void} render
 */
function guard(part, render) {
  try {
    render();
  } catch (err) {
    showError(`Drawing the ${part}`, err);
  }
}

/**
 * @param {MeshView} view
 * @param {boolean} full
 */
function onView(view, full) {
  setText(sagaMode, view.saga.mode);
  setText(updatedAt, formatClock(view.at));
  setAttr(updatedAt, "datetime", view.at);
  guard("orders", () => orders.apply(view.orders, view.droppedOrderIds, full));
  const shown = timeline.orderId;
  if (shown !== null && (view.orders.some((order) => order.orderId === shown) || full)) {
    timeline.refresh();
    trace.refresh();
  }
  guard("topology", () => topology.render(view));
  guard("fault list", () => faults.render(view));
  guard("load progress", () => actions.renderLoad(view.load));
  guard("messaging health", () => messaging.render(view));
  guard("charts", () => charts.render(view.charts));
}

openStream(STREAM_URL, {
  onView,
  onState(state, detail) {
    setAttr(connection, "data-connection", state);
    setText(connectionText, detail);
  },
  onError(error) {
    showError("Reading the live view", error);
  },
});

// Ages move on between events, and while the stream is down.
setInterval(() => orders.tick(), 5000);
