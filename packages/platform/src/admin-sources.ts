// What a service's AdminService reports, wired to the service's live objects: its mesh clients, its outbox
// (relay and table), its consumers, its NATS connection, and — on Order when it orchestrates — its sagas'
// history. startSagaService builds these for every participant; serveGrpc hands them to admin-service.ts.

import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Database } from "./db.js";
import type { AdminSources, DeadLetterDesk } from "./grpc/admin-service.js";
import { listDeadLetters, replayDeadLetter } from "./messaging/dead-letters.js";
import { createSentMessagesReader } from "./messaging/sent-messages.js";
import { collectServerStats, type ServerStatsSources } from "./telemetry/server-stats.js";

/** The most items a list of AdminService's answers may hold (its contract's max_items): the oldest are kept. */
const MAX_LISTED = 1_000;

/** One move of an orchestrated saga, as its history records it (Order's saga_history). */
export interface RecordedSagaMove {
  /** "CreateOrderSaga". */
  readonly sagaType: string;
  /** The state it left; null for its start. */
  readonly from: string | null;
  readonly to: string;
  /** The message that moved it, if one did. */
  readonly messageId: string | undefined;
  readonly note: string;
  /** When, in milliseconds since the epoch. */
  readonly at: number;
}

/** The moves of one order's sagas, oldest first: given by a service that orchestrates sagas. */
export type SagaMovesReader = (orderId: string) => readonly RecordedSagaMove[];

export interface AdminSourcesOptions extends ServerStatsSources {
  /** The database holding the service's outbox, for ListSentMessages. */
  readonly db?: Database;
  /** For the dead letters; without it ListDeadLetters answers FAILED_PRECONDITION. */
  readonly nc?: NatsConnection;
  readonly sagaMoves?: SagaMovesReader;
}

/**
 * AdminService's providers over one service's live objects. Each reads at the moment it is asked: the
 * stats from the objects that record them, the sent messages from the outbox table (the same rows `npm run
 * trace` reads from the file), the dead letters from FTGO_DEAD_LETTERS, only this service's.
 */
export function createAdminSources(options: AdminSourcesOptions): AdminSources {
  const { service, db, nc, sagaMoves } = options;
  const sent = db && createSentMessagesReader(db);
  return {
    stats: () => collectServerStats(options),
    sentMessages: (correlationId) => ({
      service,
      messages: (sent?.(correlationId) ?? []).map((message) => ({
        messageId: message.messageId,
        causationId: message.causationId ?? "",
        subject: message.subject,
        type: message.type,
        createTime: timestampFromMs(message.createdAt),
        replyTo: message.replyTo ?? "",
        published: message.published,
      })),
      sagaMoves: (sagaMoves?.(correlationId) ?? []).slice(0, MAX_LISTED).map((move) => ({
        sagaType: move.sagaType,
        fromState: move.from ?? "",
        toState: move.to,
        messageId: move.messageId ?? "",
        note: move.note,
        time: timestampFromMs(move.at),
      })),
    }),
    ...(nc && { deadLetters: deadLetterDesk(nc, service) }),
  };
}

/** The dead letters `service` gave up on, and the replay of its own only. */
function deadLetterDesk(nc: NatsConnection, service: string): DeadLetterDesk {
  return {
    async list() {
      const letters = await listDeadLetters(nc, { service });
      return letters.slice(0, MAX_LISTED).map((letter) => ({
        seq: BigInt(letter.seq),
        originalSubject: letter.originalSubject,
        type: letter.type ?? "",
        correlationId: letter.correlationId ?? "",
        reason: letter.reason,
        deliveries: letter.deliveries,
        time: timestampFromMs(letter.time.getTime()),
      }));
    },
    replay: async (seq) => (await replayDeadLetter(nc, seq, { service })).originalSubject,
  };
}
