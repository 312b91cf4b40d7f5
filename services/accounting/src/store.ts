import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type Authorization,
  AuthorizationSchema,
  AuthorizationState,
} from "@ftgo/gen/ftgo/accounting/v1/accounting_pb.js";
import {
  CreditCardAuthorizationCancelledSchema,
  CreditCardAuthorizationFailedSchema,
  CreditCardAuthorizationReversedSchema,
  CreditCardAuthorizedSchema,
} from "@ftgo/gen/ftgo/accounting/v1/events_pb.js";
import type { Money } from "@ftgo/gen/ftgo/common/v1/money_pb.js";
import {
  createOutbox,
  createStateMachine,
  type Database,
  type MessageContext,
  money,
  type Outbox,
  openDatabase,
  type StateHistory,
  type Transitions,
} from "@ftgo/platform";
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

type StateName = keyof typeof AuthorizationState;

/** The authorization state machine: every change the code may make, and nothing else. */
export const AUTHORIZATION_TRANSITIONS: Transitions<StateName> = {
  PENDING: ["AUTHORIZED", "DECLINED", "CANCELLED"],
  AUTHORIZED: ["REVERSED"],
  DECLINED: [],
  CANCELLED: [],
  REVERSED: [],
};

interface AuthorizationRow {
  order_id: string;
  consumer_id: string;
  amount_minor: number;
  currency: string;
  state: StateName;
  reason: string;
  order_known: number;
  ticket_created: number;
  consumer_verified: number;
  create_time: number;
  update_time: number;
}

interface AccountRow {
  consumer_id: string;
  card_last4: string;
  always_declines: number;
}

/** What an authorization is opened for: OrderCreated under choreography, AuthorizeCard under orchestration. */
export interface OrderToPay {
  readonly orderId: string;
  readonly consumerId: string;
  readonly total?: Money | undefined;
}

/** One line of the card ledger: every charge and reversal sent to the (simulated) card network. */
export interface CardCharge {
  readonly orderId: string;
  readonly kind: "charge" | "reversal";
  readonly approved: boolean;
  readonly amountMinor: number;
}

/**
 * Accounting Service's own database: accounts, authorizations, the card ledger, their state history,
 * the outbox and the processed-messages table. Each change and its event are one local transaction.
 */
export interface AccountingStore {
  readonly db: Database;
  readonly outbox: Outbox;
  readonly history: StateHistory;
  findAuthorization(orderId: string): Authorization | undefined;
  /** Create Order step 4 begins: an authorization PENDING for the order's total. */
  openAuthorization(order: OrderToPay, ctx: MessageContext): void;
  /** One of the two facts step 4 waits for. */
  noteTicketCreated(orderId: string, ctx: MessageContext): void;
  /** The other one. */
  noteConsumerVerified(orderId: string, ctx: MessageContext): void;
  /** Compensation: another step failed before the card was charged, so the authorization is CANCELLED. */
  cancelAuthorization(orderId: string, reason: string, ctx: MessageContext): boolean;
  /** Cancel Order: AUTHORIZED → REVERSED, refunding the charge and publishing CreditCardAuthorizationReversed. */
  reverseAuthorization(orderId: string, ctx: MessageContext): boolean;
  /**
   * Orchestration's compensation when AuthorizeCard went unanswered: whatever happened, the order ends
   * up not charged (AUTHORIZED → REVERSED with a refund, PENDING or unknown → CANCELLED), and
   * CreditCardAuthorizationCancelled is replied. True when a charge was refunded.
   */
  voidAuthorization(orderId: string, reason: string, ctx: MessageContext): boolean;
  /** The ledger, for audits and tests ("no order was charged twice"). */
  cardCharges(): CardCharge[];
  close(): void;
}

