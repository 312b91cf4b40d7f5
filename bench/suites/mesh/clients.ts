import type { CallOptions } from "@connectrpc/connect";
import { type GetMenuResponse, KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import {
  type CallPolicy,
  createGrpcClient,
  createGrpcTransport,
  createMeshClient,
  DEFAULT_CALL_POLICY,
  type InstanceState,
  type Registry,
  silentLogger,
} from "@ftgo/platform";
import type { MenuClient } from "../unary/contenders.js";
import { MENU_REQUEST } from "../unary/menu.js";

/*
 * The two ways the suite calls GetMenu: the plain platform client on one transport (the baseline,
 * the unary suite's (a) client), and the mesh client, which finds its instances in a registry and
 * puts every call through the target's policy. Both send the unary suite's one request.
 */

/** The target's name in the registry. */
export const TARGET = "kitchen";

/** A mesh client as the suite drives it: the menu call, plus the view of its instances and breakers. */
export interface MeshMenuClient extends MenuClient {
  /** Options as for any Connect client: the rejection phases hold calls open with a long deadline and a signal. */
  getMenu(options?: CallOptions): Promise<GetMenuResponse>;
  instances(): InstanceState[];
}

/**
 * The default policy (2 s deadline, breaker after 5 failures in a row, 3 attempts) with a bulkhead of
 * at least `concurrency` slots: the default 32 + 16 would reject the load generator's 64 calls in
 * flight, and a bulkhead that queues calls measures its limit, not its cost.
 */
export function hopPolicy(concurrency: number): CallPolicy {
  const { limit, queue } = DEFAULT_CALL_POLICY.bulkhead;
  return { ...DEFAULT_CALL_POLICY, bulkhead: { limit: Math.max(limit, concurrency), queue } };
}

/** (b') The baseline: one transport to `address`, a typed client, nothing in between. */
export function connectBare(address: string): MenuClient {
  const transport = createGrpcTransport({ address });
  const client = createGrpcClient(KitchenService, transport);
  return { getMenu: () => client.getMenu(MENU_REQUEST), close: () => transport.close() };
}

/** (m) The mesh hop: the target's instances from `registry`, every call through `policy`. */
export function connectMesh(registry: Registry, policy: CallPolicy): MeshMenuClient {
  const client = createMeshClient(KitchenService, { target: TARGET, registry, policy, log: silentLogger() });
  return {
    getMenu: (options) => client.getMenu(MENU_REQUEST, options),
    instances: () => client.instances(),
    close: () => client.close(),
  };
}
