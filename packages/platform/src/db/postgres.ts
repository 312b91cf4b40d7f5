// The PostgreSQL engine: libpq's synchronous API (pg-native), one connection per service process, the
// service's own schema on its search_path. Synchronous on purpose: the stores were written for an engine
// where a transaction runs start to end without another callback of the process in between, and the
// saga steps rely on it; with libpq's sync calls that holds on PostgreSQL too, and each statement costs a
// round trip to the server (measured in docs/benchmarks.md) instead of a disk write.
//
// Writers are serialized per service, as SQLite serializes them: every transaction, and every statement
// that writes outside one, first takes a transaction-scoped advisory lock on the schema. Two instances of
// a service therefore commit one after the other, so a table's identity order is its commit order — the
// outbox relay and the change feed read "the rows after the last one read" and must not skip a row that
// commits late. Row locks would let instances write in parallel; that is a change of every store.
import { createRequire } from "node:module";
import { numberParameters, schemaForPostgres, textParameter } from "./dialect.js";
import { type Database, MissingDatabaseError, type Statement, type Transaction } from "./types.js";

interface NativeClient {
  connectSync(conninfo: string): void;
  querySync(text: string, values?: (string | null)[]): Record<string, unknown>[];
  prepareSync(name: string, text: string, count: number): void;
  executeSync(name: string, values: (string | null)[]): Record<string, unknown>[];
  end(): void;
  readonly pq: { cmdTuples(): string };
}
interface TypeParsers {
  getTypeParser(oid: number, format?: string): (value: string) => unknown;
}

const INT8 = 20;
const NUMERIC = 1700;

/**
 * Connects to the database at `url`, in `schema`: created and brought up to `migrations`, or, without
 * migrations, used as it is (read-only when asked).
 */
export function openPostgres(
  url: string,
  schema: string,
  migrations: readonly string[] | undefined,
  options: { readonly readonly?: boolean } = {},
): Database {
  const client = connect(url);
  try {
    return new PostgresDatabase(client, schema, migrations, options.readonly ?? false);
  } catch (err) {
    endClient(client);
    throw err;
  }
}

function connect(url: string): NativeClient {
  const require = createRequire(import.meta.url);
  let Client: new (options: { types: TypeParsers }) => NativeClient;
  let types: TypeParsers;
  try {
    Client = require("pg-native");
    types = require("pg-types");
  } catch (err) {
    throw new Error(
      "DATABASE_URL names a PostgreSQL database, but the optional package pg-native is not installed: it builds on " +
        "libpq (Debian: apt-get install libpq-dev), then run npm ci",
      { cause: err },
    );
  }
  // Our integers are 64-bit milliseconds and cents, well inside a double: numbers, as SQLite returns them.
  const parsers: TypeParsers = {
    getTypeParser: (oid, format) => (oid === INT8 || oid === NUMERIC ? Number : types.getTypeParser(oid, format)),
  };
  const client = new Client({ types: parsers });
  client.connectSync(url);
  return client;
}

/**
 * Clients closed by this process, held until libuv has finished closing their socket watcher. libpq's addon
 * closes the watcher asynchronously, and the watcher lives inside the client object: a client collected in
 * between aborts the whole process (`uv__finish_close: Assertion ... failed`), as a CLI did once right after
 * closing its databases. The close finishes within the loop's current turn; a second keeps it well clear.
 */
const closing = new Set<{ end(): void }>();

/** Ends a pg-native client's connection without letting it be collected while libuv still closes it. */
export function endClient(client: { end(): void }): void {
  client.end();
  closing.add(client);
  setTimeout(() => closing.delete(client), 1_000).unref();
}

let statementNames = 0;

class PostgresDatabase implements Database {
  readonly engine = "postgres";
  open = true;
  #depth = 0;
  readonly #client: NativeClient;
  readonly #lockKey: string;

