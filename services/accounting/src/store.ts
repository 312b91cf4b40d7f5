// Accounting Service's own database: accounts, authorizations, the card ledger, their state history, the
// outbox and the processed-messages table. Persistence only: what the saga steps decide is in steps.ts.
import type { Authorization } from "@ftgo/gen/ftgo/accounting/v1/accounting_pb.js";
import type { Money } from "@ftgo/gen/ftgo/common/v1/money_pb.js";
import {
  createOutbox,
  createStateMachine,
  type Database,
  type DatabaseLocation,
  money,
  type Outbox,
  openDatabase,
  type StateHistory,
  type StateMachine,
  type Transitions,
} from "@ftgo/platform";
import {
  type AuthorizationFacts,
  type AuthorizationRow,
  type AuthorizationStateName,
  MIGRATIONS,
  toAuthorization,
  toFacts,
} from "./schema.js";
import { SEED_ACCOUNTS } from "./seed.js";

export type { AuthorizationFacts, AuthorizationStateName };

/** The authorization state machine: every change the code may make, and nothing else. */
export const AUTHORIZATION_TRANSITIONS: Transitions<AuthorizationStateName> = {
  PENDING: ["AUTHORIZED", "DECLINED", "CANCELLED"],
  AUTHORIZED: ["REVERSED"],
  DECLINED: [],
  CANCELLED: [],
  REVERSED: [],
};

/** What an authorization is opened for: OrderCreated under choreography, AuthorizeCard under orchestration. */
export interface OrderToPay {
  readonly orderId: string;
  readonly consumerId: string;
  readonly total?: Money | undefined;
}

/** What one message tells step 4: the order to pay, that its ticket was created, that its consumer is verified. */
export interface SagaFacts {
  readonly order?: OrderToPay;
  readonly ticketCreated?: boolean;
  readonly consumerVerified?: boolean;
}

/** A consumer's payment account: only the card's last four digits are stored. */
export interface Account {
  readonly consumerId: string;
  readonly cardLast4: string;
  readonly alwaysDeclines: boolean;
}

/** One line of the card ledger: every charge and reversal sent to the (simulated) card network. */
export interface CardCharge {
  readonly orderId: string;
  readonly kind: "charge" | "reversal";
  readonly approved: boolean;
  readonly amountMinor: number;
}

/** A line to append to the ledger: the charge, and the card and money it was for. */
export interface CardChargeEntry extends CardCharge {
  readonly consumerId: string;
  readonly cardLast4: string;
  readonly currency: string;
}

/** The persistence of Accounting Service. Call every write inside the handler's (or caller's) transaction. */
export interface AccountingStore {
  readonly db: Database;
  readonly outbox: Outbox;
  readonly history: StateHistory;
  /** The authorization as the API shows it; none until OrderCreated has said what it is for. */
  findAuthorization(orderId: string): Authorization | undefined;
  /** The authorization's state and facts so far, if any message about the order has arrived. */
  factsOf(orderId: string): AuthorizationFacts | undefined;
  /**
   * Keeps the saga's facts about an order as they arrive, on three streams in any order: whichever message
   * comes first opens the authorization PENDING (in the history, caused by `messageId`). Idempotent.
   */
  recordFacts(orderId: string, facts: SagaFacts, messageId: string): void;
  findAccount(consumerId: string): Account | undefined;
  /** A guarded state change (see createStateMachine): false when the authorization was not in `from`. */
  readonly transition: StateMachine<AuthorizationStateName>["transition"];
  /** Appends a charge or a reversal to the card ledger. */
  recordCardCharge(entry: CardChargeEntry): void;
  /** The ledger, for audits and tests ("no order was charged twice"). */
  cardCharges(): CardCharge[];
  close(): void;
}

/** Opens the accounting database at `file`, creating the schema and the seed accounts on first start. */
export function openAccountingStore(
  where: string | DatabaseLocation,
  options: { partitions?: number } = {},
): AccountingStore {
  const db = openDatabase(where, MIGRATIONS);
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
  const account = db.prepare<[string], { consumer_id: string; card_last4: string; always_declines: number }>(
    "SELECT * FROM accounts WHERE consumer_id = ?",
  );
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
     VALUES (@orderId, @kind, @consumerId, @cardLast4, @amountMinor, @currency, @approved, @at)`,
  );
  const allCharges = db.prepare<
    [],
    { order_id: string; kind: "charge" | "reversal"; approved: number; amount_minor: number }
  >("SELECT order_id, kind, approved, amount_minor FROM card_charges ORDER BY seq");

  return {
    db,
    outbox,
    history,
    findAuthorization(orderId) {
      const row = byOrder.get(orderId);
      return row?.order_known ? toAuthorization(row) : undefined;
    },
    factsOf(orderId) {
      const row = byOrder.get(orderId);
      return row && toFacts(row);
    },
    recordFacts(orderId, { order, ticketCreated, consumerVerified }, messageId) {
      const now = Date.now();
      if (open.run(orderId, now, now).changes === 1) history.record(orderId, null, "PENDING", messageId);
      if (order) {
        const total = order.total ?? money(0);
        setFact.order.run(order.consumerId, total.minorUnits, total.currencyCode, orderId);
      }
      if (ticketCreated) setFact.ticket.run(orderId);
      if (consumerVerified) setFact.consumer.run(orderId);
    },
    findAccount(consumerId) {
      const row = account.get(consumerId);
      return (
        row && { consumerId: row.consumer_id, cardLast4: row.card_last4, alwaysDeclines: row.always_declines === 1 }
      );
    },
    transition: machine.transition,
    recordCardCharge(entry) {
      ledger.run({ ...entry, approved: entry.approved ? 1 : 0, at: Date.now() });
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
