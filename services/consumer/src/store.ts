// Consumer Service's own database: consumers, the verifications it made, the outbox and the processed-messages
// table. Persistence only: the verification rule and the step it belongs to are in steps.ts.
import { create } from "@bufbuild/protobuf";
import { type Consumer, ConsumerSchema, ConsumerState } from "@ftgo/gen/ftgo/consumer/v1/consumer_pb.js";
import { createOutbox, type Database, type DatabaseLocation, type Outbox, openDatabase } from "@ftgo/platform";
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

/** One answer to "may this consumer place this order?": verified, or refused with the reason. */
export interface Verification {
  readonly orderId: string;
  readonly consumerId: string;
  readonly verified: boolean;
  readonly reason: string;
}

/** The persistence of Consumer Service. Writes belong inside the handler's transaction. */
export interface ConsumerStore {
  readonly db: Database;
  readonly outbox: Outbox;
  findConsumer(consumerId: string): Consumer | undefined;
  /** Keeps the answer given for an order (one per order). */
  recordVerification(verification: Verification): void;
  close(): void;
}

/** Opens the consumer database at `file`, creating the schema and the seed consumers on first start. */
export function openConsumerStore(
  where: string | DatabaseLocation,
  options: { partitions?: number } = {},
): ConsumerStore {
  const db = openDatabase(where, MIGRATIONS);
  const outbox = createOutbox(db, options);
  const insert = db.prepare("INSERT INTO consumers (consumer_id, name, state) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
  db.transaction(() => {
    for (const c of SEED_CONSUMERS) insert.run(c.consumerId, c.name, c.state);
  })();
  const byId = db.prepare<[string], ConsumerRow>("SELECT * FROM consumers WHERE consumer_id = ?");
  const record = db.prepare(
    "INSERT INTO verifications (order_id, consumer_id, verified, reason, at) VALUES (?, ?, ?, ?, ?)",
  );
  return {
    db,
    outbox,
    findConsumer(consumerId) {
      const row = byId.get(consumerId);
      return (
        row && create(ConsumerSchema, { consumerId: row.consumer_id, name: row.name, state: ConsumerState[row.state] })
      );
    },
    recordVerification({ orderId, consumerId, verified, reason }) {
      record.run(orderId, consumerId, verified ? 1 : 0, reason, Date.now());
    },
    close: () => db.close(),
  };
}
