// Headless Chromium for the tests and the screenshot script: Debian's `chromium` (scripts/setup.sh installs it),
// driven by playwright-core, which downloads no browser of its own. A machine without it fails the test that
// needs it, saying how to get it, rather than skipping.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";

/** Where the tests leave their screenshots: .tmp/artifacts/<suite>/, kept after the run (git ignores .tmp). */
export function artifactsDir(suite: string): string {
  const dir = fileURLToPath(new URL(`../../../.tmp/artifacts/${suite}/`, import.meta.url));
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function artifactPath(suite: string, name: string): string {
  return join(artifactsDir(suite), name);
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: \`scripts/setup.sh --with-test-tools\` installs it (or set CHROMIUM_BIN)`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true });
}
