// The charts, drawn as SVG: orders per second (bars), saga latency p50 and p99 (two lines), and how the
// sagas ended (horizontal bars).

import { el, replaceChildren, svg } from "./dom.js";
import { formatMs } from "./format.js";

/** @typedef {import("./types.js").ChartsView} ChartsView */

const W = 440;
const H = 230;
const M = { left: 60, right: 14, top: 30, bottom: 40 };

/**
 * @param {{ rate: HTMLElement, latency: HTMLElement, outcomes: HTMLElement }} figures
 */
export function createCharts(figures) {
  let signature = "";
  return {
    /**
     * @param {ChartsView} charts
     */
    render(charts) {
      const next = JSON.stringify(charts);
      if (next === signature) return;
      signature = next;
      replaceChildren(figures.rate, el("figcaption", { text: "Orders per second" }), rateChart(charts));
      replaceChildren(figures.latency, el("figcaption", { text: "Saga duration, p50 and p99" }), latencyChart(charts));
      replaceChildren(figures.outcomes, el("figcaption", { text: "How the sagas ended" }), outcomeChart(charts));
    },
  };
}

/**
 * A round top for an axis, whose quarters are round too.
 * @param {number} value
 */
function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.2, 1.6, 2, 2.4, 3, 4, 6, 8, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/**
 * @param {string} label
 */
function frame(label) {
  return svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart-svg", role: "img", "aria-label": label });
}

/**
 * The y axis with gridlines, and the x axis' time labels.
 * @param {SVGElement} root
 * @param {number} max
 * @param {(value: number) => string} format
 * @param {string} yTitle
 * @param {ChartsView} charts
 */
function axes(root, max, format, yTitle, charts) {
  const plotH = H - M.top - M.bottom;
  const grid = svg("g", { class: "chart-grid" });
  for (let i = 0; i <= 4; i++) {
    const value = (max * i) / 4;
    const y = M.top + plotH - (plotH * i) / 4;
    grid.append(svg("line", { x1: M.left, x2: W - M.right, y1: y, y2: y, class: i === 0 ? "axis-line" : "grid-line" }));
    grid.append(svg("text", { x: M.left - 6, y: y + 4, "text-anchor": "end", class: "tick", text: format(value) }));
  }
  grid.append(
    svg("text", {
      x: 11,
      y: M.top + plotH / 2,
      transform: `rotate(-90 11 ${M.top + plotH / 2})`,
      "text-anchor": "middle",
      class: "axis-title",
      text: yTitle,
    }),
  );
  const n = charts.buckets.length;
  const span = n * charts.bucketSeconds;
  const plotW = W - M.left - M.right;
  const xLabels = [
    { x: M.left, text: n ? `−${Math.round(span)} s` : "", anchor: "start" },
    { x: M.left + plotW / 2, text: n ? `−${Math.round(span / 2)} s` : "", anchor: "middle" },
    { x: W - M.right, text: "now", anchor: "end" },
  ];
  for (const label of xLabels) {
    grid.append(
      svg("text", { x: label.x, y: H - M.bottom + 16, "text-anchor": label.anchor, class: "tick", text: label.text }),
    );
  }
  grid.append(
    svg("text", {
      x: M.left + plotW / 2,
      y: H - 6,
      "text-anchor": "middle",
      class: "axis-title",
      text: `time (${charts.bucketSeconds} s buckets)`,
    }),
  );
  root.append(grid);
}

/**
 * @param {ChartsView} charts
 */
function rateChart(charts) {
  const { buckets } = charts;
  const latest = buckets.at(-1)?.ordersPerSecond ?? 0;
  const peak = buckets.reduce((max, bucket) => Math.max(max, bucket.ordersPerSecond), 0);
  const root = frame(
    `Orders per second over the last ${buckets.length * charts.bucketSeconds} seconds: now ${round(latest)}, peak ${round(peak)}`,
  );
  const max = niceMax(peak);
  axes(root, max, (value) => round(value), "orders/s", charts);
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const slot = buckets.length ? plotW / buckets.length : plotW;
  const bars = svg("g", { class: "bars" });
  buckets.forEach((bucket, i) => {
    const h = (bucket.ordersPerSecond / max) * plotH;
    if (h <= 0) return;
    bars.append(
      svg(
        "rect",
        {
          x: M.left + i * slot + slot * 0.12,
          y: M.top + plotH - h,
          width: Math.max(1, slot * 0.76),
          height: h,
          class: "bar-rate",
        },
        svg("title", { text: `${round(bucket.ordersPerSecond)} orders/s from ${bucket.start}` }),
      ),
    );
  });
  root.append(bars);
  root.append(legend([{ cls: "legend-bar-rate", text: `orders placed per second (now ${round(latest)})` }]));
  if (buckets.length === 0) root.append(noData());
  return root;
}

/**
 * @param {ChartsView} charts
 */
