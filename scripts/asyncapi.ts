// Writes the messaging contract: docs/asyncapi.yaml, the AsyncAPI 3.0 document of every channel, built
// from proto/ (payload schemas, descriptions) and the services (who sends, who receives). Like gen/, it
// is generated and committed, and CI fails when it is not what this script writes.
//
//   npm run asyncapi                 writes docs/asyncapi.yaml
//   npm run asyncapi -- --check      exits 1, saying what to run, when docs/asyncapi.yaml is out of date
//   npm run asyncapi -- --out FILE   writes (or checks) FILE instead
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { parseArgs } from "node:util";
import { ASYNCAPI_FILE, messagingContractYaml } from "@ftgo/harness/asyncapi-document.js";
import { runCli, UsageError } from "./lib/cli.js";

const USAGE = `usage:
  npm run asyncapi [-- --out <file>]
  npm run asyncapi -- --check [--out <file>]`;

function main(args: string[]): void {
  let values: { check?: boolean; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: { check: { type: "boolean" }, out: { type: "string" }, help: { type: "boolean", short: "h" } },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help) throw new UsageError("");
  const file = values.out ?? ASYNCAPI_FILE;
  const shown = relative(process.cwd(), file) || file;
  const yaml = messagingContractYaml();
  if (!values.check) {
    writeFileSync(file, yaml);
    console.log(`✔ wrote ${shown}`);
    return;
  }
  if (!existsSync(file)) throw new Error(`${shown} does not exist: run \`npm run asyncapi\` and commit it`);
  if (readFileSync(file, "utf8") !== yaml) {
    throw new Error(
      `${shown} is not what the contracts say (proto/ or a service's subscriptions changed): run \`npm run asyncapi\` and commit the result`,
    );
  }
  console.log(`✔ ${shown} matches the contracts`);
}

await runCli(() => main(process.argv.slice(2)), {
  name: "asyncapi",
  usage: USAGE,
});
