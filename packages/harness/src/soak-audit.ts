// The soak's verdict: once the load has stopped, every saga is waited for (bounded, with progress), then the
// end state is judged by the rules every chaos test judges by (saga-audit.ts, loyalty-audit.ts) plus the
// soak's own: the card ledger adds up, each Idempotency-Key made one order, every order the customers were
// told about exists, nothing was dead-lettered, nothing crashed that nobody killed.
import { type DeadLetter, listDeadLetters, type SagaMode } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import type { NatsConnection } from "@nats-io/transport-node";
import Database from "better-sqlite3";
import { countBy, loyaltyOutboxCounts, pointsEarnedInStream } from "./loyalty-audit.js";
import type { MeshClients } from "./mesh-clients.js";
import {
  auditSagas,
  auditTransitions,
  eventsPublishedTwice,
  isSettled,
  readSagas,
  type SagaDatabases,
} from "./saga-audit.js";
import { grpcDisagreements, unexpectedOutcomes } from "./saga-load.js";
import type { LoadStats } from "./soak-load.js";

/** One rule and whether it held: `detail` says what was counted, or what broke it (a few examples). */
export interface SoakCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Loyalty's OrderPointsState as its store keeps it (loyalty.proto). */
const POINTS_EARNED = 2;
const POINTS_NONE = 3;
/** Orders whose gRPC answers are compared with the databases: a sample, as each costs four calls. */
const GRPC_SAMPLE = 200;

/**
 * Waits until every order in the order database has settled in every participant and in Loyalty, printing
 * how many are still open every few seconds; rejects after `timeoutMs` naming a few that are not.
 */
export async function waitForSoakToSettle(
  dbs: SagaDatabases,
  loyaltyDbFile: string,
  {
    timeoutMs,
    mode,
    log,
    signal,
  }: { timeoutMs: number; mode: SagaMode; log: (line: string) => void; signal?: AbortSignal },
): Promise<void> {
  const loyalty = new Database(loyaltyDbFile, { readonly: true, fileMustExist: true });
  const settledPoints = loyalty.prepare<[], { order_id: string }>(
    `SELECT order_id FROM order_points WHERE state IN (${POINTS_EARNED}, ${POINTS_NONE})`,
  );
  let lastSaid = 0;
  let open: string[] = [];
  try {
    await waitFor(
      () => {
        const sagas = readSagas(dbs);
        const points = new Set(settledPoints.all().map((row) => row.order_id));
        open = sagas
          .filter((saga) => !isSettled(saga, mode) || !points.has(saga.orderId))
          .map(
            (s) =>
              `${s.orderId} ${s.consumerId}@${s.restaurantId}: ${s.order} / ${s.ticket} / ${s.authorization} / points ${points.has(s.orderId) ? "settled" : "pending"}`,
          );
        if (open.length > 0 && performance.now() - lastSaid > 5_000) {
          lastSaid = performance.now();
          log(`settling: ${open.length} of ${sagas.length} orders still open`);
        }
        return open.length === 0;
      },
      {
        timeoutMs,
        intervalMs: 500,
        signal,
        message: () => `${open.length} order(s) to settle, e.g.\n  ${open.slice(0, 10).join("\n  ")}`,
      },
    );
  } finally {
    loyalty.close();
  }
}

export interface SoakAuditInputs {
  readonly dbs: SagaDatabases;
  readonly loyaltyDbFile: string;
  readonly nc: NatsConnection;
  readonly clients: MeshClients;
  readonly mode: SagaMode;
  /** The load's and the capacity measurement's stats: what the customers were told. */
  readonly loads: readonly LoadStats[];
  /** Every key the soak used starts with this. */
  readonly keyPrefix: string;
  /** Exits nobody asked for, of every process the soak started ("kitchen: exited with code 1"). */
  readonly crashes: readonly string[];
}

