// AdminService: the operator's window into one server. Faults (faults.ts) make it misbehave on purpose; the
// rest shows what its resilience and messaging are doing about it: breakers, bulkheads and policy per
// target, its outbox and consumers, the messages it sent for an order, its dead letters. The gRPC layer
// knows none of those objects: whoever starts the server hands in providers (AdminSources), built from the
// live objects by admin-sources.ts, so a server with no outbox or no NATS simply has fewer providers.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type {
  AdminService,
  DeadLetterSchema,
  GetServerStatsResponseSchema,
  ListSentMessagesResponseSchema,
} from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import { FailedPreconditionError, NotFoundError } from "../errors.js";
import { DeadLetterNotFoundError, ReplayRefusedError } from "../messaging/dead-letters.js";
import { createFaultHandlers, type FaultInjector } from "./faults.js";

/** The dead letters of the server's service: listing and replaying, its own only. */
export interface DeadLetterDesk {
  /** Its dead letters, oldest first. */
  list(): Promise<MessageInitShape<typeof DeadLetterSchema>[]>;
  /**
   * Sends dead letter `seq` back to where it was going; resolves with that subject. Rejects with
   * DeadLetterNotFoundError when the service has no such dead letter, ReplayRefusedError when it cannot go whole.
   */
  replay(seq: number): Promise<string>;
}

/** What AdminService reports beyond faults, asked at each call; each is optional, as not every server has it all. */
export interface AdminSources {
  /** GetServerStats' answer, from the live objects. Without it, an empty answer. */
  readonly stats?: () => MessageInitShape<typeof GetServerStatsResponseSchema>;
  /** ListSentMessages' answer for one correlation id. Without it (no outbox), no messages. */
  readonly sentMessages?: (correlationId: string) => MessageInitShape<typeof ListSentMessagesResponseSchema>;
  /** Without it (no NATS connection), ListDeadLetters and ReplayDeadLetter answer FAILED_PRECONDITION. */
  readonly deadLetters?: DeadLetterDesk;
}

/**
 * AdminService over one server's fault table and `sources`. An operator's tool: serveGrpc serves it on
 * every server, but leaves it out of health, and no gateway route may lead to it. Requests are checked
 * against the contract's limits before a handler runs (handler.ts), so a malformed correlation id or a
 * seq of 0 is INVALID_ARGUMENT without a line here.
 */
export function createAdminService(
  faults: FaultInjector,
  sources: AdminSources = {},
): ServiceImpl<typeof AdminService> {
  const deadLetters = () => {
    if (!sources.deadLetters) {
      throw new FailedPreconditionError("this server has no NATS connection, so no dead letters to list or replay");
    }
    return sources.deadLetters;
  };
  return {
    ...createFaultHandlers(faults),
    getServerStats: () => sources.stats?.() ?? {},
    listSentMessages: ({ correlationId }) => sources.sentMessages?.(correlationId) ?? {},
    listDeadLetters: async () => ({ deadLetters: await deadLetters().list() }),
    async replayDeadLetter({ seq }) {
      // JetStream counts in uint64, this process in doubles: no dead letter will ever have a sequence past
      // 2^53, and one asked for would reach JetStream rounded, which refuses it as malformed (once INTERNAL).
      if (seq > BigInt(Number.MAX_SAFE_INTEGER)) throw new NotFoundError(`no dead letter with sequence ${seq}`);
      try {
        return { originalSubject: await deadLetters().replay(Number(seq)) };
      } catch (err) {
        if (err instanceof DeadLetterNotFoundError) throw new NotFoundError(err.message, { cause: err });
        if (err instanceof ReplayRefusedError) throw new FailedPreconditionError(err.message, { cause: err });
        throw err;
      }
    },
  };
}
