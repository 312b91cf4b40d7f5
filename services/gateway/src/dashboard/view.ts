// What the dashboard page receives: the JSON of the gateway's /dashboard/api routes and of the `view`
// events of its Server-Sent Events stream. The page (services/gateway/dashboard/*.js) reads these shapes
// and nothing else; every name here is a name on the page.

/** A breaker's state, as AdminService's BreakerState, in words. */
export type BreakerStateName = "closed" | "half-open" | "open" | "unknown";

/** One `view` event of GET /dashboard/api/stream: the mesh now, and what changed among the orders. */
export interface MeshView {
  /** When the gateway gathered it (ISO 8601). */
  readonly at: string;
  readonly saga: { readonly mode: "choreography" | "orchestration" | "unknown" };
  readonly services: readonly ServiceView[];
  /** Who calls whom (gRPC) and who reads whose messages (NATS), from the servers' own stats. */
  readonly links: readonly LinkView[];
  /**
   * Orders new or changed since the previous event of this stream (the first event: all of them, at most
   * ORDER_HISTORY), newest first. The page keeps them by orderId.
   */
  readonly orders: readonly OrderRow[];
  /** Orders the gateway no longer keeps (beyond ORDER_HISTORY): the page drops them too. */
  readonly droppedOrderIds: readonly string[];
  readonly charts: ChartsView;
  /** The running load burst, or the last one; null before any. */
  readonly load: LoadView | null;
}

export interface ServiceView {
  readonly name: string;
  /** "typescript" or "go". */
  readonly language: "typescript" | "go";
  /** Every instance the registry lists now, healthy or not. */
  readonly instances: readonly InstanceView[];
  /** The gRPC methods a fault may be set on ("/ftgo.kitchen.v1.KitchenService/GetMenu"), "*" first. */
  readonly methods: readonly string[];
}

export interface InstanceView {
  readonly instanceId: string;
  readonly address: string;
  /** Its gRPC health answer: "SERVING", "NOT_SERVING", or "UNREACHABLE" when it does not answer. */
  readonly health: "SERVING" | "NOT_SERVING" | "UNREACHABLE";
  /** Its AdminService stats; null when it has no AdminService or did not answer (then `statsError` says why). */
  readonly stats: InstanceStats | null;
  readonly statsError: string | null;
  /** The faults it applies now (AdminService ListFaults). */
  readonly faults: readonly FaultView[];
  /** Its service's dead letters (the same list on every instance of a service). */
  readonly deadLetters: readonly DeadLetterView[];
}

export interface InstanceStats {
  readonly targets: readonly TargetView[];
  readonly outbox: {
    readonly pendingRows: number;
    readonly oldestPendingMs: number;
    readonly published: number;
  } | null;
  readonly consumers: readonly {
    readonly channel: string;
    readonly consumed: number;
    readonly redelivered: number;
    readonly deadLettered: number;
  }[];
}

/** One service an instance calls: its breakers, its bulkhead, the policy that guards the calls. */
export interface TargetView {
  readonly target: string;
  readonly breakers: readonly { readonly instanceId: string; readonly state: BreakerStateName }[];
  readonly bulkhead: {
    readonly inFlight: number;
    readonly capacity: number;
    readonly queued: number;
    readonly queueCapacity: number;
  };
  readonly retries: number;
  readonly policy: {
    readonly deadlineMs: number;
    readonly maxAttempts: number;
    readonly breakerThreshold: number;
    readonly breakerHalfOpenAfterMs: number;
    /** Method name → what its fallback answers with. */
    readonly fallbacks: Readonly<Record<string, string>>;
  };
}

export interface LinkView {
  readonly from: string;
  readonly to: string;
  /** "grpc": `from` calls `to`; "messages": `to` reads the channel (`via`) `from` publishes on. */
  readonly kind: "grpc" | "messages";
  readonly via: string;
}

export interface FaultView {
  readonly method: string;
  readonly latencyMs: number;
  readonly statusCode: number;
  /** The status code's name ("UNAVAILABLE"); "" for 0. */
  readonly statusName: string;
  readonly probability: number;
  readonly hang: boolean;
  readonly appliedCount: number;
}

export interface DeadLetterView {
  readonly seq: number;
  readonly service: string;
  readonly originalSubject: string;
  readonly type: string;
  readonly correlationId: string;
  readonly reason: string;
  readonly deliveries: number;
  readonly time: string;
}

