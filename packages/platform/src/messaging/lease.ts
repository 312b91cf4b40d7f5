// Leader election on a shared database file. When several instances of a service share one SQLite
// file, one outbox relay is enough: several would race to publish every row. A lease row names the
// one that may act, and until when.
import type { Database } from "../db.js";

/** A leader that has not renewed its lease for this long is presumed dead; another instance takes over. */
const LEASE_MS = 5_000;

export interface Lease {
  /** Takes the lease if it is free or expired, extends it if this holder has it: true when it does. */
  renew(): boolean;
  /**
   * True, without a database write, when this holder renewed the lease less than half a lease ago: it
   * cannot have expired, so nobody else can hold it. A busy relay renews per batch and skips the rest.
   */
  fresh(): boolean;
  /** Gives it up, so that another instance need not wait for it to expire. */
  release(): void;
}

/**
 * The lease kept in table `table` (created if needed), for `holder`. Taking or renewing it is one
 * atomic statement, so two holders on one file cannot both win. It bounds, but cannot rule out, two
 * leaders: one stalled beyond its lease may still finish a publish its successor also makes. For the
 * relay that is harmless: both publish with the same `Nats-Msg-Id`, JetStream keeps the first, and
 * order holds.
 */
export function createLease(db: Database, table: string, holder: string): Lease {
  db.exec(`
    CREATE TABLE IF NOT EXISTS ${table} (
      id         INTEGER PRIMARY KEY CHECK (id = 1),
      holder     TEXT NOT NULL,
      expires_at INTEGER NOT NULL
    )
  `);
  const claim = db.prepare<{ holder: string; now: number; expiresAt: number }>(`
    INSERT INTO ${table} (id, holder, expires_at) VALUES (1, @holder, @expiresAt)
    ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
    WHERE ${table}.holder = excluded.holder OR ${table}.expires_at <= @now
  `);
  const drop = db.prepare<[string]>(`DELETE FROM ${table} WHERE holder = ?`);
  let renewedAt: number | undefined;
  return {
    renew() {
      const now = Date.now();
      const held = claim.run({ holder, now, expiresAt: now + LEASE_MS }).changes === 1;
      renewedAt = held ? now : undefined;
      return held;
    },
    fresh() {
      return renewedAt !== undefined && Date.now() - renewedAt < LEASE_MS / 2;
    },
    release() {
      renewedAt = undefined;
      drop.run(holder);
    },
  };
}
