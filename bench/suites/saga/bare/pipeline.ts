// The bench's side of the bare pipeline: a nats-server of its own, the streams and durables of
// topology.ts, the four participant processes (participant.ts), a SagaTarget to drive, and the audit
// that must pass before its figures count.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { OrderCreatedSchema } from "@ftgo/gen/ftgo/order/v1/events_pb.js";
import { startNatsServer } from "@ftgo/platform/testing";
import { AckPolicy, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import Database from "better-sqlite3";
import { startWorkerChild } from "../../../lib/child.js";
import { cleanupStack } from "../../../lib/cleanups.js";
import type { SagaTarget } from "../drive.js";
import {
  BARE_PARTICIPANTS,
  type BareParticipant,
  CREATE_ORDER_SUBJECT,
  durableOf,
  ORDER_ID_HEADER,
  READS,
  STREAMS,
  SUBJECTS,
} from "./topology.js";

const PARTICIPANT_SCRIPT = new URL("./participant.ts", import.meta.url).pathname;
/** Unacknowledged messages per durable: enough never to be the limit at the bench's in-flight. */
const MAX_ACK_PENDING = 1024;

export interface BarePipeline {
  /** A connection to the pipeline's nats-server, for driving it. */
  readonly nc: NatsConnection;
  /** Orders the seed's approved path (c-1001 at r-1, 2× m-1 + 1× m-3, 1500 minor units). */
  readonly target: SagaTarget;
  /** True once every participant has reached the end of the happy path for every order. */
  isSettled(orderIds: readonly string[]): boolean;
  /** One line per order some participant handled other than exactly once, to the end. */
  audit(orderIds: readonly string[]): string[];
  stop(): Promise<void>;
}

/** What every participant's row for an order must end as: its state, and how many writes and messages it took. */
const EXPECTED: Readonly<Record<BareParticipant, { state: string; changes: number; sent: number }>> = {
  order: { state: "APPROVED", changes: 2, sent: 2 },
  consumer: { state: "VERIFIED", changes: 1, sent: 1 },
  kitchen: { state: "AWAITING_ACCEPTANCE", changes: 2, sent: 2 },
  accounting: { state: "AUTHORIZED", changes: 3, sent: 1 },
};

export async function startBarePipeline(): Promise<BarePipeline> {
  const cleanups = cleanupStack();
  try {
    const dataDir = mkdtempSync(join(tmpdir(), "ftgo-bare-"));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const nc = await connect({ servers: nats.url });
    cleanups.push(() => nc.close());
    await createChannels(nc);
    const dbFile = (p: BareParticipant) => join(dataDir, `${p}.db`);
    const children = await Promise.all(
      BARE_PARTICIPANTS.map((p) => startWorkerChild(PARTICIPANT_SCRIPT, [p, nats.url, dbFile(p)])),
    );
    for (const child of children) cleanups.push(() => child.stop());
    // Read-only handles for the audit, opened once the participants have created their schema.
    const dbs = Object.fromEntries(
      BARE_PARTICIPANTS.map((p) => [p, new Database(dbFile(p), { readonly: true, fileMustExist: true })]),
    ) as Record<BareParticipant, Database.Database>;
    cleanups.push(async () => {
      for (const db of Object.values(dbs)) db.close();
    });
    const rowsOf = (p: BareParticipant, orderIds: readonly string[]) => {
      const select = dbs[p].prepare<[string], { state: string; changes: number; sent: number }>(
        "SELECT state, changes, (SELECT count(*) FROM sent WHERE sent.order_id = state.order_id) AS sent FROM state WHERE order_id = ?",
      );
      return orderIds.map((id) => ({ id, row: select.get(id) }));
    };
    return {
      nc,
      target: { endSubjects: [SUBJECTS.orderApproved], place: () => placeOrder(nc) },
      isSettled: (orderIds) =>
        BARE_PARTICIPANTS.every((p) => rowsOf(p, orderIds).every(({ row }) => row?.state === EXPECTED[p].state)),
      audit: (orderIds) =>
        BARE_PARTICIPANTS.flatMap((p) =>
          rowsOf(p, orderIds)
            .filter(({ row }) => JSON.stringify(row) !== JSON.stringify(EXPECTED[p]))
            .map(({ id, row }) => `bare ${p}, order ${id}: ${JSON.stringify(row)}, not ${JSON.stringify(EXPECTED[p])}`),
        ),
      stop: () => cleanups.close(),
    };
  } catch (err) {
    await cleanups.close();
    throw err;
  }
}

/** The streams (file storage, as the platform's) and every participant's durable, before the participants start. */
async function createChannels(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const { name, subjects } of STREAMS) {
    await jsm.streams.add({ name, subjects: [...subjects], storage: StorageType.File });
  }
  for (const reader of BARE_PARTICIPANTS) {
    for (const subject of READS[reader]) {
      const { stream, durable } = durableOf(reader, subject);
      await jsm.consumers.add(stream, {
        durable_name: durable,
        filter_subject: subject,
        ack_policy: AckPolicy.Explicit,
        max_ack_pending: MAX_ACK_PENDING,
      });
    }
  }
}

/** CreateOrder for the bare pipeline: a request to the Order participant, answered once OrderCreated is published. */
async function placeOrder(nc: NatsConnection): Promise<string> {
  const orderId = randomUUID();
  const order = create(OrderCreatedSchema, {
    orderId,
    consumerId: "c-1001",
    restaurantId: "r-1",
    lineItems: [
      { menuItemId: "m-1", name: "item 1", quantity: 2 },
      { menuItemId: "m-3", name: "item 3", quantity: 1 },
    ],
    total: { currencyCode: "USD", minorUnits: 1500n },
  });
  const h = headers();
  h.set(ORDER_ID_HEADER, orderId);
  const reply = await nc.request(CREATE_ORDER_SUBJECT, toBinary(OrderCreatedSchema, order), {
    headers: h,
    timeout: 30_000,
  });
  if (reply.data.length > 0) throw new Error(`bare order ${orderId} was not created: ${reply.string()}`);
  return orderId;
}
