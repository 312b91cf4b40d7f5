// What the repository's command-line scripts (dead-letters, trace, kitchen-display) share: how they fail
// (a usage error exits 2 with the usage, anything else exits 1 with one line) and how they print tables.
import { printable } from "./printable.js";

/** A command line the script cannot understand. An empty message means `--help`: print the usage, exit 0. */
export class UsageError extends Error {}

export interface CliOptions {
  /** Prefixes the one-line error (`trace: …`); without it the line is the error alone. */
  readonly name?: string;
  readonly usage: string;
  /** The line to print for an error that is not a usage error; default its message. */
  readonly explain?: (err: unknown) => string;
}

/** Runs `main` and turns what it throws into the script's output and exit code. */
export async function runCli(main: () => void | Promise<void>, { name, usage, explain }: CliOptions): Promise<void> {
  try {
    await main();
  } catch (err) {
    if (err instanceof UsageError && err.message === "") {
      console.log(usage);
    } else if (err instanceof UsageError) {
      console.error(`${printable(err.message)}\n${usage}`);
      process.exitCode = 2;
    } else {
      const line = explain ? explain(err) : err instanceof Error ? err.message : String(err);
      // An error can quote what a server or a message said (a dead letter's subject, a status message).
      console.error(printable(name ? `${name}: ${line}` : line));
      process.exitCode = 1;
    }
  }
}

/**
 * Rows as aligned columns under `header`, two spaces apart; null cells print empty. Every cell goes through
 * `printable`: the tables show ids and reasons that clients and couriers wrote, never trusted bytes.
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly (string | number | null | undefined)[])[],
): string {
  const lines = [header, ...rows].map((row) => row.map((cell) => printable(String(cell ?? ""))));
  const widths = header.map((_, i) => Math.max(...lines.map((line) => (line[i] ?? "").length)));
  return lines
    .map((line) =>
      line
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
