import { create } from "@bufbuild/protobuf";
import { type Consumer, ConsumerSchema, ConsumerState } from "@ftgo/gen/ftgo/consumer/v1/consumer_pb.js";
import { openDatabase } from "@ftgo/platform";
import { SEED_CONSUMERS } from "./seed.js";

const MIGRATIONS = [
  `CREATE TABLE consumers (
     consumer_id TEXT PRIMARY KEY,
     name        TEXT NOT NULL,
     state       TEXT NOT NULL
   );`,
];

interface ConsumerRow {
  consumer_id: string;
  name: string;
  state: keyof typeof ConsumerState;
}

/** Consumer Service's own database. Nobody else reads it. */
export interface ConsumerStore {
  findConsumer(consumerId: string): Consumer | undefined;
  close(): void;
}

/** Opens the consumer database at `file`, creating the schema and the seed consumers on first start. */
export function openConsumerStore(file: string): ConsumerStore {
  const db = openDatabase(file, MIGRATIONS);
  const insert = db.prepare("INSERT INTO consumers (consumer_id, name, state) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
  db.transaction(() => {
    for (const c of SEED_CONSUMERS) insert.run(c.consumerId, c.name, c.state);
  })();
  const byId = db.prepare<[string], ConsumerRow>("SELECT * FROM consumers WHERE consumer_id = ?");
  return {
    findConsumer(consumerId) {
      const row = byId.get(consumerId);
      return (
        row && create(ConsumerSchema, { consumerId: row.consumer_id, name: row.name, state: ConsumerState[row.state] })
      );
    },
    close: () => db.close(),
  };
}
