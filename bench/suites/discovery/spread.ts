import { connectAdmin } from "../mesh/admin.js";
import type { MeshMenuClient } from "../mesh/clients.js";

/*
 * Proof that an arm really spreads its calls over both servers, so that the two arms are compared on the
 * same two servers and neither on one: each server counts the GetMenu calls that reach it (a fault of 1 ms,
 * the least a fault may do, and only during the check), the arm makes a batch of calls, and each server must have seen a fair share.
 * Done once per arm, before the load, with the counting fault cleared afterwards.
 */

/** Calls per check: round-robin gives each server half; less than a quarter means it is not balancing. */
const CALLS = 200;
const FAIR_SHARE = 0.25;

/** Makes CALLS calls through `client` and returns how many reached each of `servers`; throws if one saw too few. */
export async function checkSpread(what: string, client: MeshMenuClient, servers: readonly string[]): Promise<number[]> {
  const admins = servers.map((address) => connectAdmin(address));
  try {
    await Promise.all(admins.map((admin) => admin.setFault({ latencyMs: 1, probability: 1 })));
    for (let i = 0; i < CALLS; i++) await client.getMenu();
    const seen = await Promise.all(admins.map((admin) => admin.appliedCount()));
    const split = servers.map((address, i) => `${seen[i]} to ${address}`).join(", ");
    if (seen.reduce((a, b) => a + b, 0) !== CALLS || seen.some((count) => count < CALLS * FAIR_SHARE)) {
      throw new Error(`${what} does not spread its calls over both servers: of ${CALLS} calls, ${split}`);
    }
    return seen;
  } finally {
    await Promise.all(admins.map((admin) => admin.clearFaults())).finally(() => {
      for (const admin of admins) admin.close();
    });
  }
}
