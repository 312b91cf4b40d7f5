// The Create Order saga's end-state rules, checked against the participants' own databases after a test
// has done its worst. Written once, here, so that every chaos test judges by the same rules:
//   • an order APPROVED ⇔ its ticket AWAITING_ACCEPTANCE and its authorization AUTHORIZED, charged once;
//   • an order REJECTED ⇔ its ticket CREATE_REJECTED and its authorization DECLINED or CANCELLED (or,
//     orchestrated, none at all where the saga was rejected before asking that participant);
//   • no order charged twice, no ticket to cook for a rejected order;
//   • every recorded state change allowed by its state machine, and each entity's changes chained.

import { AUTHORIZATION_TRANSITIONS } from "@ftgo/accounting/store";
import { TICKET_TRANSITIONS } from "@ftgo/kitchen/store";
import { ORDER_TRANSITIONS } from "@ftgo/order/store";
import { type Database, type DatabaseLocation, openExistingDatabase, type SagaMode } from "@ftgo/platform";

type Db = Database;

/** The services that keep the Create Order saga's state, each in its own database (Delivery comes after it). */
export const SAGA_PARTICIPANTS = ["order", "consumer", "kitchen", "accounting"] as const;
export type SagaParticipant = (typeof SAGA_PARTICIPANTS)[number];

/** Read-only handles on the databases of the services that keep saga state. */
export interface SagaDatabases extends Readonly<Record<SagaParticipant, Db>> {
  close(): void;
}

/**
 * Opens each service's database read-only, beside the running services: its SQLite file (WAL lets a reader
 * in while they write) or its PostgreSQL schema. Every query sees the latest committed state; nothing here
 * can change it.
 */
export function openSagaDatabases(database: (service: SagaParticipant) => string | DatabaseLocation) {
  const open = (service: SagaParticipant) => openExistingDatabase(database(service), { readonly: true });
  const dbs = Object.fromEntries(SAGA_PARTICIPANTS.map((service) => [service, open(service)])) as Record<
    SagaParticipant,
    Db
  >;
  return {
    ...dbs,
    close() {
      for (const db of Object.values(dbs)) db.close();
    },
  } satisfies SagaDatabases;
}

/** One order's saga as the three stateful participants recorded it. */
export interface RecordedSaga {
  readonly orderId: string;
  readonly consumerId: string;
  readonly restaurantId: string;
  readonly order: string;
  readonly reason: string;
  /** Undefined while Kitchen has no ticket for the order. */
  readonly ticket: string | undefined;
  /** Undefined while Accounting has no authorization for it. */
  readonly authorization: string | undefined;
  /** Rows of kind 'charge' in the card ledger: attempts to charge the card, approved or not. */
  readonly charges: number;
  readonly approvedCharges: number;
}

const ORDER_ENDS = new Set(["APPROVED", "REJECTED"]);
const TICKET_ENDS = new Set(["AWAITING_ACCEPTANCE", "CREATE_REJECTED", "NONE"]);
const AUTHORIZATION_ENDS = new Set(["AUTHORIZED", "DECLINED", "CANCELLED", "NONE"]);

/**
 * True once every participant has reached a state the Create Order saga ends in (whether consistent or
 * not). An orchestrated saga that was rejected early never asked the later participants: nothing there
 * is an end too.
 */
export function isSettled(saga: RecordedSaga, mode: SagaMode = "choreography"): boolean {
  const unasked = mode === "orchestration" && saga.order === "REJECTED" ? "NONE" : "";
  return (
    ORDER_ENDS.has(saga.order) &&
    TICKET_ENDS.has(saga.ticket ?? unasked) &&
    AUTHORIZATION_ENDS.has(saga.authorization ?? unasked)
  );
}

/** The sagas of `orderIds`, or of every order in the order database. */
export function readSagas(dbs: SagaDatabases, orderIds?: readonly string[]): RecordedSaga[] {
  const orders = dbs.order
    .prepare<[], { order_id: string; consumer_id: string; restaurant_id: string; state: string; reason: string }>(
      "SELECT order_id, consumer_id, restaurant_id, state, reason FROM orders ORDER BY seq",
    )
    .all();
  const tickets = stateMap(dbs.kitchen, "SELECT order_id, state FROM tickets");
  // An authorization a message opened before OrderCreated reached Accounting (a rejection can overtake it, on
  // another stream) is not one Accounting answers for yet: GetAuthorization says NOT_FOUND until OrderCreated
  // arrives, and the saga has not ended while that message is still on its way.
  const authorizations = stateMap(dbs.accounting, "SELECT order_id, state FROM authorizations WHERE order_known = 1");
  const charges = new Map(
    dbs.accounting
      .prepare<[], { order_id: string; charges: number; approved: number }>(
        `SELECT order_id, count(*) AS charges, sum(approved) AS approved FROM card_charges
         WHERE kind = 'charge' GROUP BY order_id`,
      )
      .all()
      .map((row) => [row.order_id, row]),
  );
  const wanted = orderIds && new Set(orderIds);
  const found = orders
    .filter((row) => !wanted || wanted.has(row.order_id))
    .map((row) => ({
      orderId: row.order_id,
      consumerId: row.consumer_id,
      restaurantId: row.restaurant_id,
      order: row.state,
      reason: row.reason,
      ticket: tickets.get(row.order_id),
      authorization: authorizations.get(row.order_id),
      charges: charges.get(row.order_id)?.charges ?? 0,
      approvedCharges: charges.get(row.order_id)?.approved ?? 0,
    }));
  const missing = orderIds?.filter((id) => !found.some((saga) => saga.orderId === id)) ?? [];
  if (missing.length > 0) throw new Error(`orders missing from the order database: ${missing.join(", ")}`);
  return found;
}

