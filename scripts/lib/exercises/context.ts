// The CheckContext a tree is judged with: its root, the latest release, and buf / commands run inside it.
import { join } from "node:path";
import { compareGenerated } from "./generated.js";
import { latestRelease } from "./releases.js";
import { runCommand } from "./shell.js";
import type { BreakingFinding, BreakingRules, CheckContext } from "./types.js";

/** The vendored protos buf.yaml leaves out of the breaking check, left out of the overrides too. */
const IGNORED = ["proto/buf", "proto/grpc"];

/** buf's JSON lines as findings; a line that is not one of them (a usage error) is kept as its text. */
export function parseFindings(output: string): BreakingFinding[] {
  return output
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      try {
        const f = JSON.parse(line) as { type: string; message: string; path: string; start_line: number };
        return { rule: f.type, message: f.message, path: f.path, line: f.start_line };
      } catch {
        return { rule: "", message: line, path: "", line: 0 };
      }
    });
}

export function createCheckContext(root: string, scratch: string): CheckContext {
  const release = latestRelease(root);
  const bufBin = join(root, "node_modules", ".bin", "buf");
  const buf: CheckContext["buf"] = (args) => runCommand(bufBin, args, { cwd: root });
  return {
    root,
    scratch,
    latestRelease: release.path,
    latestReleaseVersion: release.version,
    buf,
    async breakingAgainstRelease(rules?: BreakingRules) {
      const config = rules && {
        version: "v2",
        modules: [{ path: "proto" }],
        breaking: { use: [rules], ignore: IGNORED },
      };
      const args = ["breaking", "--against", release.path, "--error-format", "json"];
      const result = await buf(config ? [...args, "--config", JSON.stringify(config)] : args);
      return { ...result, findings: parseFindings(result.output) };
    },
    run: (command, args, options = {}) =>
      runCommand(command, args, {
        cwd: options.cwd ?? root,
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.env ? { env: options.env } : {}),
      }),
    generatedUpToDate: () => compareGenerated(root, scratch, (out) => buf(["generate", "--output", out])),
  };
}
