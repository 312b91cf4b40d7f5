// One order's saga, step by step, as the dashboard draws it: every message any service sent for the order
// (asked of every instance: AdminService ListSentMessages reads its outbox), oldest first, each with the
// message that caused it and how long after it came; and the orchestrator's moves when Order ran one.
import { Code, ConnectError } from "@connectrpc/connect";
import type { ListSentMessagesResponse, SagaMove, SentMessage } from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import type { ServiceInstance } from "@ftgo/platform";
import type { GatewayDeps } from "../context.js";
import { notFound } from "../errors.js";
import type { AdminClients } from "./admin-clients.js";
import { isoOf, msOf, orderRow } from "./order-history.js";
import type { TimelineStep, TimelineView } from "./view.js";

/**
 * The messages that undo an earlier step of the Create Order saga: its compensating transactions, as
 * commands (orchestration) and as the events that tell they happened (both modes). Rejecting the order
 * undoes its creation, the saga's first step.
 */
export const COMPENSATIONS: ReadonlySet<string> = new Set([
  "ftgo.kitchen.v1.RejectTicket",
  "ftgo.kitchen.v1.TicketRejected",
  "ftgo.accounting.v1.CancelAuthorization",
  "ftgo.accounting.v1.CreditCardAuthorizationCancelled",
  "ftgo.order.v1.OrderRejected",
]);

interface Sent extends SentMessage {
  readonly service: string;
}

export async function timelineOf(
  deps: GatewayDeps,
  clients: AdminClients,
  backends: readonly string[],
  orderId: string,
): Promise<TimelineView> {
  const { order } = await deps.backends.order.getOrder({ orderId });
  if (!order) throw notFound(`order ${orderId} not found`);
  const instances = (await Promise.all(backends.map((name) => deps.registry.lookup(name)))).flat();
  const answers = await Promise.all(instances.map((instance) => ask(clients, instance, orderId)));
  // A server without AdminService's reads (the Go service, today) has nothing to say: not missing, not asked.
  const missing = [
    ...new Set(answers.flatMap((answer) => (answer.ok || answer.unimplemented ? [] : [answer.service]))),
  ];
  const sent: Sent[] = answers.flatMap((answer) =>
    answer.ok ? answer.response.messages.map((message) => ({ ...message, service: answer.service })) : [],
  );
  const moves = answers.flatMap((answer) => (answer.ok ? answer.response.sagaMoves : []));
  const millis = (message: Sent) => msOf(message.createTime);
  sent.sort((a, b) => millis(a) - millis(b));
  const created = msOf(order.createTime);
  const first = sent[0];
  const start = first ? Math.min(millis(first), created) : created;
  const byId = new Map(sent.map((message) => [message.messageId, message]));
  const steps = sent.map((message): TimelineStep => {
    const cause = message.causationId ? byId.get(message.causationId) : undefined;
    return {
      time: isoOf(message.createTime),
      offsetMs: millis(message) - start,
      service: message.service,
      type: message.type,
      subject: message.subject,
      messageId: message.messageId,
      causedBy: cause?.type ?? "",
      durationMs: cause ? millis(message) - millis(cause) : null,
      compensation: COMPENSATIONS.has(message.type),
      replyTo: message.replyTo,
    };
  });
  return {
    order: orderRow(order),
    mode: moves.length > 0 ? "orchestration" : "choreography",
    steps,
    moves: moves.sort(byTime).map((move) => ({
      time: isoOf(move.time),
      offsetMs: msOf(move.time) - start,
      sagaType: move.sagaType,
      from: move.fromState,
      to: move.toState,
      note: move.note,
    })),
    missing,
  };
}

type Answer =
  | { readonly ok: true; readonly service: string; readonly response: ListSentMessagesResponse }
  | { readonly ok: false; readonly service: string; readonly unimplemented: boolean };

async function ask(clients: AdminClients, instance: ServiceInstance, orderId: string): Promise<Answer> {
  try {
    const response = await clients.of(instance).admin.listSentMessages({ correlationId: orderId });
    return { ok: true, service: instance.service, response };
  } catch (err) {
    return { ok: false, service: instance.service, unimplemented: ConnectError.from(err).code === Code.Unimplemented };
  }
}

function byTime(a: SagaMove, b: SagaMove): number {
  return msOf(a.time) - msOf(b.time);
}
