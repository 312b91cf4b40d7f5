// The saga orchestrator: it runs the sagas of definitions.ts, the asynchronous request/response way. On
// entering a waiting state it sends that state's command to the participant's command channel, naming
// Order's reply channel, and records which command it awaits and until when. A reply is matched to its
// saga by correlation id (the order id: an order has one saga in flight at a time) and to the request
// by causation id (the command's message id); anything else is a late or stray reply, noted and
// ignored. Every move happens in one local transaction with the order change, the consumed reply
// (inbox) and the next command (outbox), so a crash at any point resumes exactly where it stopped:
// replies wait in Order's durable reply channel, and overdue steps are found by their deadline.
import type { Order } from "@ftgo/gen/ftgo/order/v2/order_pb.js";
import {
  inSagaSpan,
  type Logger,
  type MessageContext,
  NoReplyChannelError,
  type OutboxRelay,
  onReply,
  replyChannel,
  type Subscription,
} from "@ftgo/platform";
import type { OrderStore } from "../store.js";
import {
  CANCEL_ORDER_SAGA,
  CREATE_ORDER_SAGA,
  REPLY_SCHEMAS,
  SAGA_DEFINITIONS,
  type SagaDefinition,
  type WaitingState,
} from "./definitions.js";
import { openSagaStore, type SagaRecord, type SagaStore } from "./saga-store.js";

/** Where participants send their replies: Order's reply channel. */
export const ORDER_REPLY_CHANNEL = replyChannel("order");

export interface OrchestratorOptions {
  readonly store: OrderStore;
  readonly log: Logger;
  /** How long a step waits for its reply before its timeout policy applies (SAGA_STEP_TIMEOUT_MS). */
  readonly stepTimeoutMs: number;
}

export interface Orchestrator {
  readonly sagas: SagaStore;
  /** The replies it consumes: for the service's consumers. */
  readonly subscriptions: Subscription[];
  /** Starts the Create Order saga of a new order. Call inside the transaction that creates the order. */
  startCreateOrder(order: Order, requestId?: string): SagaRecord;
  /** Starts the Cancel Order saga. Call inside the transaction that moves the order to CANCEL_PENDING. */
  startCancelOrder(order: Order, requestId?: string): SagaRecord;
  /** Starts watching deadlines (overdue ones first: those a crash left behind); `relay` is kicked after each move. */
  run(relay: Pick<OutboxRelay, "kick">): void;
  stop(): void;
}

/** Where a move goes: the next state, and the failure's reason if it is one. */
interface Next {
  readonly to: string;
  readonly reason?: string | undefined;
}

/** What caused a move: a reply being handled, or the orchestrator itself (a new saga, a deadline). */
interface Cause {
  readonly ctx: MessageContext;
  readonly note: string;
}

