// The orders the dashboard lists: the newest ORDER_HISTORY of them, kept up to date by asking Order
// Service (ListOrders, newest first; GetOrder for an older one whose saga still runs). Each change gets a
// version, so every page that watches receives only what changed since it last heard.
import { type Timestamp, timestampDate, timestampMs } from "@bufbuild/protobuf/wkt";
import type { Money } from "@ftgo/gen/ftgo/common/v1/money_pb.js";
import { type Order, OrderState } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import type { Backends } from "../clients.js";
import type { OrderRow } from "./view.js";

/** How many orders the dashboard keeps and shows. */
export const ORDER_HISTORY = 500;
/** The newest orders asked for on every poll after the first. */
const RECENT_PAGE = 100;
/** Older orders whose saga still runs, asked one by one per poll at most. */
const PENDING_CHECKS = 20;
/** Dropped ids remembered for the pages (far more than one poll drops). */
const DROPS_KEPT = 5 * ORDER_HISTORY;

export interface OrderHistory {
  /** Asks Order Service what changed; rejects when it cannot be asked (the rows stay as they were). */
  poll(): Promise<void>;
  /** The rows changed after version `since` (0: every row), newest first, and the ids dropped since. */
  changesSince(since: number): { rows: OrderRow[]; dropped: string[]; version: number };
  /** Every row, newest first. */
  rows(): readonly OrderRow[];
  /** Remembers an order the dashboard itself just placed, before the next poll sees it. */
  note(order: Order): void;
}

interface Kept {
  row: OrderRow;
  version: number;
}

const SETTLING = new Set([OrderState.APPROVAL_PENDING, OrderState.CANCEL_PENDING]);

export function createOrderHistory(backends: Pick<Backends, "order">): OrderHistory {
  const kept = new Map<string, Kept>();
  const drops: { id: string; version: number }[] = [];
  let version = 0;
  let filled = false;

  const keep = (order: Order) => {
    const row = orderRow(order);
    const old = kept.get(row.orderId);
    if (old && sameRow(old.row, row)) return;
    kept.set(row.orderId, { row, version: ++version });
  };
  const trim = () => {
    if (kept.size <= ORDER_HISTORY) return;
    const newestFirst = [...kept.values()].sort(byNewest);
    for (const { row } of newestFirst.slice(ORDER_HISTORY)) {
      kept.delete(row.orderId);
      drops.push({ id: row.orderId, version: ++version });
    }
    // Every page hears each poll's changes before the next poll: a short memory of drops is enough.
    if (drops.length > DROPS_KEPT) drops.splice(0, drops.length - DROPS_KEPT);
  };

  return {
    async poll() {
      const { orders } = await backends.order.listOrders({ pageSize: filled ? RECENT_PAGE : ORDER_HISTORY });
      filled = true;
      const seen = new Set(orders.map((order) => order.orderId));
      for (const order of orders) keep(order);
      const settling = [...kept.values()]
        .filter(({ row }) => !seen.has(row.orderId) && SETTLING_NAMES.has(row.state))
        .slice(0, PENDING_CHECKS);
      await Promise.all(
        settling.map(async ({ row }) => {
          const { order } = await backends.order.getOrder({ orderId: row.orderId });
          if (order) keep(order);
        }),
      );
      trim();
    },
    changesSince(since) {
      const rows = [...kept.values()]
        .filter((k) => k.version > since)
        .sort(byNewest)
        .map((k) => k.row);
      const dropped = since === 0 ? [] : drops.filter((drop) => drop.version > since).map((drop) => drop.id);
      return { rows, dropped, version };
    },
    rows: () => [...kept.values()].sort(byNewest).map((k) => k.row),
    note(order) {
      keep(order);
      trim();
    },
  };
}

const SETTLING_NAMES = new Set([...SETTLING].map((state) => OrderState[state]));

function byNewest(a: Kept, b: Kept): number {
  return b.row.createTime.localeCompare(a.row.createTime) || b.row.orderId.localeCompare(a.row.orderId);
}

function sameRow(a: OrderRow, b: OrderRow): boolean {
  return a.state === b.state && a.reason === b.reason && a.updateTime === b.updateTime;
}

export function orderRow(order: Order): OrderRow {
  return {
    orderId: order.orderId,
    consumerId: order.consumerId,
    restaurantId: order.restaurantId,
    state: OrderState[order.state] ?? "UNSPECIFIED",
    reason: order.reason,
    total: formatMoney(order.total),
    pricedFromLastKnownMenu: order.pricedFromLastKnownMenu,
    createTime: isoOf(order.createTime),
    updateTime: isoOf(order.updateTime),
  };
}

/** "USD 15.00". */
function formatMoney(money: Money | undefined): string {
  if (!money) return "";
  const minor = BigInt(money.minorUnits);
  const sign = minor < 0n ? "-" : "";
  const abs = minor < 0n ? -minor : minor;
  return `${money.currencyCode} ${sign}${abs / 100n}.${String(abs % 100n).padStart(2, "0")}`;
}

export function isoOf(time: Timestamp | undefined): string {
  return time ? timestampDate(time).toISOString() : "";
}

/** Milliseconds since the epoch; NaN for a time not set. */
export function msOf(time: Timestamp | undefined): number {
  return time ? timestampMs(time) : Number.NaN;
}
