// Cuts a release of the contract: the protos as they are now, kept as a buf image in proto/releases/, so that
// what was promised to clients stays in the repository after the protos move on. CI's gate compares every
// later commit with the latest release (scripts/check-breaking.ts).
//
//   npm run contracts:release -- <MAJOR.MINOR.PATCH>
//
// Semantic versioning decides the number, and this script holds it to that: a release must be higher than the
// latest one (a release is never rewritten), and a MINOR or PATCH release must not break the latest release
// under buf's FILE rules, since its clients were promised compatibility. Only a new MAJOR may break, the way
// the contract would drop a package it deprecated (ftgo.order.v1, once v2 has replaced it).
import { statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runBuf } from "./lib/buf.js";
import { runCli, UsageError } from "./lib/cli.js";
import {
  compareVersions,
  formatVersion,
  latestRelease,
  parseVersion,
  type Release,
  releaseFile,
  type Version,
} from "./lib/releases.js";

const USAGE = `usage:
  npm run contracts:release -- <MAJOR.MINOR.PATCH>
Writes proto/releases/v<version>.binpb: the protos as they are now (buf build --exclude-source-info).`;

/**
 * A release the script will not cut. Printed as it is, over several lines: it quotes buf's findings, paths and
 * messages about the repository's own protos (the one-line, escaped error of scripts/lib/cli.ts would fold them).
 */
class Refusal extends Error {}

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function main(args: string[]): void {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { help: { type: "boolean", short: "h" } },
  });
  if (values.help) throw new UsageError("");
  if (positionals.length !== 1) throw new UsageError("give exactly one version, e.g. 1.1.0");
  const version = versionOf(positionals[0] as string);
  const latest = latestRelease(root);
  if (latest) refuseUnlessAfter(version, latest);
  const file = releaseFile(version);
  const build = runBuf(root, ["build", "--exclude-source-info", "-o", file]);
  if (!build.ok) throw new Refusal(`buf build failed, nothing was written:\n${build.output}`);
  console.log(
    `wrote ${file} (${statSync(join(root, file)).size} bytes): release ${formatVersion(version)} of the contract.`,
  );
  console.log("Commit it: from now on CI's breaking-change gate compares every commit with it.");
}

function versionOf(text: string): Version {
  const version = parseVersion(text);
  if (version) return version;
  if (text.startsWith("v") && parseVersion(text.slice(1))) {
    throw new UsageError(`"${text}": write the version without the v, e.g. ${text.slice(1)}`);
  }
  throw new UsageError(`"${text}" is not a version: write MAJOR.MINOR.PATCH, three numbers, e.g. 1.1.0`);
}

/** Throws unless `version` may follow `latest`: higher, and compatible with it unless it is a new MAJOR. */
function refuseUnlessAfter(version: Version, latest: Release): void {
  const wanted = formatVersion(version);
  const released = formatVersion(latest.version);
  if (compareVersions(version, latest.version) <= 0) {
    throw new Refusal(
      `refused: ${wanted} is not higher than the latest release, ${released} (${latest.file}). ` +
        "A release is never rewritten; pick the next version.",
    );
  }
  if (version.major > latest.version.major) return;
  const breaking = runBuf(root, ["breaking", "--against", latest.file]);
  if (breaking.ok) return;
  const kind = version.minor > latest.version.minor ? "MINOR" : "PATCH";
  throw new Refusal(
    `refused: ${wanted} is a ${kind} release, but the protos break release ${released} ` +
      `(buf breaking --against ${latest.file}):\n${breaking.output}\n` +
      `A ${kind} release promises old clients keep working. Undo the break (add beside, deprecate rather than ` +
      `delete), or, if it is meant, release it as ${latest.version.major + 1}.0.0.`,
  );
}

await runCli(
  () => {
    try {
      main(process.argv.slice(2));
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      console.error(`contracts:release: ${err.message}`);
      process.exitCode = 1;
    }
  },
  { name: "contracts:release", usage: USAGE },
);