/** Every rule of the soak's end state, each a check that held or did not. */
export async function auditSoak(inputs: SoakAuditInputs): Promise<SoakCheck[]> {
  const { dbs, mode } = inputs;
  const report = auditSagas(dbs, undefined, mode);
  const { counts } = report;
  const check = (name: string, problems: readonly string[], counted: string): SoakCheck => ({
    name,
    ok: problems.length === 0,
    detail: problems.length === 0 ? counted : `${problems.length} problem(s), e.g. ${problems.slice(0, 5).join("; ")}`,
  });
  const sample = report.sagas.filter((_, i) => i % Math.max(1, Math.floor(report.sagas.length / GRPC_SAMPLE)) === 0);
  return [
    check(
      "every order terminal in every service",
      report.sagas.filter((saga) => !isSettled(saga, mode)).map((saga) => saga.orderId),
      `${counts.orders} orders: ${counts.approved} approved, ${counts.rejected} rejected`,
    ),
    check("each saga's end agrees across order, kitchen and accounting", report.violations, "audited by saga-audit.ts"),
    check("each order ended where its seed path says", unexpectedOutcomes(report.sagas, mode), "all four paths"),
    check(
      "no double charge",
      report.sagas.filter((saga) => saga.charges > 1).map((saga) => `${saga.orderId} charged ${saga.charges}×`),
      "at most one charge per order",
    ),
    check(
      "no ticket to cook for a rejected order",
      report.sagas
        .filter((saga) => saga.order === "REJECTED" && saga.ticket === "AWAITING_ACCEPTANCE")
        .map((saga) => saga.orderId),
      "none",
    ),
    check("no invalid state transition", auditTransitions(dbs).violations, `${counts.transitions} transitions`),
    ledgerCheck(dbs),
    check("no message applied twice", eventsPublishedTwice(dbs), "each saga event published once per order"),
    check("no message dead-lettered", (await listDeadLetters(inputs.nc)).map(describeDeadLetter), "none"),
    keysCheck(dbs, inputs.loads, inputs.keyPrefix),
    check(
      "every order a customer set out to place was placed",
      inputs.loads.flatMap((load) => [
        ...(load.gaveUp > 0 ? [`${load.gaveUp} given up on`] : []),
        ...(load.shed > 0 ? [`${load.shed} shed (too many in flight)`] : []),
      ]),
      `${inputs.loads.reduce((sum, load) => sum + load.attempted, 0)} orders, retried with their key through the faults`,
    ),
    ...(await loyaltyChecks(inputs)),
    check(
      "the services answer as their databases say",
      await grpcDisagreements(inputs.clients, sample),
      `${sample.length} orders sampled`,
    ),
    check("no process exited that the chaos did not kill", inputs.crashes, "none"),
  ];
}

/**
 * The card ledger adds up: approved charges, one per APPROVED order, for exactly the orders' totals; nothing
 * charged (approved) for a rejected order; no reversal (the soak cancels nothing).
 */
function ledgerCheck(dbs: SagaDatabases): SoakCheck {
  const orders = dbs.order
    .prepare<[], { n: number; total: number | null }>(
      "SELECT count(*) AS n, sum(total_minor) AS total FROM orders WHERE state = 'APPROVED'",
    )
    .get() ?? { n: 0, total: 0 };
  const charged = dbs.accounting
    .prepare<[], { n: number; total: number | null }>(
      "SELECT count(*) AS n, sum(amount_minor) AS total FROM card_charges WHERE kind = 'charge' AND approved = 1",
    )
    .get() ?? { n: 0, total: 0 };
  const reversals =
    dbs.accounting.prepare<[], { n: number }>("SELECT count(*) AS n FROM card_charges WHERE kind = 'reversal'").get()
      ?.n ?? 0;
  const approvedTotals = new Map(
    dbs.order
      .prepare<[], { order_id: string; total_minor: number }>(
        "SELECT order_id, total_minor FROM orders WHERE state = 'APPROVED'",
      )
      .all()
      .map((row) => [row.order_id, row.total_minor]),
  );
  const wrong = dbs.accounting
    .prepare<[], { order_id: string; amount_minor: number }>(
      "SELECT order_id, amount_minor FROM card_charges WHERE kind = 'charge' AND approved = 1",
    )
    .all()
    .filter((row) => approvedTotals.get(row.order_id) !== row.amount_minor)
    .map(
      (row) =>
        `${row.order_id} charged ${row.amount_minor}, its order ${approvedTotals.get(row.order_id) ?? "not approved"}`,
    );
  const problems = [
    ...(orders.n !== charged.n ? [`${orders.n} approved orders but ${charged.n} approved charges`] : []),
    ...((orders.total ?? 0) !== (charged.total ?? 0)
      ? [`approved orders total ${orders.total ?? 0}, approved charges ${charged.total ?? 0}`]
      : []),
    ...(reversals > 0 ? [`${reversals} reversal(s), though nothing was cancelled`] : []),
    ...wrong,
  ];
  return {
    name: "ledger sums: approved charges = approved orders' totals",
    ok: problems.length === 0,
    detail:
      problems.length === 0
        ? `${charged.n} charges, ${((charged.total ?? 0) / 100).toFixed(2)} in all`
        : problems.slice(0, 5).join("; "),
  };
}

/**
 * Each Idempotency-Key made at most one order, and each order a customer was answered with is the one its
 * key made: a retried POST returned the first order instead of placing another.
 */
