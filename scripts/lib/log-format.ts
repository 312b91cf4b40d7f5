// Turns the mesh's pino JSON lines into something a person can follow in one terminal:
//   order      │ 12:04:05.123 INFO  order created, saga started orderId=o-42 total="13.00 EUR"
// Only for `make up`: the services themselves always log JSON.
//
// A log line carries what clients and couriers sent (an order id, a courier id, a reason): every part of
// it that came from the line, raw lines included, goes through `printable`, so the only escape sequences
// that reach the terminal are this formatter's own colours.
import { printable } from "./printable.js";

/** Wraps text in an ANSI colour (an SGR code such as "32" or "1;31"), or leaves it alone. */
export type Paint = (code: string, text: string) => string;

export function painter(color: boolean): Paint {
  return color ? (code, text) => `\x1b[${code}m${text}\x1b[0m` : (_code, text) => text;
}

const LEVELS: Readonly<Record<string, string>> = {
  trace: "90",
  debug: "34",
  info: "32",
  warn: "33",
  error: "31",
  fatal: "1;31",
};
/** pino's numeric levels, for loggers that do not write labels. */
const PINO_LEVELS: Readonly<Record<number, string>> = {
  10: "trace",
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "fatal",
};

/** Shown in their own column, in the prefix, or of no use on a developer's screen. */
const HIDDEN_FIELDS = new Set(["time", "level", "msg", "service", "pid", "hostname"]);

export interface LogFormatOptions {
  readonly color: boolean;
}

/**
 * Renders one pino line as `HH:MM:SS.mmm LEVEL message key=value …` (local time). A line that is not a
 * JSON object (a stack trace on stderr, a tsx compile error) comes back as it is, control characters
 * escaped. An `err` field shows its message inline and its stack on the following, indented lines.
 */
export function formatLogLine(line: string, { color }: LogFormatOptions): string {
  const record = parseRecord(line);
  if (!record) return printable(line);
  const paint = painter(color);
  const level = levelName(record.level);
  const parts = [
    paint("2", clock(record.time)),
    paint(LEVELS[level] ?? "0", printable(level.toUpperCase()).padEnd(5)),
    typeof record.msg === "string" ? printable(record.msg) : "",
  ];
  let stack: string | undefined;
  for (const [key, value] of Object.entries(record)) {
    if (HIDDEN_FIELDS.has(key)) continue;
    if (key === "err" && isSerializedError(value)) {
      parts.push(`${paint("2", "err=")}${formatValue(`${value.type ?? "Error"}: ${value.message}`)}`);
      stack = value.stack?.split("\n").slice(1).map(printable).join("\n");
      continue;
    }
    parts.push(`${paint("2", `${printable(key)}=`)}${formatValue(value)}`);
  }
  const text = parts.filter(Boolean).join(" ");
  return stack ? `${text}\n${paint("2", stack)}` : text;
}

/** Bold, grey, then hues: the supervisor and the broker come first and stay neutral, services get colours. */
const NAME_COLOURS = ["1", "90", "36", "33", "32", "35", "34", "96", "93", "92", "95", "94"];

/** Writes one process's output (one or more lines) under its name. */
export type LogMux = (name: string, text: string) => void;

/**
 * Interleaves the output of several processes on one stream, every line prefixed with its process's
 * name, padded to the longest name and, with colour on, painted in that name's colour (given in
 * order, so neighbours differ).
 */
export function createLogMux(
  names: readonly string[],
  options: { color: boolean; out?: NodeJS.WritableStream },
): LogMux {
  const paint = painter(options.color);
  const width = Math.max(...names.map((name) => name.length));
  const prefixes = new Map(
    names.map((name, i) => [name, `${paint(NAME_COLOURS[i % NAME_COLOURS.length] ?? "0", name.padEnd(width))} │ `]),
  );
  const out = options.out ?? process.stdout;
  return (name, text) => {
    const prefix = prefixes.get(name) ?? `${name.padEnd(width)} │ `;
    const lines = text.split("\n").map((line) => prefix + line);
    out.write(`${lines.join("\n")}\n`);
  };
}

function parseRecord(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function levelName(level: unknown): string {
  if (typeof level === "number") return PINO_LEVELS[level] ?? String(level);
  return typeof level === "string" ? level : "info";
}

/** pino writes epoch milliseconds by default and ISO strings with stdTimeFunctions.isoTime. */
function clock(time: unknown): string {
  if (typeof time !== "number" && typeof time !== "string") return "";
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** JSON escapes C0 controls but neither DEL, the C1 controls nor the bidi overrides: printable does. */
function formatValue(value: unknown): string {
  if (typeof value === "string") return printable(/^[^\s"=]+$/.test(value) ? value : JSON.stringify(value));
  return printable(JSON.stringify(value) ?? String(value));
}

interface SerializedError {
  type?: string;
  message: string;
  stack?: string;
}

function isSerializedError(value: unknown): value is SerializedError {
  return typeof value === "object" && value !== null && typeof (value as SerializedError).message === "string";
}
