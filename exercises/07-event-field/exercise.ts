// Exercise 7: add a field to an event. An event has no caller to ask "which version do you speak?": it sits in a
// stream and every subscriber, old or new, reads the same bytes. So the change must be one an old subscriber can
// skip (a new field number) and a new one can live without (events written before it lack the field).
import { randomUUID } from "node:crypto";
import { type DescMessage, fromBinary, type Message, type MessageShape } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import { loadConsumerConfig, startConsumer } from "@ftgo/consumer";
import { ConsumerVerifiedSchema } from "@ftgo/gen/ftgo/consumer/v1/events_pb.js";
import { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import {
  DEFAULT_PARTITIONS,
  encodeBody,
  ensureEventStream,
  eventStreamName,
  eventSubject,
  MessageHeader,
  messageHeaders,
  partitionOf,
} from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { bufSays } from "../../scripts/lib/exercises/buf-says.js";
import { withService } from "../../scripts/lib/exercises/one-service.js";
import { loadReleaseImage, releasedMessage } from "../../scripts/lib/exercises/release-image.js";
import type { Exercise, Verdict } from "../../scripts/lib/exercises/types.js";

const NEW_FIELD = { name: "consumer_name", number: 3 };
const CONSUMER = { consumerId: "c-1001", name: "Ana Nguyen" };

/** The field the learner adds, as today's generated code describes it; undefined until it exists. */
function newField() {
  return ConsumerVerifiedSchema.fields.find((field) => field.name === NEW_FIELD.name);
}

/** Starts the saga for a new order of c-1001 the way Order would: an OrderCreated on the order events' stream. */
async function publishOrderCreated(nc: NatsConnection, orderId: string): Promise<void> {
  await ensureEventStream(nc, "order");
  const messageId = randomUUID();
  const line = { menuItemId: "m-1", name: "Chicken Vindaloo", quantity: 1 };
  const price = { currencyCode: "USD", units: 12n };
  await jetstream(nc).publish(
    eventSubject(OrderCreatedSchema, partitionOf(orderId, DEFAULT_PARTITIONS)),
    encodeBody(OrderCreatedSchema, {
      orderId,
      consumerId: CONSUMER.consumerId,
      restaurantId: "r-1",
      lineItems: [{ ...line, price, total: price }],
      total: price,
    }),
    {
      msgID: messageId,
      headers: messageHeaders({ messageId, type: OrderCreatedSchema.typeName, correlationId: orderId }),
    },
  );
}

/**
 * A subscriber of ConsumerVerified that reads `schema`: its own ordered consumer on Consumer's event stream,
 * from the beginning, so it and every other subscriber see the same stored message.
 */
async function subscriberReads<T extends DescMessage>(
  nc: NatsConnection,
  schema: T,
  orderId: string,
): Promise<{ seq: number; event: MessageShape<T> }> {
  const stream = eventStreamName("consumer");
  const consumer = await waitFor(() =>
    jetstream(nc).consumers.get(stream, { filter_subjects: "ftgo.consumer.event.consumer_verified.>" }),
  );
  for (;;) {
    const msg = await consumer.next({ expires: 5_000 });
    if (!msg) throw new Error(`no ConsumerVerified for ${orderId} within 5 s`);
    if (msg.headers?.get(MessageHeader.CorrelationId) !== orderId) continue;
    return { seq: msg.seq, event: fromBinary(schema, msg.data) };
  }
}

/** The message's fields its schema did not know, which protobuf-es keeps aside rather than failing. */
function unknownFieldNumbers(message: Message): number[] {
  return ((message as { $unknown?: { no: number }[] }).$unknown ?? []).map((field) => field.no);
}

async function bothSubscribersRead(scratch: string, latestRelease: string): Promise<Verdict> {
  const field = newField();
  if (!field) {
    return {
      ok: false,
      missing: `ConsumerVerified has no field ${NEW_FIELD.name} yet: add it to proto/ftgo/consumer/v1/events.proto.`,
    };
  }
  const oldSchema = releasedMessage(loadReleaseImage(latestRelease), ConsumerVerifiedSchema.typeName);
  return withService(
    scratch,
    (env, log) => startConsumer(loadConsumerConfig(env), log),
    async ({ nats }) => {
      const nc = await connect({ servers: nats.url });
      try {
        const orderId = `ex7-${randomUUID()}`;
        await publishOrderCreated(nc, orderId);
        const [today, old] = await Promise.all([
          subscriberReads(nc, ConsumerVerifiedSchema, orderId),
          subscriberReads(nc, oldSchema, orderId),
        ]);
        const name = reflect(ConsumerVerifiedSchema, today.event).get(field);
        if (name !== CONSUMER.name) {
          return {
            ok: false,
            missing:
              `ConsumerVerified for ${CONSUMER.consumerId} carries ${NEW_FIELD.name} = ${JSON.stringify(name)}: set it ` +
              "to the consumer's name where services/consumer/src/steps.ts publishes ConsumerVerified.",
          };
        }
        const skipped = unknownFieldNumbers(old.event);
        if (today.seq !== old.seq || !skipped.includes(field.number)) {
          return { ok: false, missing: `the v1.0.0 subscriber did not skip field ${field.number} (${skipped})` };
        }
        const oldOrderId = (old.event as unknown as { orderId: string }).orderId;
        return {
          ok: true,
          detail:
            `stream message #${today.seq}: today's subscriber reads ${NEW_FIELD.name} "${name}"; the v1.0.0 one ` +
            `reads order ${oldOrderId} and keeps field ${field.number} aside as unknown`,
        };
      } finally {
        await nc.close();
      }
    },
  );
}

const exercise: Exercise = {
  number: 7,
  slug: "event-field",
  title: "Add a field to an event: a new subscriber uses it, an old one skips it",
  teaches: "one stored event serves old and new subscribers when the change only adds a field number",
  touches: ["proto/ftgo/consumer/v1/events.proto", "services/consumer/src/steps.ts"],
  checks: [
    {
      name: "buf breaking against the latest release passes (a new event field is MINOR)",
      async run(ctx) {
        const result = await ctx.breakingAgainstRelease();
        if (result.code === 0) return { ok: true };
        return {
          ok: false,
          missing: `buf breaking against ${ctx.latestReleaseVersion} fails:\n${bufSays(result)}\nAdd; change nothing else.`,
        };
      },
    },
    { name: "gen/ is what `npm run generate` makes from proto/", run: (ctx) => ctx.generatedUpToDate() },
    {
      name: `ConsumerVerified has ${NEW_FIELD.name} = ${NEW_FIELD.number}`,
      async run() {
        const field = newField();
        if (!field) {
          return {
            ok: false,
            missing: `ConsumerVerified has no field ${NEW_FIELD.name} yet: add it to proto/ftgo/consumer/v1/events.proto.`,
          };
        }
        if (field.number !== NEW_FIELD.number) {
          return { ok: false, missing: `${NEW_FIELD.name} is field ${field.number}: use the next free number, 3.` };
        }
        return { ok: true };
      },
    },
    {
      name: "on real JetStream, today's subscriber reads the name and a v1.0.0 subscriber skips it, same message",
      run: (ctx) => bothSubscribersRead(ctx.scratch, ctx.latestRelease),
    },
  ],
};

export default exercise;
