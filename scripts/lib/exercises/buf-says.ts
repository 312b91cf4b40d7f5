// buf breaking's complaints as a learner reads them in a `missing` message: one line each, `file:line: sentence`,
// whether the context ran buf with its text or its JSON error format.
import type { CommandResult } from "./types.js";

interface Finding {
  readonly path: string;
  readonly line: number;
  readonly message: string;
  readonly rule?: string;
}

/** The first `max` complaints, indented for a `missing` message; "…" when buf had more to say. */
export function bufSays(result: CommandResult, max = 4): string {
  const findings = (result as CommandResult & { findings?: readonly Finding[] }).findings;
  const lines =
    findings && findings.length > 0
      ? findings.map((f) => `${f.path}:${f.line}: ${f.message}${f.rule ? ` (${f.rule})` : ""}`)
      : result.output.trim().split("\n");
  return [...lines.slice(0, max), ...(lines.length > max ? ["…"] : [])].map((line) => `  ${line}`).join("\n");
}