/** One order of the list. */
export interface OrderRow {
  readonly orderId: string;
  readonly consumerId: string;
  readonly restaurantId: string;
  /** "APPROVAL_PENDING", "APPROVED", "REJECTED", "CANCEL_PENDING", "CANCELLED". */
  readonly state: string;
  readonly reason: string;
  /** "USD 15.00". */
  readonly total: string;
  readonly pricedFromLastKnownMenu: boolean;
  readonly createTime: string;
  readonly updateTime: string;
}

export interface ChartsView {
  /** The width of a bucket, in seconds. */
  readonly bucketSeconds: number;
  /** Oldest first: orders placed per second, and the latency of the sagas that ended, per bucket. */
  readonly buckets: readonly {
    readonly start: string;
    readonly ordersPerSecond: number;
    readonly p50Ms: number | null;
    readonly p99Ms: number | null;
  }[];
  /** How the sagas in the history ended: "APPROVED", or the rejection's reason; most first. */
  readonly outcomes: readonly { readonly outcome: string; readonly count: number }[];
}

export interface LoadView {
  readonly running: boolean;
  readonly requested: number;
  readonly placed: number;
  readonly failed: number;
}

/** GET /dashboard/api/orders/:orderId/timeline */
export interface TimelineView {
  readonly order: OrderRow;
  readonly mode: "choreography" | "orchestration";
  /** Every message of the order's sagas, oldest first. */
  readonly steps: readonly TimelineStep[];
  /** The orchestrator's moves (orchestration only), oldest first. */
  readonly moves: readonly {
    readonly time: string;
    readonly offsetMs: number;
    readonly sagaType: string;
    readonly from: string;
    readonly to: string;
    readonly note: string;
  }[];
  /**
   * Services that did not answer (down, unreachable): their messages are missing. A server without AdminService's
   * reads (the Go service) is not listed.
   */
  readonly missing: readonly string[];
}

export interface TimelineStep {
  readonly time: string;
  /** Since the order's first message. */
  readonly offsetMs: number;
  /** The service that sent it. */
  readonly service: string;
  /** "ftgo.kitchen.v1.TicketCreated". */
  readonly type: string;
  readonly subject: string;
  readonly messageId: string;
  /** The type of the message whose handling sent it; "" when a request did (the order's creation). */
  readonly causedBy: string;
  /** From its cause's row to its own: how long the step took; null without a cause. */
  readonly durationMs: number | null;
  /** A compensating step: it undoes an earlier one. */
  readonly compensation: boolean;
  /** A command's reply subject; "" otherwise. */
  readonly replyTo: string;
}

/** POST /dashboard/api/orders */
export type OrderScenario = "happy" | "declined" | "suspended" | "closed-restaurant" | "cancel";

/** POST /dashboard/api/faults body. */
export interface FaultRequest {
  readonly service: string;
  readonly method: string;
  readonly latencyMs?: number;
  readonly statusCode?: number;
  readonly probability?: number;
  readonly hang?: boolean;
}

/** GET /dashboard/api/orders/:orderId/trace: the order's traces from Jaeger, when the gateway knows one. */
export interface TraceView {
  /** Jaeger's query API the spans come from; "" when the gateway knows none (JAEGER_QUERY_URL unset). */
  readonly source: string;
  /** Why there is no span to show, when there is none; "" otherwise. */
  readonly note: string;
  /** Oldest first; a message handled long after it was sent starts a trace of its own, linked to the first. */
  readonly traces: readonly {
    readonly traceId: string;
    /** Depth first: each span after its parent, siblings by start. */
    readonly spans: readonly TraceSpanView[];
  }[];
}

export interface TraceSpanView {
  readonly spanId: string;
  /** "" for the trace's root (or a span whose parent Jaeger did not receive). */
  readonly parentSpanId: string;
  /** 0 for a root. */
  readonly depth: number;
  /** The process that recorded it ("kitchen"). */
  readonly service: string;
  /** "ftgo.kitchen.v1.KitchenService/GetMenu", "process ftgo.order.event.order_created", "saga.step …". */
  readonly name: string;
  /** From the start of its trace. */
  readonly startOffsetMs: number;
  readonly durationMs: number;
  /** It ended in an error (its status, or an `error` tag). */
  readonly error: boolean;
}
