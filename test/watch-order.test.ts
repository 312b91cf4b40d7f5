// OrderService/WatchOrder delivers every state change of an order, in order, once — to a client that was
// there before the saga ran, to one that joins mid-saga (current state first), and to several at once. The
// mesh runs as `make up` runs it, one process per service, so a test can hold a saga mid-way by freezing a
// participant (SIGSTOP) and let it go on (SIGCONT). The last part pins the races inside Order's change feed.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OrderState } from "@ftgo/gen/ftgo/order/v1/order_pb.js";
import { type MeshClients, meshClients } from "@ftgo/harness/mesh-clients.js";
import { type ProcessMesh, startProcessMesh } from "@ftgo/harness/process-mesh.js";
import { orderReaches, placeOrderOverGrpc } from "@ftgo/harness/saga-over-grpc.js";
import type { ServiceInstance } from "@ftgo/harness/service-instance.js";
import { openOrderStore } from "@ftgo/order/store";
import { type MessageContext, money } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

let mesh: ProcessMesh;
let clients: MeshClients;
let watches: AbortController;

beforeAll(async () => {
  mesh = await startProcessMesh();
  clients = meshClients(mesh);
}, 60_000);
beforeEach(() => {
  watches = new AbortController();
});
afterEach(async () => {
  watches.abort();
  // A test that failed while a participant was frozen must not leave it frozen for the next one.
  for (const service of [mesh.consumer, mesh.kitchen]) await service.kill("SIGCONT");
});
afterAll(async () => {
  clients?.close();
  await mesh?.stop();
});

/**
 * Opens WatchOrder and records the states it streams until the server ends the stream or `until` arrives.
 * `connected` resolves once the first message (the current state) is in: from then on the watcher listens.
 */
function watchOrder(orderId: string, until?: OrderState) {
  const states: string[] = [];
  let received: () => void = () => {};
  const first = new Promise<void>((resolve) => (received = resolve));
  const done = (async () => {
    const stream = clients.order.watchOrder({ orderId }, { signal: watches.signal, timeoutMs: 30_000 });
    for await (const { order } of stream) {
      states.push(OrderState[order?.state ?? 0]);
      received();
      if (order?.state === until) break;
    }
    return states;
  })();
  // Settles on the first message, or with the stream's failure if it fails before one (NOT_FOUND, say).
  const connected = Promise.race([first, done]).then(() => undefined);
  connected.catch(() => {}); // awaited only by tests that expect a message: the failure reaches them via `done`
  return { states, done, connected };
}

/** Freezes `service` while `work` runs: the saga cannot pass the step that needs it. */
async function whileFrozen<T>(service: ServiceInstance, work: () => Promise<T>): Promise<T> {
  await service.kill("SIGSTOP");
  try {
    return await work();
  } finally {
    await service.kill("SIGCONT");
  }
}

async function approvedOrder(): Promise<string> {
  const { orderId } = await placeOrderOverGrpc(clients, "c-1001");
  await orderReaches(clients, orderId, new Set([OrderState.APPROVED]));
  return orderId;
}

describe("WatchOrder", () => {
  it("streams APPROVAL_PENDING, then APPROVED, to a watcher connected before the saga ran", async () => {
    // Consumer Service is frozen, so the order cannot get past consumer verification until the watcher is in.
    const watcher = await whileFrozen(mesh.consumer, async () => {
      const { orderId } = await placeOrderOverGrpc(clients, "c-1001");
      const watcher = watchOrder(orderId, OrderState.APPROVED);
      await watcher.connected;
      expect(watcher.states).toEqual(["APPROVAL_PENDING"]);
      return watcher;
    });
    expect(await watcher.done).toEqual(["APPROVAL_PENDING", "APPROVED"]);
  });

  it("gives a watcher that connects to an approved order its state first, then the cancel as it happens", async () => {
    const orderId = await approvedOrder();
    const watcher = watchOrder(orderId);
    await watcher.connected;
    await clients.order.cancelOrder({ orderId });
    // CANCELLED is final: the server ends the stream there.
    expect(await watcher.done).toEqual(["APPROVED", "CANCEL_PENDING", "CANCELLED"]);
  });

  it("gives a watcher that connects mid-saga the current state first, then the rest", async () => {
    const orderId = await approvedOrder();
    // Kitchen is frozen: the Cancel Order saga stops at CANCEL_PENDING, and the watcher joins it there.
    const watcher = await whileFrozen(mesh.kitchen, async () => {
      const { order } = await clients.order.cancelOrder({ orderId });
      expect(OrderState[order?.state ?? 0]).toBe("CANCEL_PENDING");
      const watcher = watchOrder(orderId);
      await watcher.connected;
      expect(watcher.states).toEqual(["CANCEL_PENDING"]);
      return watcher;
    });
    expect(await watcher.done).toEqual(["CANCEL_PENDING", "CANCELLED"]);
  });

  it("gives several watchers of one order the same sequence, without gaps or repeats", async () => {
    const { orderId, watchers } = await whileFrozen(mesh.consumer, async () => {
      const { orderId } = await placeOrderOverGrpc(clients, "c-1001");
      const watchers = [1, 2, 3].map(() => watchOrder(orderId));
      await Promise.all(watchers.map((watcher) => watcher.connected));
      return { orderId, watchers };
    });
    await waitFor(() => watchers.every((watcher) => watcher.states.includes("APPROVED")), {
      timeoutMs: 15_000,
      message: () => `every watcher to see APPROVED: ${JSON.stringify(watchers.map((w) => w.states))}`,
    });
    await clients.order.cancelOrder({ orderId });
    const sequences = await Promise.all(watchers.map((watcher) => watcher.done));
    for (const states of sequences) {
      expect(states).toEqual(["APPROVAL_PENDING", "APPROVED", "CANCEL_PENDING", "CANCELLED"]);
    }
  });

  it("answers NOT_FOUND for an unknown order, and INVALID_ARGUMENT without an order id", async () => {
    await expect(watchOrder("no-such-order").done).rejects.toMatchObject({
      rawMessage: "order no-such-order not found",
    });
    await expect(watchOrder("").done).rejects.toMatchObject({ rawMessage: "order_id: value is required [required]" });
  });
});

