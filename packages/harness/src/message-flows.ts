// Who sends and who receives each message of the mesh, read from the services themselves, for the
// AsyncAPI document (scripts/asyncapi.ts) and its test. What a service receives is exactly the list of
// subscriptions its app.ts starts consumers with (its saga.ts, per saga mode; Order's orchestrator
// subscribes to every reply its saga definitions accept). Who sends follows from the channel rules:
// an event is published by the service of its domain, a reply by the participant answering, Order's
// orchestrator sends the commands of its definitions. The little that no code states as data is
// declared once, below, and checked by test/asyncapi.test.ts against messages the mesh really sends.
import type { DescMessage, FileRegistry } from "@bufbuild/protobuf";
import { accountingSaga } from "@ftgo/accounting/saga";
import { consumerSaga } from "@ftgo/consumer/saga";
import { deliverySaga } from "@ftgo/delivery/saga";
import { CreditCardAuthorizationCancelledSchema } from "@ftgo/gen/ftgo/accounting/v1/events_pb.js";
import { ScheduleDeliverySchema } from "@ftgo/gen/ftgo/delivery/v1/commands_pb.js";
import { CourierQuoteRequestSchema, CourierQuoteSchema } from "@ftgo/gen/ftgo/delivery/v1/couriers_pb.js";
import {
  OrderApprovedSchema,
  OrderCancelledSchema,
  OrderCreatedSchema,
  OrderRejectedSchema,
} from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { kitchenSaga } from "@ftgo/kitchen/saga";
import { REPLY_SCHEMAS, SAGA_DEFINITIONS } from "@ftgo/order/orchestration";
import { orderSaga } from "@ftgo/order/saga";
import {
  type MessageFlow,
  type MessageParty,
  SAGA_MODES,
  type SagaMode,
  type Subscription,
  silentLogger,
} from "@ftgo/platform";

/** The services with subscriptions, and the list each starts its consumers with in `mode` (the Go ones: as declared). */
export function serviceSubscriptions(mode: SagaMode): Record<string, readonly Subscription[]> {
  // The handlers are only built here, never called: no store is needed to list them.
  const deps = { store: undefined as never, log: silentLogger(), mode };
  return {
    order: mode === "orchestration" ? REPLY_SCHEMAS.map(replyOf) : orderSaga(deps),
    consumer: consumerSaga(deps),
    kitchen: kitchenSaga(deps),
    accounting: accountingSaga(deps),
    delivery: deliverySaga(deps),
    ...Object.fromEntries(
      Object.entries(GO_SERVICE_SUBSCRIPTIONS).map(([service, schemas]) => [
        service,
        schemas.map((schema): Subscription => ({ schema, channel: "event", handle: () => undefined })),
      ]),
    ),
  };
}

/**
 * What the Go services consume, in every saga mode. No TypeScript states it, so it is declared here, and
 * test/asyncapi.test.ts checks it against what the binary says it handles (`go/bin/loyalty -subscriptions`).
 */
export const GO_SERVICE_SUBSCRIPTIONS: Readonly<Record<string, readonly DescMessage[]>> = {
  loyalty: [OrderCreatedSchema, OrderApprovedSchema, OrderRejectedSchema, OrderCancelledSchema],
};

/** Order's orchestrator subscribes to the replies like this (orchestrator.ts); only the type and kind matter. */
function replyOf(schema: DescMessage): Subscription {
  return { schema, channel: "reply", handle: () => undefined };
}

/** Commands sent one-way, not by the orchestrator: Kitchen tells Delivery an accepted ticket needs a courier. */
const ONE_WAY_COMMANDS: readonly { schema: DescMessage; sender: string }[] = [
  { schema: ScheduleDeliverySchema, sender: "kitchen" },
];

/** Outcomes that exist only as replies: nothing publishes them as events. */
const REPLY_ONLY: ReadonlySet<string> = new Set([CreditCardAuthorizationCancelledSchema.typeName]);

