// One order's traces, read from Jaeger's query API, and drawn as a tree of spans: what `npm run trace` prints
// and what the tracing tests inspect. An order's trace is found by the order id its messaging spans carry
// (`messaging.message.conversation_id`); Jaeger answers a search with whole traces, so the gateway's request and
// the gRPC calls of the same trace come with them. A message consumed long after it was sent starts a trace of
// its own, linked to the first (telemetry/messaging-spans.ts): those are found the same way, and listed after it.

/** A tag (attribute) of a span, as Jaeger's API gives it. */
export interface JaegerTag {
  readonly key: string;
  readonly type: string;
  readonly value: string | number | boolean;
}

export interface JaegerSpan {
  readonly traceID: string;
  readonly spanID: string;
  readonly operationName: string;
  /** CHILD_OF: its parent; FOLLOWS_FROM: a span it links to (OpenTelemetry's links). */
  readonly references: readonly { readonly refType: string; readonly traceID: string; readonly spanID: string }[];
  /** Microseconds since the epoch. */
  readonly startTime: number;
  /** Microseconds. */
  readonly duration: number;
  readonly tags: readonly JaegerTag[];
  readonly processID: string;
}

export interface JaegerTrace {
  readonly traceID: string;
  readonly spans: readonly JaegerSpan[];
  readonly processes: Readonly<Record<string, { readonly serviceName: string }>>;
}

/** The attribute that names a message's order on every messaging span. */
export const ORDER_ID_TAG = "messaging.message.conversation_id";

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`Jaeger answered ${response.status} to ${url}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** The services Jaeger has spans of. */
export async function jaegerServices(queryUrl: string): Promise<string[]> {
  return (await getJson<{ data: string[] | null }>(`${queryUrl}/api/services`)).data ?? [];
}

/** Every trace with a span about `orderId`, oldest first; [] when Jaeger has none (yet). */
export async function tracesOfOrder(queryUrl: string, orderId: string): Promise<JaegerTrace[]> {
  const tags = encodeURIComponent(JSON.stringify({ [ORDER_ID_TAG]: orderId }));
  const found = new Map<string, JaegerTrace>();
  // Jaeger searches one service at a time; the trace it returns is whole, whichever service matched.
  for (const service of await jaegerServices(queryUrl)) {
    const url = `${queryUrl}/api/traces?service=${encodeURIComponent(service)}&tags=${tags}&lookback=2h&limit=100`;
    for (const trace of (await getJson<{ data: JaegerTrace[] | null }>(url)).data ?? []) {
      const known = found.get(trace.traceID);
      if (!known || known.spans.length < trace.spans.length) found.set(trace.traceID, trace);
    }
  }
  return [...found.values()].sort((a, b) => startOf(a) - startOf(b));
}

function startOf(trace: JaegerTrace): number {
  return Math.min(...trace.spans.map((span) => span.startTime));
}

/** The service that sent `span`. */
export function serviceOf(trace: JaegerTrace, span: JaegerSpan): string {
  return trace.processes[span.processID]?.serviceName ?? "?";
}

/** The value of the tag `key` of `span`, if it has it. */
export function tagOf(span: JaegerSpan, key: string): JaegerTag["value"] | undefined {
  return span.tags.find((tag) => tag.key === key)?.value;
}

/** The span `span` is a child of, within its trace; undefined for a root. */
export function parentIdOf(span: JaegerSpan): string | undefined {
  return span.references.find((ref) => ref.refType === "CHILD_OF" && ref.traceID === span.traceID)?.spanID;
}

/** The spans `span` links to (its FOLLOWS_FROM references), as `traceID/spanID`. */
export function linksOf(span: JaegerSpan): string[] {
  return span.references.filter((ref) => ref.refType === "FOLLOWS_FROM").map((ref) => `${ref.traceID}/${ref.spanID}`);
}

/** The spans in tree order, each after its parent, children in the order they started; each with its depth. */
export function spanTree(trace: JaegerTrace): { readonly span: JaegerSpan; readonly depth: number }[] {
  const ids = new Set(trace.spans.map((span) => span.spanID));
  const children = new Map<string | undefined, JaegerSpan[]>();
  for (const span of trace.spans) {
    const parent = parentIdOf(span);
    const key = parent !== undefined && ids.has(parent) ? parent : undefined; // a parent not (yet) in Jaeger: a root
    children.set(key, [...(children.get(key) ?? []), span]);
  }
  const rows: { span: JaegerSpan; depth: number }[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const span of [...(children.get(parent) ?? [])].sort((a, b) => a.startTime - b.startTime)) {
      rows.push({ span, depth });
      walk(span.spanID, depth + 1);
    }
  };
  walk(undefined, 0);
  return rows;
}

/**
 * The trace as an indented tree, one span a line:
 *
 *   gateway  POST /api/v1/orders  14.2 ms
 *     gateway  ftgo.order.v1.OrderService/CreateOrder  9.8 ms
 *       order  ftgo.order.v1.OrderService/CreateOrder  8.1 ms
 */
export function drawTrace(trace: JaegerTrace): string[] {
  return spanTree(trace).map(({ span, depth }) => `${"  ".repeat(depth)}${describeSpan(trace, span)}`);
}

/** `order  process ftgo.kitchen.event.ticket_created  1.4 ms  ERROR: …`, with what a reader needs to know. */
function describeSpan(trace: JaegerTrace, span: JaegerSpan): string {
  const notes: string[] = [];
  const status = tagOf(span, "otel.status_code");
  if (status === "ERROR") notes.push(`ERROR: ${tagOf(span, "otel.status_description") ?? ""}`.trimEnd());
  const outcome = tagOf(span, "saga.outcome");
  if (outcome !== undefined) notes.push(`→ ${outcome}`);
  const reason = tagOf(span, "saga.reason");
  if (reason !== undefined) notes.push(`(${reason})`);
  const rejection = tagOf(span, "ftgo.rejection");
  if (rejection !== undefined) notes.push(`refused: ${rejection}`);
  const code = tagOf(span, "rpc.grpc.status_code");
  if (code !== undefined && code !== 0) notes.push(`gRPC code ${code}`);
  const http = tagOf(span, "http.response.status_code");
  if (http !== undefined) notes.push(`HTTP ${http}`);
  for (const link of linksOf(span)) notes.push(`linked to ${link}`);
  const ms = (span.duration / 1000).toFixed(1);
  return [serviceOf(trace, span), span.operationName, `${ms} ms`, ...notes].join("  ");
}