function stateMap(db: Db, sql: string): Map<string, string> {
  return new Map(
    db
      .prepare<[], { order_id: string; state: string }>(sql)
      .all()
      .map((row) => [row.order_id, row.state]),
  );
}

/** What an audit found: the sagas it looked at, a summary, and every broken rule in words (naming the order). */
export interface AuditReport {
  readonly sagas: readonly RecordedSaga[];
  readonly counts: {
    readonly orders: number;
    readonly approved: number;
    readonly rejected: number;
    readonly unsettled: number;
    readonly doubleCharges: number;
    readonly ticketsToCookForRejectedOrders: number;
    readonly transitions: number;
    readonly invalidTransitions: number;
  };
  /** Empty when every rule holds: `expect(report.violations).toEqual([])` prints them all otherwise. */
  readonly violations: readonly string[];
}

/**
 * Checks every rule of the saga's end state for `orderIds` (default: every order), and every state
 * change each participant ever recorded (always all of them: a bad transition is bad whoever caused it).
 */
export function auditSagas(
  dbs: SagaDatabases,
  orderIds?: readonly string[],
  mode: SagaMode = "choreography",
): AuditReport {
  const sagas = readSagas(dbs, orderIds);
  const violations: string[] = [];
  let doubleCharges = 0;
  let ticketsToCookForRejectedOrders = 0;
  for (const saga of sagas) {
    const where = `order ${saga.orderId} (${saga.consumerId}@${saga.restaurantId})`;
    const seen = `order ${saga.order}, ticket ${saga.ticket ?? "none"}, authorization ${saga.authorization ?? "none"}, ${saga.charges} charge(s)`;
    if (saga.charges > 1) {
      doubleCharges++;
      violations.push(`${where} charged ${saga.charges} times: ${seen}`);
    }
    if (saga.order === "REJECTED" && saga.ticket === "AWAITING_ACCEPTANCE") ticketsToCookForRejectedOrders++;
    if (!isSettled(saga, mode)) {
      violations.push(`${where} did not settle: ${seen}`);
    } else if (saga.order === "APPROVED") {
      const consistent =
        saga.ticket === "AWAITING_ACCEPTANCE" &&
        saga.authorization === "AUTHORIZED" &&
        saga.charges === 1 &&
        saga.approvedCharges === 1;
      if (!consistent) violations.push(`${where} is APPROVED but ${seen}`);
    } else {
      const unasked = mode === "orchestration" ? [undefined] : [];
      const consistent =
        [...unasked, "CREATE_REJECTED"].includes(saga.ticket) &&
        [...unasked, "DECLINED", "CANCELLED"].includes(saga.authorization);
      if (!consistent) violations.push(`${where} is REJECTED but ${seen}`);
    }
  }
  const transitions = auditTransitions(dbs);
  violations.push(...transitions.violations);
  if (mode === "orchestration") violations.push(...auditOrchestrator(dbs, sagas));
  return {
    sagas,
    counts: {
      orders: sagas.length,
      approved: sagas.filter((saga) => saga.order === "APPROVED").length,
      rejected: sagas.filter((saga) => saga.order === "REJECTED").length,
      unsettled: sagas.filter((saga) => !isSettled(saga, mode)).length,
      doubleCharges,
      ticketsToCookForRejectedOrders,
      transitions: transitions.checked,
      invalidTransitions: transitions.invalid,
    },
    violations,
  };
}

/** A state machine as the stores export it, with the states an entity may be created in. */
interface Machine {
  readonly db: SagaParticipant;
  readonly entity: string;
  /** Where the entity's current state lives: the last transition must end there. */
  readonly table: string;
  readonly transitions: Readonly<Record<string, readonly string[]>>;
  readonly initial: readonly string[];
}

const MACHINES: readonly Machine[] = [
  { db: "order", entity: "order", table: "orders", transitions: ORDER_TRANSITIONS, initial: ["APPROVAL_PENDING"] },
  // A ticket is created CREATE_REJECTED when the kitchen cannot take the order, or when a failure elsewhere
  // overtook OrderCreated (see kitchen's store.ts).
  {
    db: "kitchen",
    entity: "ticket",
    table: "tickets",
    transitions: TICKET_TRANSITIONS,
    initial: ["CREATE_PENDING", "CREATE_REJECTED"],
  },
  {
    db: "accounting",
    entity: "authorization",
    table: "authorizations",
    transitions: AUTHORIZATION_TRANSITIONS,
    initial: ["PENDING"],
  },
];

