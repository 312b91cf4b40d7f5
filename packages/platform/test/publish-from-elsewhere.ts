// Run as its own process (tsx) by messaging-consumer-stop.test.ts while the test's process is blocked: publishes
// an OrderCreated for the order in argv and exits once JetStream has sent it to the consumer `durable`, so that
// it is on its way to a client that has not read it yet.
//   tsx publish-from-elsewhere.ts <nats url> <order id> <stream> <durable>
import { randomUUID } from "node:crypto";
import { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { eventSubject, partitionOf } from "../src/messaging/channels.js";
import { encodeBody, envelopeHeaders, toNatsHeaders } from "../src/messaging/envelope.js";
import { waitFor } from "../src/testing/wait.js";
import { anOrderCreated } from "./message-fixtures.js";

const [url, orderId, stream, durable] = process.argv.slice(2) as [string, string, string, string];
const nc = await connect({ servers: url });
try {
  const messageId = randomUUID();
  const { seq } = await jetstream(nc).publish(
    eventSubject(OrderCreatedSchema, partitionOf(orderId, 4)),
    encodeBody(OrderCreatedSchema, anOrderCreated(orderId)),
    {
      headers: toNatsHeaders(envelopeHeaders({ messageId, type: OrderCreatedSchema.typeName, correlationId: orderId })),
      msgID: messageId,
    },
  );
  const jsm = await jetstreamManager(nc);
  await waitFor(async () => (await jsm.consumers.info(stream, durable)).delivered.stream_seq >= seq, {
    message: `${stream}/${durable} to send stream message ${seq}`,
  });
} finally {
  await nc.close();
}
