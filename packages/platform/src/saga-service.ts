// A saga participant, started and stopped the way every one of ours is: the composition its main.ts
// would otherwise repeat. The steps and their order are the point of this file (see startSagaService).
import { createAdminSources, type SagaMovesReader } from "./admin-sources.js";
import type { BaseConfig } from "./config.js";
import type { Database } from "./db.js";
import { createRegistry, type Registry } from "./discovery/index.js";
import { registerSelf } from "./discovery/self-registration.js";
import { OUTBOX_HEALTH, type ServiceRegistration, serveGrpc } from "./grpc/index.js";
import type { Logger } from "./log.js";
import type { Outbox, Subscription } from "./messaging/index.js";
import { type Participant, startParticipant } from "./participant.js";
import type { MeshClientStats } from "./resilience/index.js";
import { runStopSteps } from "./stop-steps.js";

/**
 * What every service's `start<Name>(config, log)` returns: where it listens, and how to stop it.
 * main.ts hands `stop` to onShutdown; tests call it in afterEach.
 */
export interface RunningService {
  /** "host:port" of the gRPC server. */
  readonly address: string;
  /** The bound port (useful when the config asked for port 0). */
  readonly port: number;
  /** NOT_SERVING, stop consuming, finish in-flight work, close connections and the database. */
  stop(): Promise<void>;
}

export interface SagaServiceOptions {
  readonly config: BaseConfig;
  readonly log: Logger;
  /** The service's own database (with its outbox), opened by its store.ts. */
  readonly store: { readonly db: Database; readonly outbox: Outbox; close(): void };
  /** What it consumes: its saga.ts. */
  readonly subscriptions: readonly Subscription[];
  /**
   * Its gRPC services, given what they may need: the running participant (handlers wake its outbox relay
   * after a commit) and the service registry (clients of other services discover them through it).
   */
  readonly services: (deps: Participant & { readonly registry: Registry }) => ServiceRegistration[];
  /**
   * The mesh clients it calls other services with, for AdminService's GetServerStats; read at each call,
   * as they are made in `services`: `() => (kitchen ? [kitchen] : [])`.
   */
  readonly targets?: () => readonly { stats(): MeshClientStats }[];
  /** On a service that orchestrates sagas: the moves of one order's sagas, for AdminService's ListSentMessages. */
  readonly sagaMoves?: SagaMovesReader;
  /** Closes what the service opened besides these (clients of other services), after everything else stopped. */
  readonly onStop?: () => void | Promise<void>;
}

/**
 * Starts a saga participant the way every one of ours starts: it joins the saga (NATS, outbox relay,
 * consumers), serves gRPC, then registers itself in the service registry (self-registration, in
 * discovery/self-registration.ts) so that clients can discover it. Its `stop()` undoes that in the order
 * that loses nothing: health goes NOT_SERVING and the registry entry goes at once, so that callers move
 * on; consuming stops (the message in hand commits and is acknowledged); in-flight calls finish; the
 * relay publishes what was committed; NATS drains; the database closes last. Each step runs even if
 * one before it failed; `stop()` then rejects with a ShutdownError listing every failure.
 */
export async function startSagaService(options: SagaServiceOptions): Promise<RunningService> {
  const { config, log, store } = options;
  const participant = await startParticipant({
    config,
    log,
    db: store.db,
    outbox: store.outbox,
    subscriptions: options.subscriptions,
  });
  const registry = await createRegistry(config.discovery, {
    nc: participant.nc,
    log,
    secure: config.tls !== undefined,
    streamReplicas: config.streamReplicas,
  });
  let instanceId = ""; // known once registered, below
  const server = await serveGrpc({
    host: config.host,
    port: config.port,
    log,
    services: options.services({ ...participant, registry }),
    limits: config.grpcServer,
    servingOnStart: false, // SERVING once registered: a caller that waits for health can also discover it
    tls: config.tls, // the secure mode: mTLS and the access table; undefined in the learner's mode
    admin: createAdminSources({
      service: config.service,
      instanceId: () => instanceId,
      targets: options.targets,
      outbox: participant.relay,
      consumers: participant.consumerStats,
      db: store.db,
      nc: participant.nc,
      sagaMoves: options.sagaMoves,
    }),
  });
  // The outbox's own health: NOT_SERVING under OUTBOX_HEALTH while it holds parked rows (from an earlier
  // run too), so that /readyz can say the service is degraded while it goes on serving.
  const reportOutbox = () => server.setAspect(OUTBOX_HEALTH, participant.relay.stats().parked === 0);
  reportOutbox();
  participant.relay.onParked(reportOutbox);
  const self = await registerSelf(registry, server, { ...config, log });
  instanceId = self.instance.id;
  log.info(
    { address: server.address, instance: self.instance.id, registry: registry.kind },
    `${config.service} serving`,
  );
  return {
    address: server.address,
    port: server.port,
    // Every step runs even when one before it fails (stop-steps.ts): a registry that cannot be written
    // must not leave the port bound, the outbox unflushed or the database open.
    stop: () =>
      runStopSteps(log, [
        ["deregister", () => self.withdraw()],
        ["stop consuming", () => participant.stopConsuming()],
        ["close the gRPC server", () => server.close()],
        ["close the clients of other services", () => options.onStop?.()],
        ["close the registry client", () => registry.close()],
        ["flush the outbox relay", () => participant.relay.stop()],
        ["drain NATS", () => participant.close()],
        ["close the database", () => store.close()],
      ]),
  };
}
