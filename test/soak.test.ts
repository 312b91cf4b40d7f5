// CI's soak: docs/operations.md's command (test/doc-claims.ts), run as a reader would run it, for 2 minutes. A
// mesh under steady orders through the gateway while the chaos schedule kills and restarts every participant,
// restarts nats-server, injects latency and errors and floods the gateway; it must exit 0 with a clean audit,
// a non-trivial number of orders, and every kind of chaos event having happened.
import { runShell } from "@ftgo/harness/docs-shell.js";
import { CHAOS_KINDS } from "@ftgo/harness/soak-chaos.js";
import { CLEAN } from "@ftgo/harness/soak-summary.js";
import { describe, expect, it } from "vitest";
import { commandsOf, shBlock } from "./doc-blocks.js";
import { claimsOf } from "./doc-claims.js";

const [claim] = claimsOf("test/soak.test.ts");
if (!claim) throw new Error("test/doc-claims.ts gives test/soak.test.ts no block to run");
const [command] = commandsOf(shBlock(claim.page, claim.marker));

describe("npm run soak", () => {
  it(
    "keeps every order right through 2 minutes of kills, broker restarts, faults and a flood",
    async () => {
      expect(command?.line).toBe("npm run soak -- --minutes 2");
      const { code, stdout, stderr } = await runShell(command?.line ?? "", { timeoutMs: 7 * 60_000 });
      const output = `${stdout}\n${stderr}`;
      expect(code, output).toBe(0);
      expect(stdout, output).toMatch(CLEAN);
      const placed = Number(/orders placed: (\d+)/.exec(stdout)?.[1]);
      expect(placed, output).toBeGreaterThanOrEqual(200);
      for (const kind of CHAOS_KINDS) {
        const times = Number(new RegExp(`chaos events: .*\\b${kind} (\\d+)`).exec(stdout)?.[1]);
        expect(times, `${kind} events\n${output}`).toBeGreaterThanOrEqual(1);
      }
      expect(stdout).toMatch(/gateway: \d+ bad-token\/unknown-route requests .*\d+× 429/);
    },
    8 * 60_000,
  );
});
