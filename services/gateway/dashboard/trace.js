// One order's trace, as Jaeger holds it (the gateway reads its query API): every span of every process the
// order went through, as a waterfall — a row per span, indented under its parent, its bar placed on the trace's
// time axis. The processes export their spans in batches, so the trace is asked again while it still grows.

import { getTrace } from "./api.js";
import { el, replaceChildren } from "./dom.js";
import { formatMs, plural } from "./format.js";

/** @typedef {import("./types.js").TraceView} TraceView */
/** @typedef {import("./types.js").TraceSpanView} TraceSpanView */

/** How often a growing trace is asked again, and how many quiet answers end the asking. */
const GROWING_REFRESH_MS = 2000;
const QUIET_ANSWERS = 2;

/**
 * @param {HTMLElement} container the [data-region="trace"] element
 */
export function createTrace(container) {
  /** @type {string | null} */
  let orderId = null;
  /** @type {AbortController | null} */
  let controller = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let lastCount = -1;
  let quiet = 0;

  const load = async () => {
    if (orderId === null) return;
    controller?.abort();
    const own = new AbortController();
    controller = own;
    const id = orderId;
    clearTimeout(timer);
    try {
      const view = await getTrace(id, own.signal);
      if (id !== orderId) return;
      render(view);
      const count = view.traces.reduce((sum, trace) => sum + trace.spans.length, 0);
      quiet = count === lastCount ? quiet + 1 : 0;
      lastCount = count;
      if (view.source !== "" && quiet < QUIET_ANSWERS) timer = setTimeout(load, GROWING_REFRESH_MS);
    } catch (err) {
      if (own.signal.aborted || id !== orderId) return;
      replaceChildren(
        container,
        el("p", { class: "error", text: `Could not read the trace: ${err instanceof Error ? err.message : err}` }),
      );
    }
  };

  /** @param {TraceView} view */
  const render = (view) => {
    if (view.traces.length === 0) {
      replaceChildren(container, el("p", { class: "empty", text: view.note || "No span of this order." }));
      return;
    }
    const spans = view.traces.reduce((sum, trace) => sum + trace.spans.length, 0);
    const services = new Set(view.traces.flatMap((trace) => trace.spans.map((span) => span.service)));
    replaceChildren(
      container,
      el(
        "p",
        { class: "trace-summary" },
        `${plural(spans, "span")} from ${plural(services.size, "process", "processes")}`,
        view.traces.length > 1 ? ` in ${view.traces.length} linked traces` : "",
        " · from Jaeger's query API at ",
        el("code", { text: view.source }),
      ),
      ...view.traces.map((trace) => waterfall(trace.traceId, trace.spans)),
    );
  };

  return {
    /** @param {string} id */
    show(id) {
      orderId = id;
      lastCount = -1;
      quiet = 0;
      container.setAttribute("data-order-id", id);
      replaceChildren(container, el("p", { class: "empty", text: "Reading the trace…" }));
      load();
    },
    /** The order changed: its trace may have grown. */
    refresh() {
      quiet = 0;
      if (orderId !== null) load();
    },
  };
}

/**
 * @param {string} traceId
 * @param {TraceSpanView[]} spans depth first, as the gateway sends them
 */
function waterfall(traceId, spans) {
  const end = Math.max(1, ...spans.map((span) => span.startOffsetMs + span.durationMs));
  return el(
    "div",
    { class: "trace", role: "table", "aria-label": `Trace ${traceId}: ${spans.length} spans, ${formatMs(end)}` },
    el(
      "div",
      { class: "trace-row trace-header", role: "row" },
      el("span", { role: "columnheader", text: "Process and span" }),
      el("span", { role: "columnheader", text: `0 – ${formatMs(end)}` }),
    ),
    ...spans.map((span) => {
      const bar = el("span", {
        class: `trace-bar${span.error ? " trace-bar-error" : ""}`,
        title: `${span.name}: ${formatMs(span.durationMs)} at +${formatMs(span.startOffsetMs)}`,
      });
      // CSSOM from a script is allowed under the page's CSP (style-src 'self'); inline style attributes are not.
      bar.style.left = `${(span.startOffsetMs / end) * 100}%`;
      bar.style.width = `max(2px, ${(span.durationMs / end) * 100}%)`;
      const label = el(
        "span",
        { class: "trace-label", role: "cell" },
        el("span", { class: "trace-service", text: span.service }),
        " ",
        el("span", { class: "trace-name", text: span.name }),
        span.error ? el("span", { class: "badge state-bad", text: "error" }) : null,
      );
      label.style.paddingLeft = `${span.depth * 0.9}rem`;
      return el(
        "div",
        {
          class: "trace-row",
          role: "row",
          "data-span": span.spanId,
          "data-service": span.service,
          "data-depth": span.depth,
        },
        label,
        el(
          "span",
          { class: "trace-track", role: "cell" },
          bar,
          el("span", { class: "trace-duration", text: formatMs(span.durationMs) }),
        ),
      );
    }),
  );
}
