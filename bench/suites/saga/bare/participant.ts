/*
 * One participant of the bare pipeline, as its own process: `participant.ts <name> <nats url> <db file>`.
 * The baseline the platform's outbox, inbox, consumers and relay are measured against: the Create Order
 * happy path written as the simplest correct code, with no framework (nothing from @ftgo/platform).
 *
 * Per message: ONE SQLite transaction (state row + processed message id + the messages it causes), then,
 * after the commit, the next messages are published with their `Nats-Msg-Id`, their acks awaited, and
 * only then is the incoming message acknowledged. Commit first, publish after: a crash between the two
 * leaves the next message only in the `sent` table — not lost, because the incoming message was not
 * acknowledged, so JetStream redelivers it, the processed id marks it a duplicate, and the messages it
 * caused are published again from `sent` (same ids: the broker drops the copies). Exactly-once effect,
 * nothing lost, with no relay. The one gap: the order's creation comes from a core NATS request, so a
 * crash after its commit and before its publish loses that OrderCreated (the bench would time out).
 *
 * What it does not do that the platform does: no order per order across messages (no partitions, up to
 * max_ack_pending messages in flight per durable — safe here only because on the happy path each message
 * is caused by the one before it, and Accounting merges its three facts in any order), no compensations
 * or business rules that refuse, no dead letters or redelivery backoff, no relay lease or outbox polling,
 * no pricing call to Kitchen on create, no discovery, gRPC, health, logs, validation of message limits,
 * envelope headers beyond the order id, or graceful drain. It prints `ready` once it consumes.
 */
import { type JsMsg, jetstream } from "@nats-io/jetstream";
import { connect, headers } from "@nats-io/transport-node";
import { createOrder, STEPS } from "./steps.js";
import { type Outgoing, openBareStore } from "./store.js";
import { type BareParticipant, CREATE_ORDER_SUBJECT, durableOf, ORDER_ID_HEADER, READS } from "./topology.js";

/** Messages each durable hands out before one is acknowledged: the pull batch size. */
const PULL_BATCH = 256;

const [name, natsUrl, dbFile] = process.argv.slice(2) as [BareParticipant, string, string];
const store = openBareStore(dbFile);
const nc = await connect({ servers: natsUrl });
const js = jetstream(nc);
let stopping = false;

/** Publishes `outgoing` and waits for every ack: each carries its id for the broker's de-duplication. */
function publish(outgoing: readonly Outgoing[]): Promise<unknown> {
  return Promise.all(
    outgoing.map((m) => {
      const h = headers();
      h.set(ORDER_ID_HEADER, m.orderId);
      return js.publish(m.subject, m.body, { msgID: m.messageId, headers: h });
    }),
  );
}

/** Commits the step, publishes what it sent, then acks; any failure naks, and the redelivery publishes again. */
function handle(msg: JsMsg, step: (typeof STEPS)[BareParticipant][string]): void {
  let outgoing: readonly Outgoing[];
  try {
    outgoing = store.handleOnce(msg.headers?.get("Nats-Msg-Id") || `${msg.info.stream}:${msg.seq}`, () =>
      step(store, msg.data),
    );
  } catch (err) {
    process.stderr.write(`bare ${name}: ${String(err)}\n`);
    msg.nak(100);
    return;
  }
  publish(outgoing).then(
    () => msg.ack(),
    (err: unknown) => {
      if (stopping) return; // the connection is closing: the unacked message is redelivered to no one, harmlessly
      process.stderr.write(`bare ${name}: publish failed: ${String(err)}\n`);
      msg.nak(100);
    },
  );
}

const loops = READS[name].map(async (subject) => {
  const { stream, durable } = durableOf(name, subject);
  const step = STEPS[name][subject];
  if (!step) throw new Error(`${name} has no step for ${subject}`);
  const messages = await (await js.consumers.get(stream, durable)).consume({ max_messages: PULL_BATCH });
  return async () => {
    for await (const msg of messages) handle(msg, step);
  };
});

if (name === "order") {
  // The bench's CreateOrder: the body is the OrderCreated to send; the reply comes once it is published.
  nc.subscribe(CREATE_ORDER_SUBJECT, {
    callback: (_err, msg) => {
      const orderId = msg.headers?.get(ORDER_ID_HEADER) ?? "";
      const outgoing = store.handleOnce(`create:${orderId}`, () => createOrder(store, msg.data));
      publish(outgoing).then(
        () => msg.respond(),
        (err: unknown) => msg.respond(new TextEncoder().encode(String(err))),
      );
    },
  });
}
const consuming = await Promise.all(loops);
await nc.flush();

const stop = async () => {
  stopping = true;
  await nc.close();
  store.close();
  process.exit(0);
};
process.once("SIGTERM", () => void stop());
process.once("disconnect", () => void stop()); // the bench is gone: do not outlive it
process.stdout.write("ready\n");
await Promise.all(consuming.map((loop) => loop()));
