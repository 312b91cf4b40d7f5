import { type Logger, pino } from "pino";

export type { Logger } from "pino";

/** What createLogger needs to know: who is logging, and how much. */
export interface LogConfig {
  readonly service: string;
  readonly logLevel: string;
}

/**
 * The root logger of a process: pino JSON lines on stdout, each tagged `{ service }`. Handlers take
 * children of it (`log.child({ requestId })`) so that every line carries its request and order ids as
 * fields. Whole requests are never logged: they may hold personal or card data.
 */
export function createLogger(config: LogConfig): Logger {
  return pino({
    level: config.logLevel,
    base: { service: config.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

/** A logger that drops everything, for tests that do not read logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
