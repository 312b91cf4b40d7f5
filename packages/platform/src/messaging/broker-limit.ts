// The largest message the broker takes. nats-server refuses anything over its `max_payload` (header
// and body together, 1 MiB unless configured), and refuses it every time: a row the outbox accepted
// but the broker never will would sit at the head of the outbox for ever. So the limit is learnt from
// the server when the relay connects and kept in the service's database, where the outbox checks every
// message against it inside the transaction that writes it, before the change commits.

import { Code } from "@connectrpc/connect";
import type { Database } from "../db.js";
import { DomainError } from "../errors.js";

/** nats-server's `max_payload` when its configuration says nothing: what we assume until a server tells us. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/**
 * Thrown by the outbox for a message bigger than the broker's `max_payload`: the transaction that
 * wrote it rolls back. An INVALID_ARGUMENT at the RPC edge, since only a smaller request can succeed.
 */
export class MessageTooLargeError extends DomainError {
  override readonly name = "MessageTooLargeError";
  readonly code = Code.InvalidArgument;
}

/** Creates the one-row table that remembers the broker's limit. */
export function createBrokerLimitTable(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS outbox_broker (
      id          INTEGER PRIMARY KEY CHECK (id = 1),
      max_payload INTEGER NOT NULL CHECK (max_payload > 0)
    );
  `);
}

/** Remembers the `max_payload` a server announced (`nc.info?.max_payload`); ignores an unknown one. */
export function recordMaxPayload(db: Database, maxPayload: number | undefined): void {
  if (maxPayload === undefined || !Number.isInteger(maxPayload) || maxPayload <= 0) return;
  createBrokerLimitTable(db);
  db.prepare(
    "INSERT INTO outbox_broker (id, max_payload) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET max_payload = excluded.max_payload",
  ).run(maxPayload);
}

/** Reads the remembered limit, each call (another process may have learnt a new one). */
export function brokerLimitReader(db: Database): () => number {
  createBrokerLimitTable(db);
  const read = db.prepare<[], { max_payload: number }>("SELECT max_payload FROM outbox_broker WHERE id = 1");
  return () => read.get()?.max_payload ?? DEFAULT_MAX_PAYLOAD;
}

const utf8 = new TextEncoder();

/**
 * The bytes a message takes against `max_payload`, as the NATS client counts them: its header block
 * (`NATS/1.0`, one `Name: value` line each, a blank line) plus its body.
 */
export function wireSize(headers: Readonly<Record<string, string>>, bodyBytes: number): number {
  let size = "NATS/1.0\r\n\r\n".length;
  for (const [name, value] of Object.entries(headers)) size += utf8.encode(`${name}: ${value}\r\n`).length;
  return size + bodyBytes;
}
