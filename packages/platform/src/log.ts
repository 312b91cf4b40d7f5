import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger } from "pino";

/** What createLogger needs to know: who is logging, and how much. */
export interface LogConfig {
  readonly service: string;
  readonly logLevel: string;
}

/** What a redacted value is replaced with: the line still says the field was there. */
export const REDACTED = "[REDACTED]";

/**
 * Fields that carry credentials: an Authorization header, cookies (the dashboard's session cookie among them),
 * tokens, a signing key. Redacted wherever they are logged, at the top of a line, one level down (`headers.cookie`)
 * or in a request's headers (`req.headers.authorization`), so that a careless `log.info({ headers })` leaks nothing.
 */
const CREDENTIALS = ["authorization", "cookie", "cookies", '["set-cookie"]', "token", "accessToken", "privateKeyPem"];
const REDACT_PATHS = CREDENTIALS.flatMap((field) => {
  const child = field.startsWith("[") ? field : `.${field}`;
  return [field, `*${child}`, `*.headers${child}`, `*.auth${child}`, `*.config.auth${child}`];
});

/**
 * The root logger of a process: pino JSON lines on stdout (or `destination`, for a test that reads them), each
 * tagged `{ service }`. Handlers take children of it (`log.child({ requestId })`) so that every line carries its
 * request and order ids as fields. Whole requests are never logged: they may hold personal or card data; and
 * credentials are redacted (see CREDENTIALS) in case a line holds one anyway.
 */
export function createLogger(config: LogConfig, destination?: DestinationStream): Logger {
  const options = {
    level: config.logLevel,
    base: { service: config.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A logger that drops everything, for tests that do not read logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
