// `make up SCALE=N` and `make up-cluster`: several instances of each service, and a NATS cluster in
// place of one server. What up.ts needs to know about them, apart from starting them: which values it accepts
// (checked before anything starts), what each instance is called, and where it listens.
//
// Instance 1 of a service keeps its name and ports; instance k ≥ 2 is `<service>-k` (`order-2`), at the first
// instance's port + 100·(k−1), its /metrics likewise (order-2: 50151 and 9651). `<NAME>_PORT` and
// `<NAME>_METRICS_PORT` override any of them (ORDER_2_PORT=7051). Every instance of a service shares its
// database file, `<DATA_DIR>/<service>.db`: the outbox relay's lease (packages/platform/src/messaging/lease.ts)
// lets one of them publish (Go's Loyalty holds the same lease, go/internal/messaging/lease.go).

/** The most instances of a service up.ts runs: four of each is twenty-four processes, some 2 GB of memory. */
export const MAX_SCALE = 4;
/** Instance k listens at its service's port + PORT_STEP·(k−1). */
export const PORT_STEP = 100;
/** The node counts NATS_NODES accepts: one server, or the three-node cluster (a JetStream quorum survives one loss). */
export const NATS_NODE_COUNTS = [1, 3] as const;
export type NatsNodes = (typeof NATS_NODE_COUNTS)[number];

/** One process of a scaled service: `order` (index 1) or `order-2`. */
export interface Instance {
  /** Its name in logs, the ready table and `make status|kill|start SVC=…`. */
  readonly name: string;
  /** The service it is an instance of, the name it registers under: "order". */
  readonly service: string;
  /** 1 for the first instance. */
  readonly index: number;
}

/** A value of the environment up.ts refuses, said in a sentence, before it starts anything. */
export class SettingError extends Error {
  override readonly name = "SettingError";
}

/** SCALE: how many instances of each service; 1 unless set. */
export function scaleFrom(value: string | undefined): number {
  if (!value) return 1;
  const scale = Number(value);
  if (Number.isInteger(scale) && scale >= 1 && scale <= MAX_SCALE) return scale;
  throw new SettingError(
    `SCALE=${JSON.stringify(value)}: give 1 to ${MAX_SCALE} instances of each service ` +
      `(SCALE=2 runs order and order-2, …; make up-cluster is SCALE=2 NATS_NODES=3)`,
  );
}

/**
 * NATS_NODES: one nats-server (the default) or a cluster of three. The cluster is up.ts's own, so it refuses a
 * NATS_URL of the reader's (which servers would it be?) and the secure mode (the cluster has no TLS config yet).
 */
export function natsNodesFrom(value: string | undefined, context: { natsUrl?: string; secure: boolean }): NatsNodes {
  if (!value || value === "1") return 1;
  if (value !== "3") {
    throw new SettingError(
      `NATS_NODES=${JSON.stringify(value)}: give 1 (one nats-server, the default) or 3 (a three-node JetStream cluster)`,
    );
  }
  if (context.natsUrl) {
    throw new SettingError(
      `NATS_NODES=3 starts a cluster of its own, and NATS_URL=${context.natsUrl} names a server: give either, not both`,
    );
  }
  if (context.secure) {
    throw new SettingError(
      "NATS_NODES=3 with SECURE=1: the cluster has no TLS config yet; run SECURE=1 make up on one nats-server",
    );
  }
  return 3;
}

/**
 * DATABASE: "sqlite" (the default, a file per service) or "postgres" (a PostgreSQL server up.ts starts). With
 * DATABASE_URL, "external": the reader's server, up starts none (DATABASE beside it is refused as ambiguous).
 */
export function databaseFrom(
  value: string | undefined,
  databaseUrl: string | undefined,
): "sqlite" | "postgres" | "external" {
  if (databaseUrl) {
    if (value) {
      throw new SettingError(
        `DATABASE=${value} with DATABASE_URL: DATABASE_URL names the server to use already; give either, not both`,
      );
    }
    return "external";
  }
  if (!value || value === "sqlite") return "sqlite";
  if (value === "postgres") return "postgres";
  throw new SettingError(`DATABASE=${JSON.stringify(value)}: give sqlite (the default) or postgres`);
}

/** The instances of `service`, the first one first: `order`, `order-2`, … */
export function instancesOf(service: string, scale: number): Instance[] {
  return Array.from({ length: scale }, (_, i) => ({
    name: i === 0 ? service : `${service}-${i + 1}`,
    service,
    index: i + 1,
  }));
}

/** Where instance `index` listens by default, given where the first one does. */
export function instancePort(firstPort: number, index: number): number {
  return firstPort + PORT_STEP * (index - 1);
}
