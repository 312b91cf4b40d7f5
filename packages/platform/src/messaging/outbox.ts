// Transactional messaging: a database table as a message queue. A service must change its data and
// publish the event that says so together, or not at all; a broker cannot join a local database
// transaction. So the event is written to the `outbox` table in the same transaction as the change,
// and a relay (relay.ts) publishes the committed rows afterwards. If the transaction rolls back, the
// event never existed; if it commits, the event will be published, however often processes crash.
import { randomUUID } from "node:crypto";
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import type { Database } from "../db.js";
import { noteStepOutcome } from "../telemetry/saga-spans.js";
import { traceparentOf } from "../telemetry/trace-context.js";
import { brokerLimitReader, MessageTooLargeError, wireSize } from "./broker-limit.js";
import { commandSubject, DEFAULT_PARTITIONS, eventSubject, partitionOf, replySubject } from "./channels.js";
import { signalOutboxCommit } from "./commit-signal.js";
import { encodeBody, envelopeHeaders, MessageHeader } from "./envelope.js";

/** Where an appended message belongs: its saga (the order id), its cause and its request, when known. */
export interface OutboxMeta {
  readonly correlationId: string;
  readonly causationId?: string | undefined;
  readonly requestId?: string | undefined;
  readonly traceparent?: string | undefined;
}

/** Where a command's reply goes: the sender's reply channel (`replyChannel("order")`); none for a one-way command. */
export interface CommandMeta extends OutboxMeta {
  readonly replyTo?: string | undefined;
}

/** The three ways out of a service; each call belongs inside the transaction that makes the change. Each returns the message id. */
export interface Outbox {
  /** Appends the event `message` for its domain's publish-subscribe channel. */
  append<T extends DescMessage>(schema: T, message: MessageInitShape<T>, meta: OutboxMeta): string;
  /** Appends the command `message` for its receiver's point-to-point channel (the type's domain). */
  send<T extends DescMessage>(schema: T, message: MessageInitShape<T>, meta: CommandMeta): string;
  /** Appends the reply `message` for the reply channel `replyTo` a command named. */
  reply<T extends DescMessage>(replyTo: string, schema: T, message: MessageInitShape<T>, meta: OutboxMeta): string;
}

/**
 * Thrown by `append` outside a transaction: the message could be committed without the change it
 * announces, or the change without it. This check is what makes the outbox the only way out.
 */
export class OutsideTransactionError extends Error {
  override readonly name = "OutsideTransactionError";
}

/**
 * The outbox of a service's database: creates the table if needed and returns the only ways to send a
 * message: `append` an event, `send` a command, `reply` to one. The message gets its id (a UUID), its
 * subject (its channel, partitioned by the correlation id) and its header here, so the relay only
 * copies rows to JetStream.
 *
 * ```ts
 * db.transaction(() => {
 *   insertOrder.run(order);
 *   outbox.append(OrderCreatedSchema, { orderId: order.id, … }, { correlationId: order.id, requestId });
 * })();
 * ```
 */
export function createOutbox(db: Database, options: { partitions?: number } = {}): Outbox {
  const partitions = options.partitions ?? DEFAULT_PARTITIONS;
  createOutboxTable(db);
  const maxPayload = brokerLimitReader(db);
  const insert = db.prepare<[OutboxInsert]>(
    `INSERT INTO outbox (message_id, subject, type, correlation_id, causation_id, request_id, headers, payload, created_at)
     VALUES (@messageId, @subject, @type, @correlationId, @causationId, @requestId, @headers, @payload, @createdAt)`,
  );
  type Write = (
    schema: DescMessage,
    message: unknown,
    meta: CommandMeta,
    subject: (partition: number) => string,
  ) => string;
  const writer =
    (method: keyof Outbox): Write =>
    (schema, message, meta, subject) => {
      const call = `outbox.${method}(${schema.typeName})`;
      if (!db.inTransaction) {
        throw new OutsideTransactionError(
          `${call} outside a transaction: run it in the db.transaction() that makes the change`,
        );
      }
      if (meta.correlationId === "") throw new Error(`${call}: correlationId is empty`);
      // The trace this transaction runs in (a gRPC call, a message being handled), kept in the row so that
      // the relay's publish continues it even after a crash and a restart (telemetry/messaging-spans.ts).
      const traceparent = traceparentOf() ?? meta.traceparent;
      noteStepOutcome(schema.typeName, message); // on the saga step's span, if a step is writing it
      const envelope = { messageId: randomUUID(), type: schema.typeName, ...meta, traceparent };
      const headers = envelopeHeaders(envelope);
      const payload = encodeBody(schema, message as MessageInitShape<DescMessage>);
      // The relay adds Nats-Msg-Id (the message id) when publishing: it counts too.
      const size = wireSize({ ...headers, [MessageHeader.NatsMsgId]: envelope.messageId }, payload.length);
      const limit = maxPayload();
      if (size > limit) {
        throw new MessageTooLargeError(`${schema.typeName} is ${size} bytes, over the broker's max_payload ${limit}`);
      }
      insert.run({
        messageId: envelope.messageId,
        subject: subject(partitionOf(meta.correlationId, partitions)),
        type: envelope.type,
        correlationId: envelope.correlationId,
        causationId: envelope.causationId ?? null,
        requestId: envelope.requestId ?? null,
        headers: JSON.stringify(headers),
        payload,
        createdAt: Date.now(),
      });
      signalOutboxCommit(db); // the relay publishes it as soon as this transaction commits
      return envelope.messageId;
    };
  const [event, command, reply] = [writer("append"), writer("send"), writer("reply")];
  return {
    append: (schema, message, meta) => event(schema, message, meta, (p) => eventSubject(schema, p)),
    send: (schema, message, meta) => command(schema, message, meta, (p) => commandSubject(schema, p)),
    reply: (replyTo, schema, message, meta) => reply(schema, message, meta, (p) => replySubject(replyTo, schema, p)),
  };
}

interface OutboxInsert {
  messageId: string;
  subject: string;
  type: string;
  correlationId: string;
  causationId: string | null;
  requestId: string | null;
  headers: string;
  payload: Uint8Array;
  createdAt: number;
}

/** A row of the outbox, as the relay reads it. */
export interface OutboxRow {
  readonly seq: number;
  readonly message_id: string;
  readonly subject: string;
  readonly type: string;
  readonly correlation_id: string;
  readonly headers: string;
  readonly payload: Buffer;
  readonly created_at: number;
  readonly published_at: number | null;
}

/**
 * The outbox table. `seq` is the publishing order. The id, type and correlation columns are there for
 * people and queries; `headers` (JSON) and `payload` are exactly what goes on the wire. Times are
 * milliseconds since the epoch; `published_at` stays NULL until JetStream has acknowledged the message.
 */
export function createOutboxTable(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS outbox (
      seq            INTEGER PRIMARY KEY AUTOINCREMENT,
      message_id     TEXT NOT NULL UNIQUE,
      subject        TEXT NOT NULL,
      type           TEXT NOT NULL,
      correlation_id TEXT NOT NULL,
      causation_id   TEXT,
      request_id     TEXT,
      headers        TEXT NOT NULL CHECK (json_valid(headers)),
      payload        BLOB NOT NULL,
      created_at     INTEGER NOT NULL,
      published_at   INTEGER
    );
    CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;
    CREATE INDEX IF NOT EXISTS outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;
  `);
}
