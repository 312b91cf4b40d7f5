// One trace as a page: a timeline, one row per span, indented under its parent, its bar placed on the trace's
// own clock and coloured by the process that made it. What docs/observability.md's picture of an order's trace
// is taken from (scripts/screenshots.ts): Jaeger built from its Go module has no web UI to photograph.
import { drawTrace, type JaegerTrace, serviceOf, spanTree, tagOf } from "./jaeger-traces.js";

/** A colour per process, in the roster's order; anything else grey. */
const COLOURS: Readonly<Record<string, string>> = {
  gateway: "#6c5ce7",
  order: "#0984e3",
  consumer: "#00b894",
  kitchen: "#e17055",
  accounting: "#fdcb6e",
  delivery: "#a29bfe",
  loyalty: "#55efc4",
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);
}

/** A self-contained HTML page (no scripts, no outside resources) showing `trace` as a timeline. */
export function traceTimelineHtml(trace: JaegerTrace, title: string): string {
  const start = Math.min(...trace.spans.map((span) => span.startTime));
  const end = Math.max(...trace.spans.map((span) => span.startTime + span.duration));
  const total = Math.max(1, end - start);
  const services = [...new Set(trace.spans.map((span) => serviceOf(trace, span)))];
  const rows = spanTree(trace)
    .map(({ span, depth }) => {
      const service = serviceOf(trace, span);
      const left = ((span.startTime - start) / total) * 100;
      const width = Math.max(0.3, (span.duration / total) * 100);
      const error = tagOf(span, "otel.status_code") === "ERROR";
      const outcome = tagOf(span, "saga.outcome");
      const note = outcome === undefined ? "" : ` <span class="note">→ ${escapeHtml(String(outcome))}</span>`;
      return `<tr${error ? ' class="error"' : ""}>
  <td class="service"><span class="dot" style="background:${COLOURS[service] ?? "#b2bec3"}"></span>${escapeHtml(service)}</td>
  <td class="name" style="padding-left:${8 + depth * 14}px">${escapeHtml(span.operationName)}${note}</td>
  <td class="lane"><div class="bar" style="left:${left.toFixed(2)}%;width:${width.toFixed(2)}%;background:${COLOURS[service] ?? "#b2bec3"}"></div></td>
  <td class="ms">${(span.duration / 1000).toFixed(1)} ms</td>
</tr>`;
    })
    .join("\n");
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
  body { font: 13px/1.35 -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 20px; color: #2d3436; }
  h1 { font-size: 17px; margin: 0 0 4px; }
  .sub { color: #636e72; margin-bottom: 12px; }
  table { border-collapse: collapse; width: 1360px; table-layout: fixed; }
  td { border-bottom: 1px solid #eee; padding: 3px 8px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  td.service { width: 90px; } td.name { width: 520px; } td.ms { width: 70px; text-align: right; color: #636e72; }
  td.lane { position: relative; }
  .bar { position: absolute; top: 5px; height: 10px; border-radius: 2px; }
  .dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 6px; }
  .note { color: #636e72; } tr.error td.name { color: #d63031; }
</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
<div class="sub">trace ${escapeHtml(trace.traceID)} · ${trace.spans.length} spans · ${services.length} processes (${escapeHtml(services.join(", "))}) · ${(total / 1000).toFixed(1)} ms, from Jaeger's query API</div>
<table>
${rows}
</table>
<!-- the same tree as npm run trace prints:
${escapeHtml(drawTrace(trace).join("\n"))}
-->
</body></html>
`;
}