  constructor(client: NativeClient, schema: string, migrations: readonly string[] | undefined, readonly: boolean) {
    this.#client = client;
    const quoted = `"${schema.replaceAll('"', '""')}"`;
    this.#lockKey = this.#key(`ftgo:writer:${schema}`);
    if (migrations === undefined) {
      const [found] = client.querySync("SELECT 1 AS found FROM pg_namespace WHERE nspname = $1", [schema]);
      if (!found) throw new MissingDatabaseError(`no schema "${schema}" in this database: has the service run on it?`);
      client.querySync(`SET search_path TO ${quoted}`);
      if (readonly) client.querySync("SET default_transaction_read_only = on");
      return;
    }
    // Creating the schema and migrating it, once, whichever instance of the service starts first.
    const setupKey = this.#key(`ftgo:setup:${schema}`);
    client.querySync("SELECT pg_advisory_lock($1)", [setupKey]);
    try {
      client.querySync("SET client_min_messages TO warning"); // not the NOTICE of each IF NOT EXISTS
      client.querySync(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
      client.querySync(`SET search_path TO ${quoted}`);
      this.#migrate(migrations);
    } finally {
      client.querySync("SELECT pg_advisory_unlock($1)", [setupKey]);
    }
  }

  get inTransaction(): boolean {
    return this.#depth > 0;
  }

  prepare<P extends unknown[] | object = unknown[], R = unknown>(sql: string): Statement<P, R> {
    const numbered = numberParameters(sql);
    const name = `ftgo_${++statementNames}`;
    let prepared = false;
    const writes = !/^\s*(SELECT|WITH)\b/i.test(sql);
    const execute = (params: readonly unknown[]) => {
      if (!this.open) throw new TypeError("the database connection is not open");
      if (!prepared) {
        this.#client.prepareSync(name, numbered.text, numbered.count);
        prepared = true;
      }
      const values = numbered.order(params).map(textParameter);
      const run = () => {
        const rows = this.#client.executeSync(name, values);
        return { rows, changes: Number.parseInt(this.#client.pq.cmdTuples(), 10) || 0 };
      };
      // A write outside a transaction is a transaction of its own, serialized like the others.
      return writes && this.#depth === 0 ? this.transaction(run)() : run();
    };
    const make = <T>(shape: (row: Record<string, unknown>) => T): Statement<P, T> => ({
      run: (...params) => ({ changes: execute(params).changes }),
      get: (...params) => {
        const row = execute(params).rows[0];
        return row === undefined ? undefined : shape(row);
      },
      all: (...params) => execute(params).rows.map(shape),
      pluck: <U>() => make((row) => Object.values(row)[0] as U),
      raw: <U extends unknown[]>() => make((row) => Object.values(row) as U),
    });
    return make((row) => row as R);
  }

  exec(sql: string): void {
    this.#client.querySync(schemaForPostgres(sql));
  }

  // biome-ignore lint/suspicious/noExplicitAny: see Transaction
  transaction<F extends (...args: any[]) => unknown>(fn: F): Transaction<F> {
    const run = ((...args: Parameters<F>) => this.#inTransaction(() => fn(...args))) as F;
    // Every transaction takes the writer lock at its start already: `immediate` is the same.
    return Object.assign(run, { immediate: run });
  }

  commitsByOthers(): undefined {
    return undefined;
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    endClient(this.#client);
  }

  #inTransaction<T>(fn: () => T): T {
    const savepoint = this.#depth > 0 ? `ftgo_sp_${this.#depth}` : undefined;
    this.#client.querySync(savepoint ? `SAVEPOINT ${savepoint}` : "BEGIN");
    this.#depth++;
    try {
      if (!savepoint) this.#client.querySync("SELECT pg_advisory_xact_lock($1)", [this.#lockKey]);
      const result = fn();
      this.#client.querySync(savepoint ? `RELEASE SAVEPOINT ${savepoint}` : "COMMIT");
      return result;
    } catch (err) {
      if (this.open) this.#client.querySync(savepoint ? `ROLLBACK TO SAVEPOINT ${savepoint}` : "ROLLBACK");
      throw err;
    } finally {
      this.#depth--;
    }
  }

  /** A 64-bit advisory-lock key for `name`, the same in every process. */
  #key(name: string): string {
    const [row] = this.#client.querySync("SELECT hashtextextended($1, 0)::text AS key", [name]);
    return row?.key as string;
  }

  /** The schema's `schema_version` table counts the migrations that have run. */
  #migrate(migrations: readonly string[]): void {
    this.#client.querySync("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)");
    const [row] = this.#client.querySync("SELECT version FROM schema_version");
    const applied = (row?.version as number | undefined) ?? 0;
    if (applied > migrations.length) {
      throw new Error(`database schema version ${applied} is newer than this code knows (${migrations.length})`);
    }
    for (let version = applied; version < migrations.length; version++) {
      this.#inTransaction(() => {
        this.exec(migrations[version] as string);
        this.#client.querySync("DELETE FROM schema_version");
        this.#client.querySync("INSERT INTO schema_version (version) VALUES ($1)", [String(version + 1)]);
      });
    }
  }
}
