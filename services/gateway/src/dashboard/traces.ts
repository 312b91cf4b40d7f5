// One order's traces, read from Jaeger's query API (JAEGER_QUERY_URL), for the dashboard's trace view. An order's
// spans are found by the order id its messaging spans carry (`messaging.message.conversation_id`, set by the
// platform's telemetry); Jaeger answers a search with whole traces, so the gateway's request and the gRPC calls
// of the same trace come with them. Jaeger searches one service at a time: each is asked, the traces merged.
import type { TraceSpanView, TraceView } from "./view.js";

const ORDER_ID_TAG = "messaging.message.conversation_id";
/** A dashboard request must not hang on a slow Jaeger. */
const JAEGER_TIMEOUT_MS = 5_000;

interface JaegerSpan {
  readonly traceID: string;
  readonly spanID: string;
  readonly operationName: string;
  readonly references: readonly { readonly refType: string; readonly traceID: string; readonly spanID: string }[];
  /** Microseconds since the epoch. */
  readonly startTime: number;
  /** Microseconds. */
  readonly duration: number;
  readonly tags: readonly { readonly key: string; readonly value: unknown }[];
  readonly processID: string;
}

interface JaegerTrace {
  readonly traceID: string;
  readonly spans: readonly JaegerSpan[];
  readonly processes: Readonly<Record<string, { readonly serviceName: string }>>;
}

export async function traceViewOf(queryUrl: string, orderId: string): Promise<TraceView> {
  if (queryUrl === "") {
    return {
      source: "",
      note: "no Jaeger: the gateway has no JAEGER_QUERY_URL (make up sets it when it runs Jaeger)",
      traces: [],
    };
  }
  let traces: JaegerTrace[];
  try {
    traces = await tracesOf(queryUrl, orderId);
  } catch (err) {
    return { source: queryUrl, note: `Jaeger did not answer: ${(err as Error).message}`, traces: [] };
  }
  return {
    source: queryUrl,
    note: traces.length === 0 ? "Jaeger has no span of this order (yet): was tracing on when it ran?" : "",
    traces: traces.map((trace) => ({ traceId: trace.traceID, spans: spansOf(trace) })),
  };
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(JAEGER_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`${response.status} from ${url}`);
  return (await response.json()) as T;
}

async function tracesOf(queryUrl: string, orderId: string): Promise<JaegerTrace[]> {
  const services = (await getJson<{ data: string[] | null }>(`${queryUrl}/api/services`)).data ?? [];
  const tags = encodeURIComponent(JSON.stringify({ [ORDER_ID_TAG]: orderId }));
  const found = new Map<string, JaegerTrace>();
  const answers = await Promise.all(
    services.map((service) =>
      getJson<{ data: JaegerTrace[] | null }>(
        `${queryUrl}/api/traces?service=${encodeURIComponent(service)}&tags=${tags}&lookback=2h&limit=20`,
      ),
    ),
  );
  for (const trace of answers.flatMap((answer) => answer.data ?? [])) {
    const known = found.get(trace.traceID);
    if (!known || known.spans.length < trace.spans.length) found.set(trace.traceID, trace);
  }
  return [...found.values()].sort((a, b) => startOf(a) - startOf(b));
}

function startOf(trace: JaegerTrace): number {
  return Math.min(...trace.spans.map((span) => span.startTime));
}

/** The trace's spans depth first, each after its parent, siblings by start time. */
function spansOf(trace: JaegerTrace): TraceSpanView[] {
  const start = startOf(trace);
  const ids = new Set(trace.spans.map((span) => span.spanID));
  const parentOf = (span: JaegerSpan) => {
    const parent = span.references.find((ref) => ref.refType === "CHILD_OF" && ref.traceID === span.traceID)?.spanID;
    return parent && ids.has(parent) ? parent : "";
  };
  const children = new Map<string, JaegerSpan[]>();
  for (const span of trace.spans) {
    const parent = parentOf(span);
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const out: TraceSpanView[] = [];
  const visit = (parent: string, depth: number) => {
    const here = (children.get(parent) ?? []).sort((a, b) => a.startTime - b.startTime);
    for (const span of here) {
      out.push({
        spanId: span.spanID,
        parentSpanId: parent,
        depth,
        service: trace.processes[span.processID]?.serviceName ?? "?",
        name: span.operationName,
        startOffsetMs: (span.startTime - start) / 1000,
        durationMs: span.duration / 1000,
        error: span.tags.some(
          (tag) =>
            (tag.key === "error" && tag.value === true) || (tag.key === "otel.status_code" && tag.value === "ERROR"),
        ),
      });
      visit(span.spanID, depth + 1);
    }
  };
  visit("", 0);
  return out;
}