/** Builds the orchestrator over Order's database; `run` starts its deadline watch. */
export function createOrchestrator({ store, log, stepTimeoutMs }: OrchestratorOptions): Orchestrator {
  const { db } = store;
  const sagas = openSagaStore(db);
  const definitions = new Map<string, SagaDefinition>(SAGA_DEFINITIONS.map((d) => [d.type, d]));
  const definitionOf = (saga: SagaRecord) => {
    const definition = definitions.get(saga.sagaType);
    if (!definition) throw new Error(`saga ${saga.sagaId} has unknown type ${saga.sagaType}`);
    return definition;
  };
  let relay: Pick<OutboxRelay, "kick"> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  /**
   * Enters `next.to` from the saga's state: sends its command, or ends the saga with its final action. In a
   * span of the saga's story, `saga.orchestrator CreateOrderSaga VERIFYING_CONSUMER → CREATING_TICKET`.
   */
  function move(saga: SagaRecord, next: Next, cause: Cause): void {
    const attributes = {
      "saga.type": saga.sagaType,
      "saga.from": saga.state,
      "saga.to": next.to,
      "saga.note": cause.note,
    };
    const name = `saga.orchestrator ${saga.sagaType} ${saga.state} → ${next.to}`;
    inSagaSpan(name, attributes, () => enter(saga, next, cause));
  }

  function enter(saga: SagaRecord, next: Next, cause: Cause): void {
    const definition = definitionOf(saga);
    const reason = next.reason ?? saga.reason;
    const waiting = definition.waiting[next.to];
    const change = {
      to: next.to,
      reason,
      ended: !waiting,
      messageId: cause.ctx.messageId || undefined,
      note: cause.note,
    };
    if (!sagas.advance(saga.sagaId, saga.state, change)) {
      throw new Error(`saga ${saga.sagaId} moved while this transaction held the write lock`);
    }
    if (waiting) {
      request(saga.sagaId, next.to, waiting, saga.orderId, reason, cause.ctx);
      return;
    }
    const final = definition.final[next.to];
    if (!final) throw new Error(`${definition.type} state ${next.to} neither waits nor ends`);
    final(store, saga.orderId, reason, cause.ctx);
    log.info({ orderId: saga.orderId, saga: saga.sagaType, state: next.to, reason: reason || undefined }, "saga ended");
  }

  /** Sends the waiting state's command with Order's reply channel, and awaits its reply until the deadline. */
  function request(
    sagaId: string,
    state: string,
    waiting: WaitingState,
    orderId: string,
    reason: string,
    ctx: MessageContext,
  ) {
    const order = store.findOrder(orderId);
    if (!order) throw new Error(`saga ${sagaId}: order ${orderId} not found`);
    const commandId = ctx.send(waiting.sends, waiting.message(order, reason), { replyTo: ORDER_REPLY_CHANNEL });
    sagas.await(sagaId, state, commandId, Date.now() + stepTimeoutMs);
    log.debug({ orderId, state, command: waiting.sends.name, to: waiting.participant }, "saga step: command sent");
  }

  function start(definition: SagaDefinition, order: Order, requestId: string | undefined): SagaRecord {
    if (!db.inTransaction) throw new Error(`start ${definition.type} inside the transaction that changes the order`);
    const saga = sagas.insert({ sagaType: definition.type, orderId: order.orderId, state: definition.initial });
    const waiting = definition.waiting[definition.initial];
    if (!waiting) throw new Error(`${definition.type} starts in ${definition.initial}, which sends no command`);
    const attributes = { "saga.type": definition.type, "saga.to": definition.initial };
    inSagaSpan(`saga.orchestrator ${definition.type} start → ${definition.initial}`, attributes, () =>
      request(saga.sagaId, saga.state, waiting, order.orderId, "", localContext(order.orderId, requestId)),
    );
    return sagas.find(saga.sagaId) as SagaRecord;
  }

  /** Handles one reply, inside the inbox transaction that records it. */
  function handleReply(reply: object, ctx: MessageContext): void {
    const saga = sagas.activeFor(ctx.correlationId);
    const waiting = saga && definitionOf(saga).waiting[saga.state];
    const accepted = waiting?.replies.get(ctx.type);
    const name = ctx.type.split(".").pop();
    if (!saga || !accepted || ctx.causationId !== saga.pendingCommandId) {
      // A reply to a step that timed out, or to a saga that has ended: the saga has moved on without it.
      const last = saga ?? sagas.ofOrder(ctx.correlationId).at(-1);
      const note = `ignored ${name}: it answers ${ctx.causationId ?? "nothing"}, not an awaited command`;
      if (last) sagas.note(last.sagaId, last.state, note, ctx.messageId);
      log.info({ orderId: ctx.correlationId, reply: name, state: last?.state }, "late or stray reply ignored");
      return;
    }
    const reason = accepted.failure ? reasonOf(reply) : undefined;
    move(saga, { to: accepted.to, reason }, { ctx, note: name ?? "" });
  }

  /** Applies the timeout policy of an overdue step, in its own transaction. */
  const timeOut = db.transaction((sagaId: string, now: number) => {
    const saga = sagas.find(sagaId);
    if (!saga || saga.ended || saga.deadline === undefined || saga.deadline > now) return; // moved meanwhile
    const waiting = definitionOf(saga).waiting[saga.state];
    if (!waiting) return;
    const silence = `${waiting.participant} did not reply to ${waiting.sends.name} within ${stepTimeoutMs} ms`;
    const ctx = localContext(saga.orderId, undefined);
    const policy = waiting.onTimeout;
    if (policy === "wait") {
      sagas.await(saga.sagaId, saga.state, saga.pendingCommandId, now + stepTimeoutMs);
      sagas.note(saga.sagaId, saga.state, `still waiting: ${silence}`);
      log.warn({ orderId: saga.orderId, state: saga.state }, `saga step overdue, still waiting: ${silence}`);
    } else if ("compensateTo" in policy) {
      const reason = `${waiting.step} timed out: ${silence}`;
      log.warn({ orderId: saga.orderId, state: saga.state, reason }, "saga step timed out; compensating");
      move(saga, { to: policy.compensateTo, reason }, { ctx, note: "timed out" });
    } else {
      const note = `unconfirmed: ${silence}; the command stays in ${waiting.participant}'s channel`;
      log.warn({ orderId: saga.orderId, state: saga.state }, `compensation ${note}`);
      move(saga, { to: policy.proceedTo }, { ctx, note });
    }
  });

  /** A context for moves no message caused: what they send is correlated to the order, caused by nothing. */
  function localContext(orderId: string, requestId: string | undefined): MessageContext {
    const meta = { correlationId: orderId, requestId };
    return {
      messageId: "",
      type: "",
      correlationId: orderId,
      causationId: undefined,
      replyTo: undefined,
      requestId,
      traceparent: undefined,
      subject: "",
      deliveryCount: 0,
      publish: (schema, message) => store.outbox.append(schema, message, meta),
      send: (schema, message, options) => store.outbox.send(schema, message, { ...meta, replyTo: options?.replyTo }),
      reply: () => {
        throw new NoReplyChannelError("the orchestrator itself asked nothing");
      },
    };
  }

  const tickMs = Math.max(20, Math.min(250, Math.floor(stepTimeoutMs / 4)));
  function watchDeadlines(): void {
    if (stopped) return;
    try {
      const now = Date.now();
      const overdue = sagas.overdue(now);
      for (const saga of overdue) timeOut.immediate(saga.sagaId, now);
      if (overdue.length > 0) relay?.kick();
    } catch (err) {
      if (!db.open) return; // closed under us while stopping
      log.error({ err }, "could not handle overdue saga steps; trying again");
    }
    timer = setTimeout(watchDeadlines, tickMs);
  }

  return {
    sagas,
    // Every reply type carries the order id; the failures also a `reason`, which becomes the saga's.
    subscriptions: REPLY_SCHEMAS.map((schema) => onReply(schema, (reply, ctx) => handleReply(reply, ctx))),
    startCreateOrder: (order, requestId) => start(CREATE_ORDER_SAGA, order, requestId),
    startCancelOrder: (order, requestId) => start(CANCEL_ORDER_SAGA, order, requestId),
    run(kick) {
      relay = kick;
      const inFlight = sagas.activeCount();
      if (inFlight > 0) log.info({ inFlight }, "resuming sagas in flight");
      watchDeadlines();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** The `reason` a failure reply carries (ConsumerVerificationFailed, TicketCreationFailed, …). */
function reasonOf(reply: object): string {
  return "reason" in reply && typeof reply.reason === "string" ? reply.reason : "";
}
