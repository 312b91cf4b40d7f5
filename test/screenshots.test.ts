// `npm run screenshots` as the observability page gives it: from a real `make up` (Jaeger, Prometheus),
// headless Chromium writes the three pictures the README and the pages show. Run here into a temp folder, and each checked to be a
// PNG of the size the script photographs at, with more in it than a blank page.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runShell } from "@ftgo/harness/docs-shell.js";
import { afterAll, describe, expect, it } from "vitest";
import { commandsOf, shBlock } from "./doc-blocks.js";
import { claimsOf } from "./doc-claims.js";

const out = mkdtempSync(join(tmpdir(), "ftgo-screenshots-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Width and height from a PNG's IHDR chunk; throws if `bytes` is not a PNG. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!bytes.subarray(0, 8).equals(signature) || bytes.toString("latin1", 12, 16) !== "IHDR") {
    throw new Error("not a PNG");
  }
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe("npm run screenshots", () => {
  it("photographs the dashboard, one order's trace and Prometheus's graph from a real make up", {
    timeout: 300_000,
  }, async () => {
    const [claim] = claimsOf("test/screenshots.test.ts");
    const [command] = commandsOf(shBlock(claim?.page ?? "", claim?.marker ?? ""));
    const run = await runShell(command?.line ?? "", { timeoutMs: 280_000, env: { SCREENSHOTS_DIR: out } });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const pictures = ["dashboard.png", "order-trace.png", "prometheus-graph.png"];
    expect(run.stderr).toContain(`wrote ${pictures.map((name) => join(out, name)).join(", ")}`);
    for (const name of pictures) {
      const bytes = readFileSync(join(out, name));
      const { width, height } = pngSize(bytes);
      expect(width, name).toBeGreaterThanOrEqual(1400); // the viewport; a page a little wider scrolls
      expect(height, name).toBeGreaterThan(500);
      expect(bytes.length, `${name}: a blank page compresses to a few KB`).toBeGreaterThan(30_000);
    }
  });
});
