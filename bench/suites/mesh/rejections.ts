import { setMaxListeners } from "node:events";
import { Code } from "@connectrpc/connect";
import { type CallPolicy, DEFAULT_CALL_POLICY } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { checkMenu } from "../unary/menu.js";
import { connectAdmin } from "./admin.js";
import { connectBare, connectMesh } from "./clients.js";
import { rejectedWith, type SerialResult, timeSerially } from "./serial.js";
import type { KitchenFleet } from "./servers.js";

/*
 * What a caller waits for a "no": an open breaker (r1) and a full bulkhead (r2) both answer without
 * sending anything, so their latency is the mesh client's own work. Each is timed one call at a time,
 * beside two references timed the same way, a plain call (b') and a mesh call (m) that do reach the
 * server. The server's fault counter proves that no rejected call reached it.
 */

/** Rejections timed per phase. */
const REJECTIONS = 20_000;
/** Calls timed per reference row: each is a real round trip, over 10× slower than a rejection. */
const REFERENCE_CALLS = 2_000;

/** (b') and (m) one call at a time, against the fleet's first server. */
export async function measureReferenceCalls(fleet: KitchenFleet, policy: CallPolicy): Promise<SerialResult[]> {
  const rows = [
    { name: "bare-serial", label: "(b') platform client call", connect: () => connectBare(fleet.address) },
    { name: "mesh-serial", label: "(m) mesh client call", connect: () => connectMesh(fleet.staticRegistry, policy) },
  ];
  const results: SerialResult[] = [];
  for (const { name, label, connect } of rows) {
    const client = connect();
    try {
      checkMenu(await client.getMenu());
      results.push({ name, label, ...(await timeSerially(() => client.getMenu(), REFERENCE_CALLS)) });
    } finally {
      client.close();
    }
  }
  return results;
}

/**
 * The default policy, its breaker's pause before a trial call raised from 5 s to 60 s: the rejections
 * must all meet the open breaker, not a trial call halfway through.
 */
const OPEN_BREAKER_POLICY: CallPolicy = {
  ...DEFAULT_CALL_POLICY,
  breaker: { ...DEFAULT_CALL_POLICY.breaker, halfOpenAfterMs: 60_000 },
};

/** Calls made to open the breaker before giving up: each fails up to 3 attempts, 5 failures open it. */
const CALLS_TO_OPEN = 20;

/** (r1) The server fails every GetMenu with UNAVAILABLE until the breaker opens; then the breaker answers. */
export async function measureOpenBreaker(fleet: KitchenFleet): Promise<SerialResult> {
  const admin = connectAdmin(fleet.address);
  const client = connectMesh(fleet.staticRegistry, OPEN_BREAKER_POLICY);
  const breaker = () => client.instances()[0]?.breaker;
  try {
    checkMenu(await client.getMenu());
    await admin.setFault({ statusCode: Code.Unavailable });
    for (let i = 0; i < CALLS_TO_OPEN && breaker() !== "open"; i++) await client.getMenu().catch(() => {});
    if (breaker() !== "open") throw new Error(`the breaker is ${breaker()} after ${CALLS_TO_OPEN} failing calls`);

    const before = await admin.appliedCount();
    const timing = await timeSerially(
      rejectedWith(() => client.getMenu(), Code.Unavailable, "circuit open"),
      REJECTIONS,
    );
    const serverCalls = (await admin.appliedCount()) - before;
    if (serverCalls !== 0) throw new Error(`${serverCalls} GetMenu calls reached the server through an open breaker`);
    if (breaker() !== "open") throw new Error(`the breaker was ${breaker()} by the end of the timed rejections`);
    return { name: "open-breaker", label: "(r1) open breaker → UNAVAILABLE", ...timing, serverCalls };
  } finally {
    client.close();
    try {
      await admin.clearFaults();
    } finally {
      admin.close();
    }
  }
}

/** How long the calls that fill the bulkhead may hang: far beyond the phase, which releases them itself. */
const HOLD_MS = 60_000;

/**
 * (r2) The default bulkhead (32 in flight + 16 waiting), filled with calls the server holds (a hang
 * fault); then every further call is turned away. Releasing the held calls (their signal) cancels them
 * on the server too, and a last call shows that the bulkhead lets calls through again.
 */
export async function measureFullBulkhead(fleet: KitchenFleet): Promise<SerialResult> {
  const { limit, queue } = DEFAULT_CALL_POLICY.bulkhead;
  const admin = connectAdmin(fleet.address);
  const client = connectMesh(fleet.staticRegistry, DEFAULT_CALL_POLICY);
  const release = new AbortController();
  // Each held call listens to it at two layers (deadline, gRPC call): 96 listeners, none of them a leak.
  setMaxListeners(2 * (limit + queue), release.signal);
  const held: Promise<unknown>[] = [];
  const releaseHeld = async () => {
    release.abort();
    await Promise.allSettled(held);
  };
  try {
    checkMenu(await client.getMenu());
    await admin.setFault({ hang: true });
    for (let i = 0; i < limit + queue; i++) {
      // Each ends as CANCELLED when released; caught now, so that none counts as an unhandled rejection.
      held.push(client.getMenu({ timeoutMs: HOLD_MS, signal: release.signal }).catch(() => {}));
    }
    // The queued calls are visible only as the rejections that follow; the held ones, on the server.
    await waitFor(async () => (await admin.appliedCount()) === limit, {
      message: () => `the server to hold ${limit} GetMenu calls`,
    });

    const timing = await timeSerially(
      rejectedWith(() => client.getMenu(), Code.ResourceExhausted, "too many calls"),
      REJECTIONS,
    );
    const serverCalls = (await admin.appliedCount()) - limit;
    if (serverCalls !== 0) throw new Error(`${serverCalls} GetMenu calls reached the server past a full bulkhead`);

    await releaseHeld();
    await admin.clearFaults();
    checkMenu(await client.getMenu());
    const outstanding = client.instances()[0]?.outstanding;
    if (outstanding !== 0) throw new Error(`${outstanding} calls still outstanding after the release`);
    return {
      name: "full-bulkhead",
      label: `(r2) full bulkhead (${limit} + ${queue}) → RESOURCE_EXHAUSTED`,
      ...timing,
      serverCalls,
    };
  } finally {
    await releaseHeld();
    client.close();
    try {
      await admin.clearFaults();
    } finally {
      admin.close();
    }
  }
}
