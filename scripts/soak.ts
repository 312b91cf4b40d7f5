// `npm run soak -- --minutes N`: steady orders through the gateway at half the measured capacity while a
// bounded chaos schedule kills and restarts participants, restarts nats-server, injects latency and errors and
// floods the gateway; then every saga settles and the audit judges the end state (docs/operations.md, "Soak").
// Exits 1 when a check fails, 130 on Ctrl-C; stops every process it started either way.
import { parseArgs } from "node:util";
import { runSoak } from "@ftgo/harness/soak-run.js";
import { formatSoakSummary } from "@ftgo/harness/soak-summary.js";
import { SAGA_MODES, type SagaMode } from "@ftgo/platform";
import { runCli, UsageError } from "./lib/cli.js";

const USAGE = `usage: npm run soak -- [--minutes N] [--rate R] [--saga-mode choreography|orchestration] [--settle-seconds S]
  --minutes N        how long the load and the chaos run (default 2)
  --rate R           orders per second (default: half the capacity measured in a 5 s closed loop)
  --saga-mode M      SAGA_MODE of every service (default choreography)
  --settle-seconds S how long the sagas may take to settle after the load (default 180)`;

await runCli(
  async () => {
    const { values } = parseArgs({
      options: {
        minutes: { type: "string", default: "2" },
        rate: { type: "string" },
        "saga-mode": { type: "string", default: "choreography" },
        "settle-seconds": { type: "string", default: "180" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) throw new UsageError("");
    const minutes = positive("--minutes", values.minutes);
    const rate = values.rate === undefined ? undefined : positive("--rate", values.rate);
    const settleSeconds = positive("--settle-seconds", values["settle-seconds"]);
    const mode = values["saga-mode"] as SagaMode;
    if (!SAGA_MODES.includes(mode)) throw new UsageError(`--saga-mode ${mode}? ${SAGA_MODES.join(" or ")}`);

    const interrupted = new AbortController();
    const onSignal = () => interrupted.abort(new Error("interrupted"));
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    const started = Date.now();
    const log = (line: string) => {
      const s = Math.round((Date.now() - started) / 1000);
      console.log(`soak ${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}  ${line}`);
    };
    try {
      const result = await runSoak({
        minutes,
        rate,
        mode,
        settleTimeoutMs: settleSeconds * 1000,
        log,
        signal: interrupted.signal,
      });
      console.log(formatSoakSummary(result));
      if (result.unsettled) console.log(`still open when the settle timeout passed:\n${result.unsettled}`);
      if (result.checks.some((check) => !check.ok)) process.exitCode = 1;
    } catch (err) {
      if (!interrupted.signal.aborted) throw err;
      console.error("soak: interrupted; every process it started has been stopped");
      process.exitCode = 130;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  },
  { name: "soak", usage: USAGE },
);

function positive(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} ${value}? a positive number`);
  return n;
}
