// `make up`'s log formatter (scripts/lib/log-format.ts) on lines a service could really write: a pino line
// carries ids and reasons that clients and couriers chose, so none of its bytes may drive the terminal.
// With colour on, the only escape sequences in the output are the formatter's own SGR codes.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { formatLogLine } from "../scripts/lib/log-format.js";

const ESC = "\x1b";
const ATTACK = "\x1b[2J\x1b[31mERROR";

/** One line as a service's pino logger writes it. */
function pinoLine(write: (log: pino.Logger) => void): string {
  const lines: string[] = [];
  const log = pino({ base: { service: "delivery" } }, { write: (line: string) => lines.push(line.trimEnd()) });
  write(log);
  expect(lines).toHaveLength(1);
  return lines[0] as string;
}

/** The escape sequences in `text`, with the formatter's colour codes (ESC [ digits/semicolons m) taken out. */
function foreignEscapes(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the formatter's own SGR codes are what is removed
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

describe("formatLogLine", () => {
  it("escapes terminal controls in the message and in field values", () => {
    const line = pinoLine((log) => log.warn({ courierId: ATTACK, orderId: `o-1${ATTACK}` }, `quote from ${ATTACK}`));
    const text = formatLogLine(line, { color: false });
    expect(text).not.toContain(ESC);
    expect(text).toContain("quote from \\x1b[2J\\x1b[31mERROR");
    expect(text).toContain("courierId=\\x1b[2J\\x1b[31mERROR");
    expect(text).toContain("orderId=o-1\\x1b[2J\\x1b[31mERROR");
  });

  it("escapes a field's key, a nested value, an error's message and stack, and the bidi overrides JSON leaves alone", () => {
    const err = new Error(`boom${ATTACK}`);
    err.stack = `Error: boom\n    at ${ATTACK} (evil.ts:1:1)`;
    const line = pinoLine((log) =>
      log.error({ [`k${ATTACK}`]: 1, nested: { id: `\u202e${ATTACK}\x9b2J` }, err }, "failed"),
    );
    const text = formatLogLine(line, { color: false });
    expect(text).not.toContain(ESC);
    expect(text).not.toContain("\u202e");
    expect(text).not.toContain("\x9b");
    expect(text).toContain("k\\x1b[2J\\x1b[31mERROR=1");
    expect(text).toContain("\\u202e");
    expect(text).toContain("\\x9b2J");
    expect(text).toContain("at \\x1b[2J\\x1b[31mERROR (evil.ts:1:1)");
  });

  it("with colour on, leaves only its own colour codes in the output", () => {
    const line = pinoLine((log) => log.info({ correlationId: ATTACK }, ATTACK));
    const text = formatLogLine(line, { color: true });
    expect(text).toContain(`${ESC}[32mINFO `); // its own colours are still there…
    expect(foreignEscapes(text)).not.toContain(ESC); // …and nothing else
    expect(foreignEscapes(text)).toContain("\\x1b[2J\\x1b[31mERROR correlationId=\\x1b[2J\\x1b[31mERROR");
  });

  it("escapes a line that is not JSON, passed through otherwise as it is", () => {
    expect(formatLogLine(`panic: ${ATTACK}\u202e`, { color: true })).toBe("panic: \\x1b[2J\\x1b[31mERROR\\u202e");
    expect(formatLogLine("    at main (up.ts:1:1) Phở €", { color: false })).toBe("    at main (up.ts:1:1) Phở €");
  });
});
