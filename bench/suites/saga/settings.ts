// The saga suite's knobs (bench/run.ts reads them from BENCH_SAGA_* and BENCH_COMPARE_WITH) and constants.

export interface SagaSuiteSettings {
  /** Orders per full-load run (BENCH_SAGA_ORDERS, default 300). */
  readonly orders: number;
  /** Sagas in progress at once at full load (BENCH_SAGA_IN_FLIGHT, default 32). */
  readonly inFlight: number;
  /** The commit whose latest-saga.json holds the previous figure (BENCH_COMPARE_WITH); default: its last change. */
  readonly compareWith?: string;
}

/** Orders through the saga before timing starts: two down each path, so every handler has run. */
export const WARM_UP_ORDERS = 8;
/** Orders placed one after another for "one order alone". */
export const ALONE_ORDERS = 30;
/** The steady load for the outbox lag: this share of the full-load orders/s, open loop, for STEADY_SECONDS. */
export const STEADY_LOAD_SHARE = 0.5;
export const STEADY_SECONDS = 4;
