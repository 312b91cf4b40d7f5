// The Go Loyalty service (go/cmd/loyalty) as a test's child process: built once per test process with
// scripts/build-go.sh (Go's build cache makes that cheap when nothing changed), then started, watched,
// killed and restarted by service-instance.ts exactly like a TypeScript service, so that a crash, a failed
// start or the test process's exit leaves nothing behind.
import { LoyaltyService } from "@ftgo/gen/ftgo/loyalty/v1/loyalty_pb.js";
import { createMeshClient, DEFAULT_CALL_POLICY, type MeshClient, type Registry, silentLogger } from "@ftgo/platform";
import { buildGoProgram } from "./go-toolchain.js";
import { type ServiceInstance, startService } from "./service-instance.js";
import type { MeshDatabase } from "./test-database.js";

let built: Promise<string> | undefined;

/**
 * Builds go/cmd/loyalty into go/bin/loyalty, once per test process; resolves with the binary's path.
 * Rejects with the compiler's output when the build fails (and a later call tries again).
 */
export function buildLoyalty(): Promise<string> {
  built ??= buildGoProgram("loyalty").catch((err: unknown) => {
    built = undefined;
    throw err;
  });
  return built;
}

export interface StartLoyaltyOptions {
  /** Its store is `<dataDir>/loyalty.db`. */
  readonly dataDir: string;
  readonly natsUrl: string;
  /** Default: a free one, kept across restart(). */
  readonly port?: number;
  /** FTGO_PARTITIONS; the mesh's. Default 4. */
  readonly partitions?: number;
  /** More environment: LOG_LEVEL, REGISTRY_TTL_MS, SAGA_MODE, … */
  readonly env?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

/**
 * Builds (once) and starts the Go Loyalty service; resolves once its health says SERVING, which it says
 * only when registered and consuming. The instance exposes address, pid, stop() (SIGTERM), kill()
 * (SIGKILL by default) and restart() on the same port and store.
 */
export async function startLoyalty(options: StartLoyaltyOptions): Promise<ServiceInstance> {
  const file = await buildLoyalty();
  return startService({ ...options, name: "loyalty", program: { file } });
}

/**
 * Starts Loyalty beside a process mesh: its nats-server, its partitions, and its engine — `loyalty.db` beside the
 * others in its data dir, or schema `loyalty` of its PostgreSQL server.
 */
export function startLoyaltyBeside(
  mesh: {
    readonly dataDir: string;
    readonly nats: { readonly url: string };
    readonly partitions: number;
    readonly database: Pick<MeshDatabase, "env">;
  },
  env: Readonly<Record<string, string>> = {},
): Promise<ServiceInstance> {
  return startLoyalty({
    dataDir: mesh.dataDir,
    natsUrl: mesh.nats.url,
    partitions: mesh.partitions,
    env: { ...mesh.database.env, ...env },
  });
}

/** A TypeScript mesh client of Loyalty, as the gateway makes one: it finds the instances in `registry`. */
export function loyaltyMeshClient(registry: Registry): MeshClient<typeof LoyaltyService> {
  return createMeshClient(LoyaltyService, {
    target: "loyalty",
    registry,
    policy: DEFAULT_CALL_POLICY,
    log: silentLogger(),
  });
}
