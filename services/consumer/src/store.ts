import { create } from "@bufbuild/protobuf";
import { type Consumer, ConsumerSchema, ConsumerState } from "@ftgo/gen/ftgo/consumer/v1/consumer_pb.js";
import { ConsumerVerificationFailedSchema, ConsumerVerifiedSchema } from "@ftgo/gen/ftgo/consumer/v1/events_pb.js";
import { createOutbox, type Database, type MessageContext, type Outbox, openDatabase } from "@ftgo/platform";
import { SEED_CONSUMERS } from "./seed.js";

const MIGRATIONS = [
  `CREATE TABLE consumers (
     consumer_id TEXT PRIMARY KEY,
     name        TEXT NOT NULL,
     state       TEXT NOT NULL
   );`,
  `CREATE TABLE verifications (
     order_id    TEXT PRIMARY KEY,
     consumer_id TEXT NOT NULL,
     verified    INTEGER NOT NULL,
     reason      TEXT NOT NULL DEFAULT '',
     at          INTEGER NOT NULL
   );`,
];

interface ConsumerRow {
  consumer_id: string;
  name: string;
  state: keyof typeof ConsumerState;
}

/** Consumer Service's own database: consumers, the verifications it made, outbox and processed messages. */
export interface ConsumerStore {
  readonly db: Database;
  readonly outbox: Outbox;
  findConsumer(consumerId: string): Consumer | undefined;
  /**
   * Create Order step 2: may this consumer order? Records the answer and publishes ConsumerVerified or
   * ConsumerVerificationFailed (which starts the compensations), in the handler's transaction.
   */
  verifyConsumer(orderId: string, consumerId: string, ctx: MessageContext): { verified: boolean; reason: string };
  close(): void;
}

/** Opens the consumer database at `file`, creating the schema and the seed consumers on first start. */
export function openConsumerStore(file: string, options: { partitions?: number } = {}): ConsumerStore {
  const db = openDatabase(file, MIGRATIONS);
  const outbox = createOutbox(db, options);
  const insert = db.prepare("INSERT INTO consumers (consumer_id, name, state) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
  db.transaction(() => {
    for (const c of SEED_CONSUMERS) insert.run(c.consumerId, c.name, c.state);
  })();
  const byId = db.prepare<[string], ConsumerRow>("SELECT * FROM consumers WHERE consumer_id = ?");
  const record = db.prepare(
    "INSERT INTO verifications (order_id, consumer_id, verified, reason, at) VALUES (?, ?, ?, ?, ?)",
  );
  const findConsumer = (consumerId: string) => {
    const row = byId.get(consumerId);
    return (
      row && create(ConsumerSchema, { consumerId: row.consumer_id, name: row.name, state: ConsumerState[row.state] })
    );
  };
  return {
    db,
    outbox,
    findConsumer,
    verifyConsumer(orderId, consumerId, ctx) {
      const reason = whyConsumerMayNotOrder(consumerId, findConsumer(consumerId));
      record.run(orderId, consumerId, reason ? 0 : 1, reason ?? "", Date.now());
      if (reason) ctx.publish(ConsumerVerificationFailedSchema, { orderId, consumerId, reason });
      else ctx.publish(ConsumerVerifiedSchema, { orderId, consumerId });
      return { verified: !reason, reason: reason ?? "" };
    },
    close: () => db.close(),
  };
}

/** The consumer rule of the seed: a known, active consumer may order. */
function whyConsumerMayNotOrder(consumerId: string, consumer: Consumer | undefined): string | undefined {
  if (!consumer) return `consumer ${consumerId} not found`;
  if (consumer.state !== ConsumerState.ACTIVE) return `consumer ${consumerId} is suspended`;
  return undefined;
}
