// The engine-neutral face of a service's database (db.ts opens one; db/sqlite.ts and db/postgres.ts are the engines).

export type Engine = "sqlite" | "postgres";

/** Where a service's data lives: a SQLite file, or its own schema in a PostgreSQL database. */
export type DatabaseLocation =
  | { readonly engine: "sqlite"; readonly file: string }
  | { readonly engine: "postgres"; readonly url: string; readonly schema: string };

/** A statement's parameters: positional (`?`, as an array type) or named (`@name`, as one object). */
export type Params<P> = P extends unknown[] ? P : [P];

export interface RunResult {
  /** Rows inserted, updated or deleted. */
  readonly changes: number;
}

/** A prepared statement, run as often as needed. */
export interface Statement<P extends unknown[] | object = unknown[], R = unknown> {
  run(...params: Params<P>): RunResult;
  /** The first row, or undefined. */
  get(...params: Params<P>): R | undefined;
  all(...params: Params<P>): R[];
  /** The same statement returning each row's first column only. */
  pluck<T = R>(): Statement<P, T>;
  /** The same statement returning each row as an array of its columns. */
  raw<T extends unknown[] = R extends unknown[] ? R : unknown[]>(): Statement<P, T>;
}

/**
 * `fn` wrapped in a transaction: committed when it returns, rolled back when it throws; nested calls
 * run in a savepoint. `immediate` takes the write lock before `fn` reads anything.
 */
// biome-ignore lint/suspicious/noExplicitAny: the wrapped function keeps its own signature
export type Transaction<F extends (...args: any[]) => unknown> = F & { readonly immediate: F };

export interface Database {
  readonly engine: Engine;
  /** False once closed. */
  readonly open: boolean;
  readonly inTransaction: boolean;
  prepare<P extends unknown[] | object = unknown[], R = unknown>(sql: string): Statement<P, R>;
  /** Runs one or more statements without parameters: schema changes. */
  exec(sql: string): void;
  // biome-ignore lint/suspicious/noExplicitAny: see Transaction
  transaction<F extends (...args: any[]) => unknown>(fn: F): Transaction<F>;
  /**
   * A number that moves when another connection commits (SQLite's data_version); on PostgreSQL, where
   * nothing as cheap exists, undefined: a caller then reads what it watches instead.
   */
  commitsByOthers(): number | undefined;
  close(): void;
}

/** openExistingDatabase found no database there: the service has not run on this location yet. */
export class MissingDatabaseError extends Error {
  override readonly name = "MissingDatabaseError";
}
