// The orders list: one table row per order, newest first, updated by key (only new and changed rows are
// touched), each with a button that opens the order's saga timeline.

import { el, setAttr, setText } from "./dom.js";
import { formatAge, plural, stateTone } from "./format.js";

/** @typedef {import("./types.js").OrderRow} OrderRow */

/**
 * @typedef {object} Entry
 * @property {OrderRow} order
 * @property {number} created
 * @property {HTMLTableRowElement} row
 * @property {HTMLButtonElement} button
 * @property {HTMLElement} state
 * @property {HTMLElement} total
 * @property {HTMLElement} menu
 * @property {HTMLElement} reason
 * @property {HTMLElement} consumer
 * @property {HTMLElement} age
 */

/**
 * @param {HTMLElement} container the [data-region="orders"] element
 * @param {HTMLElement} summary
 * @param {(orderId: string) => void} onSelect
 */
export function createOrders(container, summary, onSelect) {
  const tbody = el("tbody");
  const table = el(
    "table",
    { class: "orders-table" },
    el("caption", { class: "visually-hidden", text: "Orders, newest first" }),
    el(
      "thead",
      null,
      el(
        "tr",
        null,
        el("th", { scope: "col", text: "Order" }),
        el("th", { scope: "col", text: "Consumer" }),
        el("th", { scope: "col", text: "State" }),
        el("th", { scope: "col", text: "Total" }),
        el("th", { scope: "col", text: "Reason" }),
        el("th", { scope: "col", class: "num", text: "Age" }),
      ),
    ),
    tbody,
  );
  const empty = el("p", { class: "empty", text: "No orders yet: place one, or run a load burst." });
  container.replaceChildren(empty, table);

  /** @type {Map<string, Entry>} */
  const entries = new Map();
  /** @type {string | null} */
  let selected = null;

  tbody.addEventListener("click", (event) => {
    const button = /** @type {Element} */ (event.target).closest("button[data-select]");
    if (!button) return;
    const orderId = button.getAttribute("data-select");
    if (orderId) onSelect(orderId);
  });

  /**
   * @param {OrderRow} order
   * @returns {Entry}
   */
  const createEntry = (order) => {
    const button = el("button", {
      type: "button",
      class: "link-button order-id",
      "data-select": order.orderId,
      "aria-pressed": "false",
      title: `Show the saga of order ${order.orderId}`,
      text: order.orderId,
    });
    const consumer = el("td", { class: "mono" });
    const state = el("span", { class: "badge" });
    const total = el("span", { class: "total" });
    const menu = el("span", {
      class: "badge badge-warn",
      title: "The kitchen did not answer GetMenu: the order was priced from the last menu the order service saw",
      text: "last known menu",
    });
    const reason = el("td", { class: "reason" });
    const age = el("td", { class: "num age" });
    const row = el(
      "tr",
      { "data-order-id": order.orderId },
      el("td", null, button),
      consumer,
      el("td", null, state),
      el("td", null, total, " ", menu),
      reason,
      age,
    );
    return {
      order,
      created: Date.parse(order.createTime) || 0,
      row,
      button,
      state,
      total,
      menu,
      reason,
      consumer,
      age,
    };
  };

  /**
   * @param {Entry} entry
   * @param {OrderRow} order
   */
  const fill = (entry, order) => {
    entry.order = order;
    entry.created = Date.parse(order.createTime) || 0;
    setAttr(entry.row, "data-state", order.state);
    setAttr(entry.row, "data-priced-from-last-known-menu", String(order.pricedFromLastKnownMenu));
    setText(entry.consumer, order.consumerId);
    setText(entry.state, order.state);
    setAttr(entry.state, "class", `badge state-${stateTone(order.state)}`);
    setText(entry.total, order.total);
    entry.menu.hidden = !order.pricedFromLastKnownMenu;
    setText(entry.reason, order.reason);
    setAttr(entry.reason, "title", order.reason);
    const isSelected = order.orderId === selected;
    setAttr(entry.button, "aria-pressed", String(isSelected));
    entry.row.classList.toggle("selected", isSelected);
  };

  /**
   * @param {Entry} a
   * @param {Entry} b
   */
  const newestFirst = (a, b) =>
    b.created - a.created || (a.order.orderId < b.order.orderId ? 1 : a.order.orderId > b.order.orderId ? -1 : 0);

  const updateAges = () => {
    const now = Date.now();
    for (const entry of entries.values()) setText(entry.age, formatAge(now - entry.created));
  };

  const updateSummary = () => {
    /** @type {Record<string, number>} */
    const counts = {};
    for (const { order } of entries.values()) counts[order.state] = (counts[order.state] ?? 0) + 1;
    const parts = [plural(entries.size, "order")];
    for (const [state, n] of Object.entries(counts).sort((a, b) => b[1] - a[1])) parts.push(`${n} ${state}`);
    setText(summary, entries.size === 0 ? "No orders yet." : parts.join(" · "));
    empty.hidden = entries.size > 0;
  };

  return {
    /**
     * Applies one view event's orders.
     * @param {readonly OrderRow[]} changed new or changed orders
     * @param {readonly string[]} dropped
     * @param {boolean} full `changed` is every order: the others go
     */
    apply(changed, dropped, full) {
      performance.mark("ftgo:orders-render-start");
      if (full) {
        const keep = new Set(changed.map((order) => order.orderId));
        for (const [orderId, entry] of entries) {
          if (!keep.has(orderId)) {
            entry.row.remove();
            entries.delete(orderId);
          }
        }
      }
      for (const orderId of dropped) {
        const entry = entries.get(orderId);
        if (entry) {
          entry.row.remove();
          entries.delete(orderId);
        }
      }
      let added = false;
      for (const order of changed) {
        let entry = entries.get(order.orderId);
        if (!entry) {
          entry = createEntry(order);
          entries.set(order.orderId, entry);
          added = true;
        }
        fill(entry, order);
      }
      if (added || full) {
        const sorted = [...entries.values()].sort(newestFirst);
        if (tbody.firstChild === null) {
          const fragment = document.createDocumentFragment();
          for (const entry of sorted) fragment.append(entry.row);
          tbody.append(fragment);
        } else {
          let cursor = tbody.firstChild;
          for (const entry of sorted) {
            if (entry.row === cursor) cursor = cursor.nextSibling;
            else tbody.insertBefore(entry.row, cursor);
          }
        }
      }
      updateAges();
      updateSummary();
      performance.mark("ftgo:orders-render-end");
      performance.measure("ftgo:orders-render", "ftgo:orders-render-start", "ftgo:orders-render-end");
    },

    /** Ages move on between events too. */
    tick: updateAges,

    /**
     * Marks the order whose timeline is open (it may not be listed yet).
     * @param {string | null} orderId
     */
    select(orderId) {
      for (const id of [selected, orderId]) {
        const entry = id === null ? undefined : entries.get(id);
        if (entry) {
          const isSelected = id === orderId;
          setAttr(entry.button, "aria-pressed", String(isSelected));
          entry.row.classList.toggle("selected", isSelected);
        }
      }
      selected = orderId;
    },

    /**
     * @param {string} orderId
     * @returns {OrderRow | undefined}
     */
    get(orderId) {
      return entries.get(orderId)?.order;
    },
  };
}
