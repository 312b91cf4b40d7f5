import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type Authorization,
  AuthorizationSchema,
  AuthorizationState,
} from "@ftgo/gen/ftgo/accounting/v1/accounting_pb.js";
import { money, openDatabase } from "@ftgo/platform";
import { SEED_ACCOUNTS } from "./seed.js";

const MIGRATIONS = [
  `CREATE TABLE accounts (
     consumer_id     TEXT PRIMARY KEY,
     card_last4      TEXT NOT NULL,
     always_declines INTEGER NOT NULL
   );
   CREATE TABLE authorizations (
     order_id     TEXT PRIMARY KEY,
     consumer_id  TEXT NOT NULL,
     amount_minor INTEGER NOT NULL,
     currency     TEXT NOT NULL,
     state        TEXT NOT NULL,
     reason       TEXT NOT NULL DEFAULT '',
     create_time  INTEGER NOT NULL,
     update_time  INTEGER NOT NULL
   );`,
];

interface AuthorizationRow {
  order_id: string;
  consumer_id: string;
  amount_minor: number;
  currency: string;
  state: keyof typeof AuthorizationState;
  reason: string;
  create_time: number;
  update_time: number;
}

/** Accounting Service's own database: accounts and authorizations. Nobody else reads it. */
export interface AccountingStore {
  findAuthorization(orderId: string): Authorization | undefined;
  close(): void;
}

/** Opens the accounting database at `file`, creating the schema and the seed accounts on first start. */
export function openAccountingStore(file: string): AccountingStore {
  const db = openDatabase(file, MIGRATIONS);
  const insert = db.prepare(
    "INSERT INTO accounts (consumer_id, card_last4, always_declines) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
  );
  db.transaction(() => {
    for (const a of SEED_ACCOUNTS) insert.run(a.consumerId, a.cardLast4, a.alwaysDeclines ? 1 : 0);
  })();
  const byOrder = db.prepare<[string], AuthorizationRow>("SELECT * FROM authorizations WHERE order_id = ?");
  return {
    findAuthorization(orderId) {
      const row = byOrder.get(orderId);
      return row && toAuthorization(row);
    },
    close: () => db.close(),
  };
}

function toAuthorization(row: AuthorizationRow): Authorization {
  return create(AuthorizationSchema, {
    orderId: row.order_id,
    consumerId: row.consumer_id,
    amount: money(row.amount_minor, row.currency),
    state: AuthorizationState[row.state],
    reason: row.reason,
    createTime: timestampFromMs(row.create_time),
    updateTime: timestampFromMs(row.update_time),
  });
}