function keysCheck(dbs: SagaDatabases, loads: readonly LoadStats[], prefix: string): SoakCheck {
  const stored = dbs.order
    .prepare<[string], { idempotency_key: string; order_id: string }>(
      "SELECT idempotency_key, order_id FROM orders WHERE idempotency_key LIKE ? || '%'",
    )
    .all(prefix);
  const byKey = new Map<string, string[]>();
  for (const row of stored) byKey.set(row.idempotency_key, [...(byKey.get(row.idempotency_key) ?? []), row.order_id]);
  const problems = [
    ...[...byKey].filter(([, ids]) => ids.length > 1).map(([key, ids]) => `key ${key} made ${ids.length} orders`),
    ...loads.flatMap((load) =>
      [...load.placed].flatMap(([key, orderId]) => {
        const ids = byKey.get(key);
        return ids?.includes(orderId)
          ? []
          : [`key ${key} was answered ${orderId}, stored ${ids?.join(", ") ?? "nothing"}`];
      }),
    ),
  ];
  const answered = loads.reduce((sum, load) => sum + load.placed.size, 0);
  return {
    name: "each Idempotency-Key made one order, the one its customer was told",
    ok: problems.length === 0,
    detail:
      problems.length === 0
        ? `${stored.length} keyed orders, ${answered} answered 202`
        : problems.slice(0, 5).join("; "),
  };
}

/** Loyalty: each order's points as its end says, each approved order credited and announced once, balances adding up. */
async function loyaltyChecks({ dbs, loyaltyDbFile, nc }: SoakAuditInputs): Promise<SoakCheck[]> {
  const orders = dbs.order
    .prepare<[], { order_id: string; consumer_id: string; state: string; total_minor: number }>(
      "SELECT order_id, consumer_id, state, total_minor FROM orders",
    )
    .all();
  const loyalty = new Database(loyaltyDbFile, { readonly: true, fileMustExist: true });
  let points: Map<string, { state: number; points: number }>;
  let accounts: Map<string, { points_balance: number; orders_rewarded: number }>;
  try {
    points = new Map(
      loyalty
        .prepare<[], { order_id: string; state: number; points: number }>(
          "SELECT order_id, state, points FROM order_points",
        )
        .all()
        .map((row) => [row.order_id, row]),
    );
    accounts = new Map(
      loyalty
        .prepare<[], { consumer_id: string; points_balance: number; orders_rewarded: number }>("SELECT * FROM accounts")
        .all()
        .map((row) => [row.consumer_id, row]),
    );
  } finally {
    loyalty.close();
  }
  const approved = orders.filter((order) => order.state === "APPROVED");
  const expectedBalances = new Map<string, { points: number; orders: number }>();
  for (const order of approved) {
    const was = expectedBalances.get(order.consumer_id) ?? { points: 0, orders: 0 };
    expectedBalances.set(order.consumer_id, {
      points: was.points + Math.floor(order.total_minor / 100),
      orders: was.orders + 1,
    });
  }
  const pointsProblems = orders.flatMap((order) => {
    const found = points.get(order.order_id);
    const want = order.state === "APPROVED" ? POINTS_EARNED : POINTS_NONE;
    const wantPoints = Math.floor(order.total_minor / 100);
    return found?.state === want && found.points === wantPoints
      ? []
      : [`${order.order_id} (${order.state}) has points ${found ? `${found.points} in state ${found.state}` : "none"}`];
  });
  const balanceProblems = [...new Set([...expectedBalances.keys(), ...accounts.keys()])].flatMap((consumer) => {
    const want = expectedBalances.get(consumer) ?? { points: 0, orders: 0 };
    const has = accounts.get(consumer);
    return has?.points_balance === want.points && has.orders_rewarded === want.orders
      ? []
      : [
          `${consumer}: balance ${has?.points_balance ?? 0} for ${has?.orders_rewarded ?? 0} orders, not ${want.points} for ${want.orders}`,
        ];
  });
  const outbox = loyaltyOutboxCounts(loyaltyDbFile);
  const announced = countBy(await pointsEarnedInStream(nc), (event) => event.orderId);
  const approvedIds = new Set(approved.map((order) => order.order_id));
  const onceProblems = [
    ...approved.flatMap((order) => {
      const rows = outbox.get(order.order_id) ?? 0;
      const published = announced.get(order.order_id) ?? 0;
      return rows === 1 && published === 1
        ? []
        : [`${order.order_id}: ${rows} PointsEarned row(s), ${published} in the stream`];
    }),
    ...[...outbox.keys(), ...announced.keys()]
      .filter((orderId) => !approvedIds.has(orderId))
      .map((orderId) => `${orderId} earned points though it is not APPROVED`),
  ];
  const pass = (name: string, problems: string[], counted: string): SoakCheck => ({
    name,
    ok: problems.length === 0,
    detail: problems.length === 0 ? counted : `${problems.length} problem(s), e.g. ${problems.slice(0, 5).join("; ")}`,
  });
  return [
    pass("loyalty: each order's points as its end says", pointsProblems, `${orders.length} orders`),
    pass("loyalty: balances add up to the approved orders' points", balanceProblems, `${accounts.size} account(s)`),
    pass(
      "loyalty: each approved order credited and announced once",
      [...new Set(onceProblems)],
      `${approved.length} PointsEarned`,
    ),
  ];
}

function describeDeadLetter(letter: DeadLetter): string {
  return `${letter.service} gave up on ${letter.type ?? "a message"} of ${letter.correlationId ?? "?"}: ${letter.reason}`;
}
