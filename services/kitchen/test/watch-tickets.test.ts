// KitchenService/WatchTickets, a restaurant's kitchen display: its open tickets first, then each ticket that
// joins or leaves the queue as it commits — served on a real socket over Kitchen's real database, with the
// tickets moved by the same step calls the saga makes.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import {
  KitchenService,
  type Ticket,
  TicketState,
  type WatchTicketsResponse,
} from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import {
  createGrpcClient,
  createGrpcTransport,
  type GrpcServer,
  type GrpcTransport,
  implement,
  type MessageContext,
  money,
  serveGrpc,
  silentLogger,
} from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createKitchenService } from "../src/service.js";
import { acceptTicket, approveTicket, cancelTicket, createTicket, rejectTicket } from "../src/steps.js";
import { type KitchenStore, openKitchenStore } from "../src/store.js";

let dataDir: string;
let store: KitchenStore;
let server: GrpcServer;
let transport: GrpcTransport;
let kitchen: Client<typeof KitchenService>;
let streams: AbortController;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "kitchen-watch-"));
  store = openKitchenStore(join(dataDir, "kitchen.db"));
  server = await serveGrpc({
    host: "127.0.0.1",
    port: 0,
    log: silentLogger(),
    services: [implement(KitchenService, createKitchenService({ store, relay: { kick() {} } }))],
  });
  transport = createGrpcTransport({ address: server.address, defaultTimeoutMs: 0 });
  kitchen = createGrpcClient(KitchenService, transport);
  streams = new AbortController();
});
afterEach(async () => {
  streams.abort();
  transport.close();
  await server.close();
  store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** What the saga's messages do to a ticket, each in its own transaction as the inbox runs them. */
const saga = {
  createTicket(orderId: string) {
    const order = create(OrderCreatedSchema, {
      orderId,
      consumerId: "c-1001",
      restaurantId: "r-1",
      lineItems: [{ menuItemId: "m-1", name: "Pho bo", quantity: 2, price: money(650), total: money(1300) }],
      total: money(1300),
    });
    store.db.transaction(() => createTicket(store, order, messageContext(orderId)))();
  },
  approveTicket: (orderId: string) =>
    store.db.transaction(() => approveTicket(store, orderId, messageContext(orderId)))(),
  rejectTicket: (orderId: string) =>
    store.db.transaction(() => rejectTicket(store, orderId, "card declined", messageContext(orderId)))(),
  cancelTicket: (orderId: string) =>
    store.db.transaction(() => cancelTicket(store, orderId, messageContext(orderId)))(),
  /** A ticket in AWAITING_ACCEPTANCE: created, then approved once the card paid. */
  queued(orderId: string) {
    saga.createTicket(orderId);
    saga.approveTicket(orderId);
  },
};

/** The parts of a received message's context the store uses: its id (the history's cause) and `publish`. */
function messageContext(orderId: string): MessageContext {
  const ctx: Partial<MessageContext> = {
    messageId: randomUUID(),
    correlationId: orderId,
    publish: () => randomUUID(), // the events are not what these tests look at
  };
  return ctx as MessageContext;
}

/** Rejects when `promise` has not settled within `ms`: a message that never comes fails the test, not its timeout. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Opens WatchTickets; `next()` reads one message. */
function watch(restaurantId: string) {
  const messages = kitchen.watchTickets({ restaurantId }, { signal: streams.signal })[Symbol.asyncIterator]();
  return {
    async next(): Promise<WatchTicketsResponse> {
      const next = await within(5_000, "the next WatchTickets message", messages.next());
      if (next.done) throw new Error("the stream ended");
      return next.value;
    },
  };
}

/** A ticket as a short string that is easy to compare: "<order id> STATE". */
const brief = (ticket: Ticket | undefined) => `${ticket?.orderId} ${TicketState[ticket?.state ?? 0]}`;

function changed(message: WatchTicketsResponse): string {
  if (message.event.case !== "ticketChanged") throw new Error(`expected a ticket change, got ${message.event.case}`);
  return brief(message.event.value);
}

const id = (name: string) => `${name}-${randomUUID()}`;

describe("WatchTickets", () => {
  it("sends the open tickets first, oldest first, then each change to the queue in commit order", async () => {
    const [first, second, pending, accepted] = [id("first"), id("second"), id("pending"), id("accepted")];
    saga.queued(first);
    saga.queued(second);
    saga.createTicket(pending); // card not yet authorized: not for the display
    saga.queued(accepted);
    acceptTicket(store, accepted); // already being cooked: no longer in the queue

    const display = watch("r-1");
    const opening = await display.next();
    expect(opening.event.case).toBe("openTickets");
    const open = opening.event.case === "openTickets" ? opening.event.value.tickets : [];
    expect(open.map(brief)).toEqual([`${first} AWAITING_ACCEPTANCE`, `${second} AWAITING_ACCEPTANCE`]);
    expect(open[0]?.lineItems.map((line) => [line.name, line.quantity])).toEqual([["Pho bo", 2]]);

    const [arriving, neverQueued] = [id("arriving"), id("never-queued")];
    saga.approveTicket(pending); // joins the queue
    acceptTicket(store, first); // leaves it: accepted
    saga.createTicket(neverQueued); // created and rejected before it reached the queue: never shown
    saga.rejectTicket(neverQueued);
    saga.cancelTicket(second); // leaves it: cancelled
    saga.queued(arriving);

    expect(changed(await display.next())).toBe(`${pending} AWAITING_ACCEPTANCE`);
    expect(changed(await display.next())).toBe(`${first} ACCEPTED`);
    expect(changed(await display.next())).toBe(`${second} CANCELLED`);
    expect(changed(await display.next())).toBe(`${arriving} AWAITING_ACCEPTANCE`);
  });

  it("sends an empty queue first when nothing is open, so the display knows it is live", async () => {
    const display = watch("r-1");
    expect((await display.next()).event).toEqual({
      case: "openTickets",
      value: expect.objectContaining({ tickets: [] }),
    });
    const arriving = id("arriving");
    saga.queued(arriving);
    expect(changed(await display.next())).toBe(`${arriving} AWAITING_ACCEPTANCE`);
  });

  it("gives every display of a restaurant the same changes", async () => {
    const displays = [watch("r-1"), watch("r-1"), watch("r-1")];
    for (const display of displays) await display.next();
    const tickets = [id("a"), id("b"), id("c")];
    for (const orderId of tickets) saga.queued(orderId);
    for (const display of displays) {
      const seen = [changed(await display.next()), changed(await display.next()), changed(await display.next())];
      expect(seen).toEqual(tickets.map((orderId) => `${orderId} AWAITING_ACCEPTANCE`));
    }
  });

  it("answers NOT_FOUND for an unknown restaurant", async () => {
    const failure = await watch("r-9")
      .next()
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ConnectError);
    expect([(failure as ConnectError).code, (failure as ConnectError).rawMessage]).toEqual([
      Code.NotFound,
      "restaurant r-9 not found",
    ]);
    expect(store.ticketWatcherCount()).toBe(0);
  });

  it("answers INVALID_ARGUMENT naming restaurant_id when it is missing", async () => {
    const failure = await watch("")
      .next()
      .catch((err: unknown) => err);
    expect([(failure as ConnectError).code, (failure as ConnectError).rawMessage]).toEqual([
      Code.InvalidArgument,
      "restaurant_id: value is required [required]",
    ]);
  });

  it("stops listening for a display's changes as soon as the display cancels its stream", async () => {
    const display = watch("r-1");
    await display.next();
    expect(store.ticketWatcherCount("r-1")).toBe(1);
    streams.abort();
    await waitFor(() => store.ticketWatcherCount() === 0, { message: "the watcher to be released" });
  });

  it("ends open streams with UNAVAILABLE when the server shuts down, without waiting out the grace period", async () => {
    const display = watch("r-1");
    await display.next();
    const closing = server.close(30_000);
    const failure = await display.next().catch((err: unknown) => err);
    expect((failure as ConnectError).code).toBe(Code.Unavailable);
    await within(5_000, "server.close() with a stream open", closing);
    expect(store.ticketWatcherCount()).toBe(0);
  });
});
