// Prints the line CI reads, "N passed, N failed, N skipped", from vitest's JSON report, and exits
// non-zero when anything failed or nothing ran. Usage: node scripts/test-summary.mjs <report.json>
import { readFileSync } from "node:fs";
import { relative } from "node:path";

const file = process.argv[2] ?? ".tmp/vitest-report.json";
let report;
try {
  report = JSON.parse(readFileSync(file, "utf8"));
} catch (err) {
  console.error(`no test report at ${file} (${err.message}): the tests did not run, see above`);
  console.log("0 passed, 0 failed, 0 skipped");
  process.exit(1);
}

// A test file that fails to load (a syntax error, a throwing import) has no failed tests of its own.
const brokenFiles = report.testResults.filter(
  (file) => file.status === "failed" && !file.assertionResults.some((test) => test.status === "failed"),
);
const passed = report.numPassedTests;
const failed = report.numFailedTests + brokenFiles.length;
const skipped = report.numPendingTests + report.numTodoTests;

// Which tests failed, and how, again at the end: a CI log shown by its tail still names them.
const ansi = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");
for (const file of report.testResults) {
  for (const test of file.assertionResults.filter((t) => t.status === "failed")) {
    const why = (test.failureMessages[0] ?? "").replace(ansi, "").split("\n").slice(0, 12).join("\n    ");
    console.error(`failed: ${relative(process.cwd(), file.name)} > ${test.fullName}\n    ${why.slice(0, 1500)}`);
  }
}
for (const { name, message } of brokenFiles) console.error(`test file failed to run: ${name}\n  ${message}`);
if (!report.success && failed === 0) console.error("vitest reported errors outside any test: see above");
if (passed + failed === 0) console.error("no tests ran");
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(report.success && failed === 0 && passed > 0 ? 0 : 1);
