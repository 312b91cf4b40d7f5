import { waitFor } from "@ftgo/platform/testing";
import type { Measurement } from "../../lib/suite.js";
import { type BarePipeline, startBarePipeline } from "./bare/pipeline.js";
import { driveSagas, type SagaDrive } from "./drive.js";
import { measured } from "./mesh-round.js";
import { ALONE_ORDERS, type SagaSuiteSettings, WARM_UP_ORDERS } from "./settings.js";

export interface BareRound {
  /** The closed loop at full load: the same orders and in-flight as the platform's. */
  readonly full: Measurement;
  /** One order at a time: create → OrderApproved. */
  readonly alone: Measurement;
}

/** A fresh bare pipeline (its own nats-server and files): a warm-up, full load, then one order at a time. */
export async function measureBare(settings: SagaSuiteSettings): Promise<BareRound> {
  const bare = await startBarePipeline();
  try {
    await settled(bare, await driveSagas(bare.nc, bare.target, { orders: WARM_UP_ORDERS, inFlight: WARM_UP_ORDERS }));
    const full = await settled(bare, await driveSagas(bare.nc, bare.target, settings));
    const alone = await settled(bare, await driveSagas(bare.nc, bare.target, { orders: ALONE_ORDERS, inFlight: 1 }));
    return { full, alone };
  } finally {
    await bare.stop();
  }
}

/** Until every participant has every order approved; then the audit (exactly once, to the end) must pass. */
async function settled(bare: BarePipeline, run: SagaDrive): Promise<Measurement> {
  await waitFor(() => bare.isSettled(run.orderIds), {
    timeoutMs: 30_000,
    intervalMs: 20,
    message: "every bare participant to reach the end of the happy path for every order",
  });
  const seconds = Number(process.hrtime.bigint() - run.startedAt) / 1e9;
  const violations = bare.audit(run.orderIds);
  if (violations.length > 0) {
    throw new Error(`the bare pipeline's audit failed; its figures measure nothing:\n  ${violations.join("\n  ")}`);
  }
  return measured(run, seconds);
}
