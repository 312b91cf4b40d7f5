// The JSON the page reads, as JSDoc: a copy of services/gateway/src/dashboard/view.ts (the contract).

/** @typedef {"closed" | "half-open" | "open" | "unknown"} BreakerStateName */
/** @typedef {"SERVING" | "NOT_SERVING" | "UNREACHABLE"} Health */

/**
 * @typedef {object} MeshView
 * @property {string} at
 * @property {{ mode: "choreography" | "orchestration" | "unknown" }} saga
 * @property {ServiceView[]} services
 * @property {LinkView[]} links
 * @property {OrderRow[]} orders
 * @property {string[]} droppedOrderIds
 * @property {ChartsView} charts
 * @property {LoadView | null} load
 */

/**
 * @typedef {object} ServiceView
 * @property {string} name
 * @property {"typescript" | "go"} language
 * @property {InstanceView[]} instances
 * @property {string[]} methods
 */

/**
 * @typedef {object} InstanceView
 * @property {string} instanceId
 * @property {string} address
 * @property {Health} health
 * @property {InstanceStats | null} stats
 * @property {string | null} statsError
 * @property {FaultView[]} faults
 * @property {DeadLetterView[]} deadLetters
 */

/**
 * @typedef {object} InstanceStats
 * @property {TargetView[]} targets
 * @property {{ pendingRows: number, oldestPendingMs: number, published: number } | null} outbox
 * @property {{ channel: string, consumed: number, redelivered: number, deadLettered: number }[]} consumers
 */

/**
 * @typedef {object} TargetView
 * @property {string} target
 * @property {{ instanceId: string, state: BreakerStateName }[]} breakers
 * @property {{ inFlight: number, capacity: number, queued: number, queueCapacity: number }} bulkhead
 * @property {number} retries
 * @property {{ deadlineMs: number, maxAttempts: number, breakerThreshold: number, breakerHalfOpenAfterMs: number, fallbacks: Record<string, string> }} policy
 */

/**
 * @typedef {object} LinkView
 * @property {string} from
 * @property {string} to
 * @property {"grpc" | "messages"} kind
 * @property {string} via
 */

/**
 * @typedef {object} FaultView
 * @property {string} method
 * @property {number} latencyMs
 * @property {number} statusCode
 * @property {string} statusName
 * @property {number} probability
 * @property {boolean} hang
 * @property {number} appliedCount
 */

/**
 * @typedef {object} DeadLetterView
 * @property {number} seq
 * @property {string} service
 * @property {string} originalSubject
 * @property {string} type
 * @property {string} correlationId
 * @property {string} reason
 * @property {number} deliveries
 * @property {string} time
 */

/**
 * @typedef {object} OrderRow
 * @property {string} orderId
 * @property {string} consumerId
 * @property {string} restaurantId
 * @property {string} state
 * @property {string} reason
 * @property {string} total
 * @property {boolean} pricedFromLastKnownMenu
 * @property {string} createTime
 * @property {string} updateTime
 */

/**
 * @typedef {object} ChartsView
 * @property {number} bucketSeconds
 * @property {{ start: string, ordersPerSecond: number, p50Ms: number | null, p99Ms: number | null }[]} buckets
 * @property {{ outcome: string, count: number }[]} outcomes
 */

/**
 * @typedef {object} LoadView
 * @property {boolean} running
 * @property {number} requested
 * @property {number} placed
 * @property {number} failed
 */

/**
 * @typedef {object} TimelineStep
 * @property {string} time
 * @property {number} offsetMs
 * @property {string} service
 * @property {string} type
 * @property {string} subject
 * @property {string} messageId
 * @property {string} causedBy
 * @property {number | null} durationMs
 * @property {boolean} compensation
 * @property {string} replyTo
 */

/**
 * @typedef {object} SagaMove
 * @property {string} time
 * @property {number} offsetMs
 * @property {string} sagaType
 * @property {string} from
 * @property {string} to
 * @property {string} note
 */

/**
 * @typedef {object} TimelineView
 * @property {OrderRow} order
 * @property {"choreography" | "orchestration"} mode
 * @property {TimelineStep[]} steps
 * @property {SagaMove[]} moves
 * @property {string[]} missing
 */

/** @typedef {"happy" | "declined" | "suspended" | "closed-restaurant" | "cancel"} OrderScenario */

/**
 * @typedef {object} FaultRequest
 * @property {string} service
 * @property {string} method
 * @property {number} [latencyMs]
 * @property {number} [statusCode]
 * @property {number} [probability]
 * @property {boolean} [hang]
 */

export {};

/**
 * @typedef {object} TraceSpanView
 * @property {string} spanId
 * @property {string} parentSpanId "" for a root
 * @property {number} depth
 * @property {string} service
 * @property {string} name
 * @property {number} startOffsetMs
 * @property {number} durationMs
 * @property {boolean} error
 */

/**
 * @typedef {object} TraceView
 * @property {string} source Jaeger's query API; "" when the gateway knows none
 * @property {string} note why there is no span to show; "" otherwise
 * @property {Array<{ traceId: string, spans: TraceSpanView[] }>} traces
 */