function latencyChart(charts) {
  const { buckets } = charts;
  const values = buckets.flatMap((bucket) => [bucket.p50Ms, bucket.p99Ms]).filter((v) => v !== null);
  const max = niceMax(Math.max(0, ...values.map(Number)));
  const lastP50 = [...buckets].reverse().find((bucket) => bucket.p50Ms !== null)?.p50Ms ?? null;
  const lastP99 = [...buckets].reverse().find((bucket) => bucket.p99Ms !== null)?.p99Ms ?? null;
  const root = frame(
    `Saga duration per bucket, median and 99th percentile in milliseconds: latest p50 ${formatMs(lastP50)}, p99 ${formatMs(lastP99)}`,
  );
  axes(root, max, (value) => formatMs(value), "saga time", charts);
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const slot = buckets.length ? plotW / buckets.length : plotW;
  /**
   * @param {"p50Ms" | "p99Ms"} key
   * @param {string} cls
   */
  const line = (key, cls) => {
    let d = "";
    let pen = false;
    const points = svg("g", { class: `points ${cls}` });
    buckets.forEach((bucket, i) => {
      const value = bucket[key];
      if (value === null) {
        pen = false;
        return;
      }
      const x = M.left + i * slot + slot / 2;
      const y = M.top + plotH - (value / max) * plotH;
      d += `${pen ? "L" : "M"}${x.toFixed(1)} ${y.toFixed(1)} `;
      pen = true;
      points.append(
        svg(
          "circle",
          { cx: x, cy: y, r: 2.2, class: "point" },
          svg("title", { text: `${key === "p50Ms" ? "p50" : "p99"} ${formatMs(value)} from ${bucket.start}` }),
        ),
      );
    });
    return [svg("path", { d: d.trim() || "M0 0", class: `line ${cls}` }), points];
  };
  root.append(...line("p99Ms", "line-p99"), ...line("p50Ms", "line-p50"));
  root.append(
    legend([
      { cls: "legend-line-p50", text: `p50 (now ${formatMs(lastP50)})` },
      { cls: "legend-line-p99", text: `p99, dashed (now ${formatMs(lastP99)})` },
    ]),
  );
  if (values.length === 0) root.append(noData("No saga has ended in this window."));
  return root;
}

/**
 * @param {ChartsView} charts
 */
function outcomeChart(charts) {
  const outcomes = charts.outcomes.slice(0, 8);
  const total = charts.outcomes.reduce((sum, outcome) => sum + outcome.count, 0);
  const rowH = 22;
  const labelW = 170;
  const height = Math.max(90, 36 + outcomes.length * rowH + 30);
  const root = svg("svg", {
    viewBox: `0 0 ${W} ${height}`,
    class: "chart-svg",
    role: "img",
    "aria-label": `How ${total} sagas ended: ${charts.outcomes.map((o) => `${o.outcome} ${o.count}`).join(", ") || "none yet"}`,
  });
  const max = Math.max(1, ...outcomes.map((outcome) => outcome.count));
  const barMax = W - labelW - M.right - 56;
  outcomes.forEach((outcome, i) => {
    const y = 14 + i * rowH;
    const w = Math.max(2, (outcome.count / max) * barMax);
    const approved = outcome.outcome === "APPROVED";
    const share = total ? Math.round((outcome.count / total) * 100) : 0;
    root.append(
      svg(
        "text",
        { x: labelW - 8, y: y + 14, "text-anchor": "end", class: "tick outcome-label" },
        outcome.outcome.length > 26 ? `${outcome.outcome.slice(0, 25)}…` : outcome.outcome,
        svg("title", { text: outcome.outcome }),
      ),
      svg("rect", {
        x: labelW,
        y: y + 3,
        width: w,
        height: rowH - 7,
        rx: 2,
        class: approved ? "bar-approved" : "bar-rejected",
      }),
      svg("text", { x: labelW + w + 6, y: y + 14, class: "tick", text: `${outcome.count} (${share} %)` }),
    );
  });
  root.append(
    svg("line", { x1: labelW, x2: labelW, y1: 10, y2: 14 + outcomes.length * rowH, class: "axis-line" }),
    svg("text", {
      x: labelW + barMax / 2,
      y: height - 8,
      "text-anchor": "middle",
      class: "axis-title",
      text: `sagas (${total} in the history${charts.outcomes.length > 8 ? ", top 8 shown" : ""})`,
    }),
  );
  if (outcomes.length === 0) root.append(noData("No saga has ended yet.", height / 2));
  return root;
}

/**
 * @param {Array<{ cls: string, text: string }>} items
 */
function legend(items) {
  const group = svg("g", { class: "chart-legend" });
  let x = M.left;
  for (const item of items) {
    if (item.cls.startsWith("legend-line")) {
      group.append(svg("line", { x1: x, x2: x + 18, y1: 12, y2: 12, class: item.cls }));
    } else group.append(svg("rect", { x, y: 6, width: 12, height: 12, rx: 2, class: item.cls }));
    group.append(svg("text", { x: x + 24, y: 16, class: "legend-text", text: item.text }));
    x += 30 + item.text.length * 6.2;
  }
  return group;
}

/**
 * @param {string} [text]
 * @param {number} [y]
 */
function noData(text = "No data yet.", y = H / 2) {
  return svg("text", { x: W / 2, y, "text-anchor": "middle", class: "svg-muted", text });
}

/**
 * @param {number} value
 */
function round(value) {
  return value >= 10 ? String(Math.round(value)) : String(Math.round(value * 10) / 10);
}
