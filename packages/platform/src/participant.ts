import type { NatsConnection } from "@nats-io/transport-node";
import type { BaseConfig } from "./config.js";
import type { Database } from "./db.js";
import type { Logger } from "./log.js";
import {
  type ChannelCounts,
  connectNats,
  type Outbox,
  type OutboxRelay,
  type Subscription,
  startConsumers,
  startOutboxRelay,
} from "./messaging/index.js";

/** A running saga participant's messaging: its NATS connection, its outbox relay, its consumers. */
export interface Participant {
  readonly nc: NatsConnection;
  readonly relay: OutboxRelay;
  /** What each consumed channel has done since the start: consumed, redelivered, dead-lettered. */
  consumerStats(): ChannelCounts[];
  /** Stops pulling messages; the one being handled commits and is acknowledged first. */
  stopConsuming(): Promise<void>;
  /** Publishes what the outbox still holds if it can, stops the relay, drains NATS. */
  close(): Promise<void>;
}

export interface ParticipantOptions {
  readonly config: BaseConfig;
  readonly log: Logger;
  /** The service's own database, holding its outbox and processed-messages tables. */
  readonly db: Database;
  readonly outbox: Outbox;
  /** The events (or commands) it consumes, from its saga.ts. */
  readonly subscriptions: readonly Subscription[];
}

/**
 * Plugs a service into the saga: connects to NATS, starts the relay that publishes its outbox, and starts
 * consuming what its saga.ts subscribes to. Every participant does exactly this, in this order, so it
 * lives here once; a service's app.ts only says what it consumes and when to stop.
 */
export async function startParticipant(options: ParticipantOptions): Promise<Participant> {
  const { config, log, db, outbox, subscriptions } = options;
  const nc = await connectNats({ url: config.natsUrl, name: config.service, log, tls: config.tls });
  const relay = startOutboxRelay({ db, nc, log, streamReplicas: config.streamReplicas });
  const consumers = await startConsumers({
    nc,
    db,
    outbox,
    relay,
    log,
    service: config.service,
    subscriptions,
    partitions: config.partitions,
    streamReplicas: config.streamReplicas,
  });
  return {
    nc,
    relay,
    consumerStats: () => consumers.stats(),
    stopConsuming: () => consumers.stop(),
    async close() {
      await relay.stop();
      await nc.drain();
    },
  };
}
