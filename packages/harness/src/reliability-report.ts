// Turns vitest's JSON report into the reliability table: per row, how many of the tests that prove it passed.
// A row whose tests did not all pass says so in its count; a row with no tests says "not covered yet".
import type { ReliabilityProof, ReliabilityRow } from "./reliability-rows.js";

/** The part of vitest's JSON report (`--reporter=json`) the table reads. */
export interface VitestJsonReport {
  readonly testResults: readonly {
    readonly name: string;
    readonly assertionResults: readonly { readonly fullName: string; readonly status: string }[];
  }[];
}

export interface RowResult {
  readonly row: ReliabilityRow;
  readonly passed: number;
  readonly total: number;
}

export const NOT_COVERED = "not covered yet";

function proves(proof: ReliabilityProof, file: string, fullName: string): boolean {
  // A parametrised title as run has its placeholders filled in: `only` is then what picks the tests.
  return file.endsWith(`/${proof.file}`) && fullName.includes(proof.only ?? proof.title);
}

/** Counts each row's tests in `report`: a test proving a row twice (two proofs) counts once. */
export function countRows(rows: readonly ReliabilityRow[], report: VitestJsonReport): RowResult[] {
  return rows.map((row) => {
    let passed = 0;
    let total = 0;
    for (const { name, assertionResults } of report.testResults) {
      for (const test of assertionResults) {
        if (!row.proofs.some((proof) => proves(proof, name, test.fullName))) continue;
        if (test.status === "skipped" || test.status === "pending" || test.status === "todo") continue;
        total += 1;
        if (test.status === "passed") passed += 1;
      }
    }
    return { row, passed, total };
  });
}

/** "N of N" for a row that has tests, and says when its tests were not found in the report. */
export function countCell({ row, passed, total }: RowResult): string {
  if (row.proofs.length === 0) return NOT_COVERED;
  if (total === 0) return "0 of 0 (did not run)";
  return `${passed} of ${total}`;
}

function escapeCell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** The table as Markdown; `link` turns a test file into the link the page shows. */
export function markdownTable(results: readonly RowResult[], link: (file: string) => string): string {
  const lines = [
    "| Promise | Load held | Faults injected | Bad inputs tried | Passed | Proved by |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const result of results) {
    const { promise, load, faults, badInputs, proofs } = result.row;
    const files = [...new Set(proofs.map((proof) => proof.file))].map(link).join(", ") || "—";
    const cells = [promise, load, faults, badInputs, countCell(result)].map(escapeCell);
    lines.push(`| ${[...cells, files].join(" | ")} |`);
  }
  return lines.join("\n");
}

/** The promises of the table on a page, in order: the first cell of each body row. */
export function tablePromises(markdown: string): string[] {
  return markdown
    .split("\n")
    .filter((line) => line.startsWith("| ") && !line.startsWith("| Promise |") && !line.startsWith("| ---"))
    .map((line) => (line.slice(2).split(" | ")[0] ?? "").replaceAll("\\|", "|"));
}