/** Opens the accounting database at `file`, creating the schema and the seed accounts on first start. */
export function openAccountingStore(file: string, options: { partitions?: number } = {}): AccountingStore {
  const db = openDatabase(file, MIGRATIONS);
  const outbox = createOutbox(db, options);
  const machine = createStateMachine(db, {
    entity: "authorization",
    table: "authorizations",
    transitions: AUTHORIZATION_TRANSITIONS,
  });
  const history = machine.history;
  const insertAccount = db.prepare(
    "INSERT INTO accounts (consumer_id, card_last4, always_declines) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
  );
  db.transaction(() => {
    for (const a of SEED_ACCOUNTS) insertAccount.run(a.consumerId, a.cardLast4, a.alwaysDeclines ? 1 : 0);
  })();

  const byOrder = db.prepare<[string], AuthorizationRow>("SELECT * FROM authorizations WHERE order_id = ?");
  const account = db.prepare<[string], AccountRow>("SELECT * FROM accounts WHERE consumer_id = ?");
  const open = db.prepare(
    `INSERT INTO authorizations (order_id, state, create_time, update_time) VALUES (?, 'PENDING', ?, ?)
     ON CONFLICT DO NOTHING`,
  );
  const setFact = {
    order: db.prepare(
      "UPDATE authorizations SET order_known = 1, consumer_id = ?, amount_minor = ?, currency = ? WHERE order_id = ?",
    ),
    ticket: db.prepare("UPDATE authorizations SET ticket_created = 1 WHERE order_id = ?"),
    consumer: db.prepare("UPDATE authorizations SET consumer_verified = 1 WHERE order_id = ?"),
  };
  const ledger = db.prepare(
    `INSERT INTO card_charges (order_id, kind, consumer_id, card_last4, amount_minor, currency, approved, at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const allCharges = db.prepare<
    [],
    { order_id: string; kind: "charge" | "reversal"; approved: number; amount_minor: number }
  >("SELECT order_id, kind, approved, amount_minor FROM card_charges ORDER BY seq");

  /** The row for an order, created PENDING by whichever of the saga's facts arrives first. */
  const rowFor = (orderId: string, messageId: string): AuthorizationRow => {
    const now = Date.now();
    if (open.run(orderId, now, now).changes === 1) history.record(orderId, null, "PENDING", messageId);
    return byOrder.get(orderId) as AuthorizationRow;
  };
  const transition = machine.transition;

  /** Step 4 proper: once the order, its ticket and its consumer are all known good, charge the card. */
  const authorizeWhenReady = (orderId: string, ctx: MessageContext) => {
    const row = byOrder.get(orderId);
    if (row?.state !== "PENDING" || !row.order_known || !row.ticket_created || !row.consumer_verified) return;
    const card = account.get(row.consumer_id);
    const approved = card !== undefined && card.always_declines === 0;
    ledger.run(
      orderId,
      "charge",
      row.consumer_id,
      card?.card_last4 ?? "",
      row.amount_minor,
      row.currency,
      approved ? 1 : 0,
      Date.now(),
    );
    if (approved) {
      transition(orderId, "PENDING", "AUTHORIZED", "", ctx.messageId);
      ctx.publish(CreditCardAuthorizedSchema, {
        orderId,
        consumerId: row.consumer_id,
        amount: money(row.amount_minor, row.currency),
      });
    } else {
      const reason = card
        ? `card ending ${card.card_last4} was declined`
        : `consumer ${row.consumer_id} has no card on file`;
      transition(orderId, "PENDING", "DECLINED", reason, ctx.messageId);
      ctx.publish(CreditCardAuthorizationFailedSchema, { orderId, reason });
    }
  };

  /** AUTHORIZED → REVERSED with the refund in the ledger; false when there was no charge to refund. */
  const refund = (orderId: string, reason: string, messageId: string) => {
    const row = byOrder.get(orderId);
    if (!row || !transition(orderId, "AUTHORIZED", "REVERSED", reason, messageId)) return false;
    const card = account.get(row.consumer_id);
    ledger.run(
      orderId,
      "reversal",
      row.consumer_id,
      card?.card_last4 ?? "",
      -row.amount_minor,
      row.currency,
      1,
      Date.now(),
    );
    return true;
  };

  return {
    db,
    outbox,
    history,
    findAuthorization(orderId) {
      const row = byOrder.get(orderId);
      // Until OrderCreated has arrived there is nothing to show: not even the amount is known.
      return row?.order_known ? toAuthorization(row) : undefined;
    },
    openAuthorization(order, ctx) {
      rowFor(order.orderId, ctx.messageId);
      const total = order.total ?? money(0);
      setFact.order.run(order.consumerId, total.minorUnits, total.currencyCode, order.orderId);
      authorizeWhenReady(order.orderId, ctx);
    },
    noteTicketCreated(orderId, ctx) {
      rowFor(orderId, ctx.messageId);
      setFact.ticket.run(orderId);
      authorizeWhenReady(orderId, ctx);
    },
    noteConsumerVerified(orderId, ctx) {
      rowFor(orderId, ctx.messageId);
      setFact.consumer.run(orderId);
      authorizeWhenReady(orderId, ctx);
    },
    cancelAuthorization(orderId, reason, ctx) {
      rowFor(orderId, ctx.messageId);
      return transition(orderId, "PENDING", "CANCELLED", reason, ctx.messageId);
    },
    reverseAuthorization(orderId, ctx) {
      if (!refund(orderId, "order cancelled", ctx.messageId)) return false;
      ctx.publish(CreditCardAuthorizationReversedSchema, { orderId });
      return true;
    },
    voidAuthorization(orderId, reason, ctx) {
      const refunded = refund(orderId, reason, ctx.messageId);
      if (!refunded) {
        rowFor(orderId, ctx.messageId);
        transition(orderId, "PENDING", "CANCELLED", reason, ctx.messageId);
      }
      ctx.reply(CreditCardAuthorizationCancelledSchema, { orderId, refunded });
      return refunded;
    },
    cardCharges: () =>
      allCharges.all().map((row) => ({
        orderId: row.order_id,
        kind: row.kind,
        approved: row.approved === 1,
        amountMinor: row.amount_minor,
      })),
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