/** Requests on core NATS: who asks, who answers, with what. */
const REQUESTS = [
  { schema: CourierQuoteRequestSchema, response: CourierQuoteSchema, requester: "delivery", responder: "courier" },
] as const;

/**
 * Every message flow of the mesh, its schemas taken from `registry` (a `buf build` image of proto/, so
 * that the descriptions of proto comments come along): the events and commands of every
 * `ftgo/<domain>/<version>/{events,commands}.proto`, the replies the orchestrator accepts, the requests.
 */
export function messageFlows(registry: FileRegistry): MessageFlow[] {
  const schema = (desc: DescMessage) => {
    const found = registry.getMessage(desc.typeName);
    if (!found) throw new Error(`${desc.typeName} is not in the contracts image`);
    return found;
  };
  const flows = new Map<
    string,
    { flow: Omit<MessageFlow, "senders" | "receivers">; senders: MessageParty[]; receivers: MessageParty[] }
  >();
  const flowOf = (kind: MessageFlow["kind"], desc: DescMessage) => {
    const key = `${kind} ${desc.typeName}`;
    let entry = flows.get(key);
    if (!entry) {
      entry = { flow: { schema: schema(desc), kind }, senders: [], receivers: [] };
      flows.set(key, entry);
    }
    return entry;
  };
  const replyTypes = new Set(REPLY_SCHEMAS.map((reply) => reply.typeName));

  for (const file of registry.files) {
    const kind = /^ftgo\/([a-z]+)\/v\d+\/(events|commands)\.proto$/.exec(file.proto.name)?.[2];
    if (!kind) continue;
    for (const message of file.messages) {
      if (kind === "commands") {
        flowOf("command", message);
      } else if (!REPLY_ONLY.has(message.typeName)) {
        // A participant's outcome is an event under choreography; under orchestration it is its reply.
        const modes: SagaMode[] | undefined = replyTypes.has(message.typeName) ? ["choreography"] : undefined;
        flowOf("event", message).senders.push({ service: serviceOf(message), modes });
      }
    }
  }
  for (const reply of REPLY_SCHEMAS) {
    flowOf("reply", reply).senders.push({ service: serviceOf(reply), modes: ["orchestration"] });
  }
  const commanded = new Set<string>();
  for (const state of SAGA_DEFINITIONS.flatMap((definition) => Object.values(definition.waiting))) {
    if (commanded.has(state.sends.typeName)) continue;
    commanded.add(state.sends.typeName);
    flowOf("command", state.sends).senders.push({ service: "order", modes: ["orchestration"] });
  }
  for (const { schema: command, sender } of ONE_WAY_COMMANDS)
    flowOf("command", command).senders.push({ service: sender });

  for (const mode of SAGA_MODES) {
    for (const [service, subscriptions] of Object.entries(serviceSubscriptions(mode))) {
      for (const subscription of subscriptions) {
        const receivers = flowOf(subscription.channel, subscription.schema).receivers;
        const known = receivers.find((party) => party.service === service);
        if (known) (known.modes as SagaMode[]).push(mode);
        else receivers.push({ service, modes: [mode] });
      }
    }
  }
  // A party in every mode is simply a party: say nothing about modes.
  const everyMode = (party: MessageParty): MessageParty =>
    party.modes && SAGA_MODES.every((mode) => party.modes?.includes(mode)) ? { service: party.service } : party;

  const result: MessageFlow[] = [...flows.values()].map(({ flow, senders, receivers }) => ({
    ...flow,
    senders: senders.map(everyMode),
    receivers: receivers.map(everyMode),
  }));
  for (const request of REQUESTS) {
    result.push({
      schema: schema(request.schema),
      kind: "request",
      response: schema(request.response),
      senders: [{ service: request.requester }],
      receivers: [{ service: request.responder }],
    });
  }
  return result;
}

/** The service that owns a message type's domain: `ftgo.kitchen.v1.TicketCreated` → kitchen. */
function serviceOf(desc: DescMessage): string {
  return desc.typeName.split(".")[1] ?? "";
}
