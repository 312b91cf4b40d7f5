// Accounting Service's tables, as migrations applied in order on start (see openDatabase), and their rows
// as the store reads them.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type Authorization,
  AuthorizationSchema,
  AuthorizationState,
} from "@ftgo/gen/ftgo/accounting/v1/accounting_pb.js";
import { money } from "@ftgo/platform";

export type AuthorizationStateName = keyof typeof AuthorizationState;

/** An authorization as the saga steps see it: its state and which of the saga's facts have arrived. */
export interface AuthorizationFacts {
  readonly orderId: string;
  readonly consumerId: string;
  readonly amountMinor: number;
  readonly currency: string;
  readonly state: AuthorizationStateName;
  readonly orderKnown: boolean;
  readonly ticketCreated: boolean;
  readonly consumerVerified: boolean;
}

export const MIGRATIONS = [
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
  // The saga's facts about an order arrive on three streams in any order: keep each one until all are in.
  // (The table was always empty before the saga existed, so it is recreated rather than altered.)
  `DROP TABLE authorizations;
   CREATE TABLE authorizations (
     order_id          TEXT PRIMARY KEY,
     consumer_id       TEXT NOT NULL DEFAULT '',
     amount_minor      INTEGER NOT NULL DEFAULT 0,
     currency          TEXT NOT NULL DEFAULT 'USD',
     state             TEXT NOT NULL,
     reason            TEXT NOT NULL DEFAULT '',
     order_known       INTEGER NOT NULL DEFAULT 0,
     ticket_created    INTEGER NOT NULL DEFAULT 0,
     consumer_verified INTEGER NOT NULL DEFAULT 0,
     create_time       INTEGER NOT NULL,
     update_time       INTEGER NOT NULL
   );
   CREATE TABLE card_charges (
     seq          INTEGER PRIMARY KEY AUTOINCREMENT,
     order_id     TEXT NOT NULL,
     kind         TEXT NOT NULL CHECK (kind IN ('charge', 'reversal')),
     consumer_id  TEXT NOT NULL,
     card_last4   TEXT NOT NULL,
     amount_minor INTEGER NOT NULL,
     currency     TEXT NOT NULL,
     approved     INTEGER NOT NULL,
     at           INTEGER NOT NULL
   );`,
];

export interface AuthorizationRow {
  order_id: string;
  consumer_id: string;
  amount_minor: number;
  currency: string;
  state: AuthorizationStateName;
  reason: string;
  order_known: number;
  ticket_created: number;
  consumer_verified: number;
  create_time: number;
  update_time: number;
}

export function toFacts(row: AuthorizationRow): AuthorizationFacts {
  return {
    orderId: row.order_id,
    consumerId: row.consumer_id,
    amountMinor: row.amount_minor,
    currency: row.currency,
    state: row.state,
    orderKnown: row.order_known === 1,
    ticketCreated: row.ticket_created === 1,
    consumerVerified: row.consumer_verified === 1,
  };
}

export function toAuthorization(row: AuthorizationRow): Authorization {
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
