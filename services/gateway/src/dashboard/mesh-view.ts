// The mesh as the dashboard draws it, gathered from the mesh's own APIs only: the registry lists the
// instances, each instance answers for itself (gRPC health, AdminService stats and faults), one instance
// per service answers for its service's dead letters. The gateway is on the picture too: it is a caller,
// with breakers of its own.
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BreakerState,
  type DeadLetter,
  type Fault,
  type GetServerStatsResponse,
  type TargetStats,
} from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import { HealthCheckResponse_ServingStatus } from "@ftgo/gen/grpc/health/v1/health_pb.js";
import { GO_SERVICES, type MeshClientStats, type ServiceInstance } from "@ftgo/platform";
import type { GatewayDeps } from "../context.js";
import { codeName } from "../errors.js";
import { type AdminClients, addressOf } from "./admin-clients.js";
import { methodsOf } from "./methods.js";
import { isoOf } from "./order-history.js";
import type {
  BreakerStateName,
  DeadLetterView,
  FaultView,
  InstanceStats,
  InstanceView,
  LinkView,
  ServiceView,
  TargetView,
} from "./view.js";

/** The services of the picture, in the order they are drawn: the registry's, then the gateway. */
export interface MeshPicture {
  readonly services: readonly ServiceView[];
  readonly links: readonly LinkView[];
  readonly saga: { readonly mode: "choreography" | "orchestration" | "unknown" };
}

const GO_NAMES: ReadonlySet<string> = new Set(GO_SERVICES.map((service) => service.name));

/** Reads the whole mesh once: every registered instance of every backend, asked in parallel. */
export async function gatherMesh(
  deps: GatewayDeps,
  clients: AdminClients,
  backends: readonly string[],
): Promise<MeshPicture> {
  const listed = await Promise.all(backends.map(async (name) => [name, await deps.registry.lookup(name)] as const));
  clients.keepOnly(listed.flatMap(([, instances]) => instances));
  const services = await Promise.all(
    listed.map(async ([name, instances]): Promise<ServiceView> => {
      const [views, deadLetters] = await Promise.all([
        Promise.all(instances.map((instance) => instanceView(clients, instance))),
        deadLettersOf(clients, instances),
      ]);
      return {
        name,
        language: GO_NAMES.has(name) ? "go" : "typescript",
        instances: views.map((view) => ({ ...view, deadLetters })),
        methods: methodsOf(name),
      };
    }),
  );
  services.push(gatewayView(deps, backends));
  const links = linksOf(services);
  return { services, links, saga: { mode: sagaModeOf(services) } };
}

async function instanceView(clients: AdminClients, instance: ServiceInstance): Promise<InstanceView> {
  const { admin, health } = clients.of(instance);
  const [serving, stats, faults] = await Promise.allSettled([
    health.check({ service: "" }),
    admin.getServerStats({}),
    admin.listFaults({}),
  ]);
  return {
    instanceId: instance.id,
    address: addressOf(instance),
    health:
      serving.status === "fulfilled"
        ? serving.value.status === HealthCheckResponse_ServingStatus.SERVING
          ? "SERVING"
          : "NOT_SERVING"
        : "UNREACHABLE",
    stats: stats.status === "fulfilled" ? statsView(stats.value) : null,
    statsError: stats.status === "rejected" ? whyNot(stats.reason) : null,
    faults: faults.status === "fulfilled" ? faults.value.faults.map(faultView) : [],
    deadLetters: [],
  };
}

/** A service's dead letters, asked of its instances in turn until one answers; none if none does. */
async function deadLettersOf(clients: AdminClients, instances: readonly ServiceInstance[]): Promise<DeadLetterView[]> {
  for (const instance of instances) {
    try {
      const { deadLetters } = await clients.of(instance).admin.listDeadLetters({});
      return deadLetters.map((letter) => deadLetterView(instance.service, letter));
    } catch {
      // the next instance may answer; a service without AdminService has nothing to show
    }
  }
  return [];
}

/** The gateway calls the services too: its own breakers and bulkheads, read from its clients directly. */
function gatewayView(deps: GatewayDeps, backends: readonly string[]): ServiceView {
  const clients = deps.backends as unknown as Record<string, { stats(): MeshClientStats }>;
  const targets = backends.flatMap((name) => (clients[name] ? [clientTargetView(clients[name].stats())] : []));
  return {
    name: "gateway",
    language: "typescript",
    instances: [
      {
        instanceId: "gateway",
        address: `${deps.config.host}:${deps.config.port}`,
        health: "SERVING",
        stats: { targets, outbox: null, consumers: [] },
        statsError: null,
        faults: [],
        deadLetters: [],
      },
    ],
    methods: [],
  };
}

function statsView(stats: GetServerStatsResponse): InstanceStats {
  return {
    targets: stats.targets.map(targetView),
    outbox: stats.outbox
      ? {
          pendingRows: Number(stats.outbox.pendingRows),
          oldestPendingMs: Number(stats.outbox.oldestPendingMs),
          published: Number(stats.outbox.published),
        }
      : null,
    consumers: stats.consumers.map((consumer) => ({
      channel: consumer.channel,
      consumed: Number(consumer.consumed),
      redelivered: Number(consumer.redelivered),
      deadLettered: Number(consumer.deadLettered),
    })),
  };
}