// Races no end-to-end run can time on purpose: what the feed does with changes that commit in the same
// tick as each other, or as the watcher's first read. The store is Order's real one, on a temp file.
describe("Order's change feed", () => {
  let dataDir: string;
  let store: ReturnType<typeof openOrderStore>;
  const calls = new AbortController();

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), "order-feed-"));
    store = openOrderStore(join(dataDir, "order.db"));
  });
  afterAll(() => {
    calls.abort();
    store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let orders = 0;
  const pendingOrder = () =>
    store.createPending({
      orderId: `o-${++orders}`,
      consumerId: "c-1001",
      restaurantId: "r-1",
      lineItems: [],
      total: money(0),
    }).orderId;
  /** The parts of a received message's context the store uses: its id (the history's cause) and `publish`. */
  let messages = 0;
  const message = () =>
    ({ messageId: `m-${++messages}`, publish: () => "" }) as Partial<MessageContext> as MessageContext;
  /** A message handler's transaction, as the inbox runs it. */
  const handle = (work: () => void) => store.db.transaction(work)();

  /** Reads the watch's changes in the background until the order is CANCELLED. */
  function collect(changes: AsyncIterable<{ state: OrderState }>) {
    const states: string[] = [];
    const done = (async () => {
      for await (const order of changes) {
        states.push(OrderState[order.state]);
        if (order.state === OrderState.CANCELLED) return states;
      }
      return states;
    })();
    return done;
  }

  it("does not repeat a change that committed just before the watcher read the order", async () => {
    const orderId = pendingOrder();
    handle(() => store.approve(orderId, message())); // committed; the feed has not delivered it yet
    const watch = store.watchOrder(orderId, calls.signal);
    const later = collect(watch.changes);
    store.requestCancel(orderId);
    handle(() => store.completeCancel(orderId, message()));
    expect([OrderState[watch.current.state], ...(await later)]).toEqual(["APPROVED", "CANCEL_PENDING", "CANCELLED"]);
  });

  it("delivers each of several changes that commit before the feed runs, each as it was", async () => {
    const orderId = pendingOrder();
    const watch = store.watchOrder(orderId, calls.signal);
    const later = collect(watch.changes);
    handle(() => store.approve(orderId, message()));
    store.requestCancel(orderId);
    handle(() => store.completeCancel(orderId, message()));
    expect([OrderState[watch.current.state], ...(await later)]).toEqual([
      "APPROVAL_PENDING",
      "APPROVED",
      "CANCEL_PENDING",
      "CANCELLED",
    ]);
    expect(store.watcherCount(orderId)).toBe(0); // the reader's loop ended: the watcher went with it
  });

  it("never delivers a change whose transaction rolled back", async () => {
    const orderId = pendingOrder();
    const watch = store.watchOrder(orderId, calls.signal);
    const later = collect(watch.changes);
    expect(() =>
      handle(() => {
        store.approve(orderId, message());
        throw new Error("the handler failed after approving"); // rolled back; the message will come again
      }),
    ).toThrow("the handler failed");
    handle(() => store.approve(orderId, message())); // the redelivery
    store.requestCancel(orderId);
    handle(() => store.completeCancel(orderId, message()));
    expect(await later).toEqual(["APPROVED", "CANCEL_PENDING", "CANCELLED"]);
  });
});
