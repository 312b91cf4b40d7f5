// The saga timeline of one order: its messages in order as a small Gantt chart (a bar from the cause's
// message to this one), compensations marked, the orchestrator's moves, the final state and reason.

import { getTimeline } from "./api.js";
import { el, replaceChildren } from "./dom.js";
import { formatMs, plural, shortName, stateTone } from "./format.js";

/** @typedef {import("./types.js").TimelineView} TimelineView */
/** @typedef {import("./types.js").TimelineStep} TimelineStep */
/** @typedef {import("./types.js").SagaMove} SagaMove */

const PENDING_REFRESH_MS = 1500;

/**
 * @param {HTMLElement} container the [data-region="timeline"] element
 * @param {(what: string, error: unknown) => void} onError
 */
export function createTimeline(container, onError) {
  /** @type {string | null} */
  let orderId = null;
  /** @type {AbortController | null} */
  let controller = null;
  let loading = false;
  let again = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let pendingTimer;

  /**
   * @param {boolean} userAsked
   */
  const load = async (userAsked) => {
    if (orderId === null) return;
    if (loading && !userAsked) {
      again = true;
      return;
    }
    controller?.abort();
    const ownController = new AbortController();
    controller = ownController;
    const id = orderId;
    loading = true;
    again = false;
    clearTimeout(pendingTimer);
    try {
      const view = await getTimeline(id, ownController.signal);
      if (id !== orderId) return;
      render(view);
      if (view.order.state.endsWith("_PENDING")) pendingTimer = setTimeout(() => load(false), PENDING_REFRESH_MS);
    } catch (err) {
      if (ownController.signal.aborted || id !== orderId) return;
      const message = err instanceof Error ? err.message : String(err);
      const code = err && typeof err === "object" && "code" in err ? ` (${err.code})` : "";
      const old = container.querySelector(".timeline-error");
      const note = el("p", { class: "error timeline-error", text: `Could not load the timeline${code}: ${message}` });
      if (old) old.replaceWith(note);
      else container.prepend(note);
      if (userAsked) onError(`Loading the timeline of order ${id}`, err);
    } finally {
      if (controller === ownController) {
        loading = false;
        controller = null;
        if (again) load(false);
      }
    }
  };

  /**
   * @param {TimelineView} view
   */
  const render = (view) => {
    const { order } = view;
    /** @type {Array<{ offset: number, step?: TimelineStep, move?: SagaMove }>} */
    const rows = [
      ...view.steps.map((step) => ({ offset: step.offsetMs, step })),
      ...view.moves.map((move) => ({ offset: move.offsetMs, move })),
    ];
    // Steps keep their own order (oldest first); a move goes before the first step later than it.
    rows.sort((a, b) => a.offset - b.offset || (a.move ? -1 : 0) - (b.move ? -1 : 0));
    const span = Math.max(1, ...rows.map((row) => row.offset));
    const compensations = view.steps.filter((step) => step.compensation).length;

    const head = el(
      "div",
      { class: "timeline-head" },
      el(
        "p",
        { class: "timeline-title" },
        "Order ",
        el("code", { text: order.orderId }),
        ` · consumer ${order.consumerId} · restaurant ${order.restaurantId} · ${order.total}`,
        order.pricedFromLastKnownMenu ? el("span", { class: "badge badge-warn", text: "last known menu" }) : null,
      ),
      el(
        "dl",
        { class: "timeline-facts" },
        el(
          "div",
          null,
          el("dt", { text: "Final state" }),
          el(
            "dd",
            null,
            el("span", {
              class: `badge state-${stateTone(order.state)}`,
              "data-final-state": order.state,
              text: order.state,
            }),
          ),
        ),
        el(
          "div",
          null,
          el("dt", { text: "Reason" }),
          el("dd", null, el("span", { "data-reason": "", text: order.reason })),
        ),
        el("div", null, el("dt", { text: "Saga" }), el("dd", { text: view.mode })),
        el(
          "div",
          null,
          el("dt", { text: "Messages" }),
          el("dd", {
            text: `${view.steps.length}${compensations ? `, ${plural(compensations, "compensation")}` : ""} over ${formatMs(rows.length ? span : 0)}`,
          }),
        ),
      ),
    );

    const missing =
      view.missing.length > 0
        ? el(
            "p",
            { class: "warning", "data-missing": view.missing.join(" ") },
            el("strong", { text: "Missing: " }),
            `${view.missing.join(", ")} could not be asked (down, or without an AdminService): their messages are not shown.`,
          )
        : null;

    const ticks = el("div", { class: "gantt-axis", "aria-hidden": "true" });
    for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
      const tick = el("span", {
        class: fraction === 0 ? "gantt-tick first" : fraction === 1 ? "gantt-tick last" : "gantt-tick",
        text: formatMs(span * fraction),
      });
      tick.style.left = `${fraction * 100}%`;
      ticks.append(tick);
    }

    const list = el("ol", { class: "gantt" });
    for (const row of rows) {
      if (row.step) list.append(stepRow(row.step, span));
      else if (row.move) list.append(moveRow(row.move, span));
    }

    const body =
      rows.length === 0
        ? el("p", { class: "empty", text: "No saga messages recorded for this order yet." })
        : el(
            "div",
            { class: "gantt-wrap" },
            el(
              "div",
              { class: "gantt-header" },
              el("span", { text: "Step" }),
              el("div", { class: "gantt-axis-cell" }, ticks),
            ),
            list,
          );

    const legend = el(
      "p",
      { class: "gantt-legend" },
      el("span", { class: "swatch swatch-step", "aria-hidden": "true" }),
      " a step: its bar runs from the message that caused it to its own ",
      el("span", { class: "swatch swatch-compensation", "aria-hidden": "true" }),
      " a compensation (undoes an earlier step)",
      view.mode === "orchestration" ? " ◆ an orchestrator's move" : "",
    );

    replaceChildren(container, head, missing, body, rows.length ? legend : null);
  };

  return {
    /** The order shown, or null. */
    get orderId() {
      return orderId;
    },

    /**
     * Shows an order's timeline (the user chose it, or placed it).
     * @param {string} id
     */
    show(id) {
      if (id !== orderId) {
        orderId = id;
        container.setAttribute("data-order-id", id);
        replaceChildren(container, el("p", { class: "empty", text: `Loading the saga of order ${id}…` }));
      }
      load(true);
    },

    /** Fetches the shown timeline again (its order changed). */
    refresh() {
      load(false);
    },
  };
}