const BREAKER_NAMES: Readonly<Record<BreakerState, BreakerStateName>> = {
  [BreakerState.UNSPECIFIED]: "unknown",
  [BreakerState.CLOSED]: "closed",
  [BreakerState.HALF_OPEN]: "half-open",
  [BreakerState.OPEN]: "open",
};

function targetView(target: TargetStats): TargetView {
  const policy = target.policy;
  return {
    target: target.target,
    breakers: target.breakers.map((breaker) => ({
      instanceId: breaker.instanceId,
      state: BREAKER_NAMES[breaker.state] ?? "unknown",
    })),
    bulkhead: {
      inFlight: target.bulkheadInFlight,
      capacity: target.bulkheadCapacity,
      queued: target.bulkheadQueued,
      queueCapacity: target.bulkheadQueueCapacity,
    },
    retries: Number(target.retries),
    policy: {
      deadlineMs: policy?.deadlineMs ?? 0,
      maxAttempts: policy?.maxAttempts ?? 0,
      breakerThreshold: policy?.breakerThreshold ?? 0,
      breakerHalfOpenAfterMs: policy?.breakerHalfOpenAfterMs ?? 0,
      fallbacks: { ...policy?.fallbacks },
    },
  };
}

function clientTargetView(stats: MeshClientStats): TargetView {
  const { policy } = stats;
  return {
    target: stats.target,
    breakers: stats.instances.map((instance) => ({ instanceId: instance.id, state: instance.breaker })),
    bulkhead: {
      inFlight: stats.bulkhead.inFlight,
      capacity: stats.bulkhead.limit,
      queued: stats.bulkhead.queued,
      queueCapacity: stats.bulkhead.queue,
    },
    retries: stats.retries,
    policy: {
      deadlineMs: policy.timeoutMs,
      maxAttempts: policy.retry.attempts,
      breakerThreshold: policy.breaker.kind === "consecutive" ? policy.breaker.failures : 0,
      breakerHalfOpenAfterMs: policy.breaker.halfOpenAfterMs,
      fallbacks: { ...stats.fallbacks },
    },
  };
}

function faultView(fault: Fault): FaultView {
  return {
    method: fault.method,
    latencyMs: fault.latencyMs,
    statusCode: fault.statusCode,
    statusName: fault.statusCode === 0 ? "" : statusName(fault.statusCode),
    probability: fault.probability ?? 1,
    hang: fault.hang,
    appliedCount: Number(fault.appliedCount),
  };
}

function deadLetterView(service: string, letter: DeadLetter): DeadLetterView {
  return {
    seq: Number(letter.seq),
    service,
    originalSubject: letter.originalSubject,
    type: letter.type,
    correlationId: letter.correlationId,
    reason: letter.reason,
    deliveries: letter.deliveries,
    time: isoOf(letter.time),
  };
}

/** "UNAVAILABLE" for 14 (errors.ts names them); the number itself for a code gRPC does not define. */
function statusName(code: number): string {
  return code in Code ? codeName(code as Code) : String(code);
}

/**
 * Who calls whom, from each instance's own stats (a caller's targets), and who reads whose messages, from
 * the consumers' channels (`ftgo.<domain>.<kind>`, channels.ts): an event channel is its domain's service
 * speaking; a command channel is read by its own service and written by whoever reads replies (the
 * orchestrator), and the replies go back the other way. One link per pair, kind and channel.
 */
function linksOf(services: readonly ServiceView[]): LinkView[] {
  const links = new Map<string, LinkView>();
  const add = (link: LinkView) => links.set(`${link.kind} ${link.from} ${link.to} ${link.via}`, link);
  const commanded = new Set<string>();
  const orchestrators = new Set<string>();
  for (const service of services) {
    for (const instance of service.instances) {
      for (const target of instance.stats?.targets ?? []) {
        add({ from: service.name, to: target.target, kind: "grpc", via: target.target });
      }
      for (const { channel } of instance.stats?.consumers ?? []) {
        const [, domain, kind] = channel.split(".");
        if (kind === "command") commanded.add(service.name);
        if (kind === "reply") orchestrators.add(service.name);
        if (kind === "event" && domain && domain !== service.name) {
          add({ from: domain, to: service.name, kind: "messages", via: channel });
        }
      }
    }
  }
  for (const orchestrator of orchestrators) {
    for (const participant of commanded) {
      if (participant === orchestrator) continue;
      add({ from: orchestrator, to: participant, kind: "messages", via: `ftgo.${participant}.command` });
      add({ from: participant, to: orchestrator, kind: "messages", via: `ftgo.${orchestrator}.reply` });
    }
  }
  return [...links.values()];
}

/** Under orchestration Order reads the participants' replies; under choreography, their events. */
function sagaModeOf(services: readonly ServiceView[]): MeshPicture["saga"]["mode"] {
  const order = services.find((service) => service.name === "order");
  const channels = order?.instances.flatMap((instance) => instance.stats?.consumers ?? []) ?? [];
  if (channels.some(({ channel }) => channel.endsWith(".reply"))) return "orchestration";
  if (channels.some(({ channel }) => channel.endsWith(".event"))) return "choreography";
  return "unknown";
}

function whyNot(error: unknown): string {
  const err = ConnectError.from(error);
  if (err.code === Code.Unimplemented) return "no AdminService stats on this server";
  return `${statusName(err.code)}: ${err.rawMessage}`;
}