interface TransitionRow {
  seq: number;
  entity_id: string;
  from_state: string | null;
  to_state: string;
  message_id: string | null;
}

/**
 * Every row of every participant's `state_transitions`: allowed by its exported state machine, the first
 * one of an entity from nothing to an initial state, each later one from where the previous one went,
 * and the last one where the entity is now.
 */
export function auditTransitions(dbs: SagaDatabases): { checked: number; invalid: number; violations: string[] } {
  const violations: string[] = [];
  let checked = 0;
  let invalid = 0;
  for (const machine of MACHINES) {
    const db = dbs[machine.db];
    const rows = db
      .prepare<[string], TransitionRow>(
        "SELECT seq, entity_id, from_state, to_state, message_id FROM state_transitions WHERE entity = ? ORDER BY seq",
      )
      .all(machine.entity);
    const current = stateMap(db, `SELECT order_id, state FROM ${machine.table}`);
    const last = new Map<string, string>();
    for (const row of rows) {
      checked++;
      const where = `${machine.entity} ${row.entity_id}: ${row.from_state ?? "∅"} → ${row.to_state} (seq ${row.seq}, message ${row.message_id ?? "none"})`;
      const previous = last.get(row.entity_id);
      const problems = [
        row.from_state === null
          ? !machine.initial.includes(row.to_state) && `${row.to_state} is not a state it may start in`
          : !machine.transitions[row.from_state]?.includes(row.to_state) && "not in the state machine",
        previous === undefined
          ? row.from_state !== null && "its first recorded transition does not start from nothing"
          : row.from_state !== previous && `the previous transition ended in ${previous}`,
      ].filter((problem): problem is string => typeof problem === "string");
      if (problems.length > 0) {
        invalid++;
        violations.push(`${where}: ${problems.join("; ")}`);
      }
      last.set(row.entity_id, row.to_state);
    }
    for (const [id, state] of last) {
      const now = current.get(id);
      if (now !== state)
        violations.push(`${machine.entity} ${id} is ${now ?? "missing"} but its history ends in ${state}`);
    }
    for (const [id, state] of current) {
      if (!last.has(id)) violations.push(`${machine.entity} ${id} is ${state} with no recorded history`);
    }
  }
  return { checked, invalid, violations };
}

/**
 * Events an order's saga published more than once, per participant: `kitchen: TicketCreated × 2 for
 * order …`. The Create Order saga publishes each event at most once per order (the chaos tests run no
 * Cancel Order, whose request may be repeated); a second one means a message took effect twice.
 */
export function eventsPublishedTwice(dbs: SagaDatabases, orderIds?: readonly string[]): string[] {
  const wanted = orderIds && new Set(orderIds);
  return SAGA_PARTICIPANTS.flatMap((service) =>
    dbs[service]
      .prepare<[], { correlation_id: string; type: string; copies: number }>(
        "SELECT correlation_id, type, count(*) AS copies FROM outbox GROUP BY correlation_id, type HAVING count(*) > 1",
      )
      .all()
      .filter((row) => !wanted || wanted.has(row.correlation_id))
      .map((row) => `${service}: ${row.type} × ${row.copies} for order ${row.correlation_id}`),
  );
}

/**
 * The orchestrator's own records of `sagas`: each order has exactly one Create Order saga, ended in the
 * order's state, and its history entered no state twice (no step ran twice, crash or not).
 */
export function auditOrchestrator(dbs: SagaDatabases, sagas: readonly RecordedSaga[]): string[] {
  const byOrder = dbs.order.prepare<[string], { saga_id: string; state: string; ended: number }>(
    "SELECT saga_id, state, ended FROM sagas WHERE order_id = ? AND saga_type = 'CreateOrderSaga'",
  );
  const entered = dbs.order.prepare<[string], { to_state: string; times: number }>(
    `SELECT to_state, count(*) AS times FROM saga_history WHERE saga_id = ? AND from_state IS DISTINCT FROM to_state
     GROUP BY to_state HAVING count(*) > 1`,
  );
  return sagas.flatMap((saga) => {
    const rows = byOrder.all(saga.orderId);
    const [row] = rows;
    if (rows.length !== 1 || !row) return [`order ${saga.orderId} has ${rows.length} CreateOrderSaga records`];
    const problems: string[] = [];
    if (row.ended !== 1 || row.state !== saga.order) {
      problems.push(
        `order ${saga.orderId} is ${saga.order} but its saga is ${row.state}${row.ended ? "" : " (not ended)"}`,
      );
    }
    for (const again of entered.all(row.saga_id)) {
      problems.push(`saga of order ${saga.orderId} entered ${again.to_state} ${again.times} times`);
    }
    return problems;
  });
}