/**
 * @param {TimelineStep} step
 * @param {number} span
 */
function stepRow(step, span) {
  const duration = step.durationMs ?? 0;
  const start = Math.max(0, step.offsetMs - duration);
  const bar = el("span", { class: step.durationMs === null ? "gantt-bar gantt-point" : "gantt-bar" });
  bar.style.left = `${(start / span) * 100}%`;
  bar.style.width = `${Math.max(0.8, ((step.offsetMs - start) / span) * 100)}%`;
  const cause = step.causedBy ? `after ${shortName(step.causedBy)}` : "caused by the request";
  const took = step.durationMs === null ? "" : ` · took ${formatMs(step.durationMs)}`;
  return el(
    "li",
    {
      class: step.compensation ? "gantt-row compensation" : "gantt-row",
      "data-step": "",
      "data-type": step.type,
      "data-service": step.service,
      "data-compensation": step.compensation ? "true" : false,
    },
    el(
      "div",
      { class: "gantt-label" },
      el(
        "span",
        { class: "step-main" },
        el("span", { class: "step-type", title: step.type, text: shortName(step.type) }),
        step.compensation ? el("span", { class: "badge badge-compensation", text: "compensation" }) : null,
      ),
      el(
        "span",
        { class: "step-cause" },
        "by ",
        el("span", { class: "step-service", text: step.service }),
        ` · ${cause}${took} · at +${formatMs(step.offsetMs)}`,
      ),
    ),
    el(
      "div",
      { class: "gantt-track", title: `${step.subject}${step.replyTo ? ` (reply to ${step.replyTo})` : ""}` },
      bar,
    ),
  );
}

/**
 * @param {SagaMove} move
 * @param {number} span
 */
function moveRow(move, span) {
  const marker = el("span", { class: "gantt-move-marker", "aria-hidden": "true", text: "◆" });
  marker.style.left = `${(move.offsetMs / span) * 100}%`;
  return el(
    "li",
    { class: "gantt-row move", "data-move": "" },
    el(
      "div",
      { class: "gantt-label" },
      el(
        "span",
        { class: "step-main" },
        el("span", { class: "step-type", text: `${move.sagaType}: ${move.from} → ${move.to}` }),
      ),
      el(
        "span",
        { class: "step-cause" },
        "by ",
        el("span", { class: "step-service", text: "the orchestrator" }),
        ` · ${move.note ? `${move.note} · ` : ""}at +${formatMs(move.offsetMs)}`,
      ),
    ),
    el("div", { class: "gantt-track" }, marker),
  );
}
