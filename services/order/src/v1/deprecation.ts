// ftgo.order.v1 is deprecated (its .proto says so) but still served, for as long as someone calls it. To
// find out who, the server notes each v1 client once, not per call: a busy client would bury the log,
// and the operator wants the list of callers to move, not a count. A client is what a caller says it is
// today: its user-agent (grpcurl/…, grpc-node-js/…, connect-es/…); the platform sends no caller name.
import type { Logger } from "@ftgo/platform";

/** How many distinct clients are remembered; past it the oldest is forgotten (and noted again if it returns). */
export const DEFAULT_REMEMBERED_CLIENTS = 1000;
/** A user-agent is the caller's text: this much of it is enough to tell clients apart. */
const MAX_CLIENT_LENGTH = 200;

export interface DeprecationNotesOptions {
  readonly log: Logger;
  /** The package that replaces the deprecated one, named in each note. */
  readonly successor: string;
  readonly rememberedClients?: number;
}

/** Notes a call of a deprecated method: logs a warning the first time its client calls any of them. */
export type NoteDeprecatedCall = (method: string, requestHeader: Headers) => void;

/** Deprecation notes, once per client, in bounded memory. */
export function createDeprecationNotes({
  log,
  successor,
  rememberedClients = DEFAULT_REMEMBERED_CLIENTS,
}: DeprecationNotesOptions): NoteDeprecatedCall {
  // A Set keeps insertion order: its first entry is the client noted longest ago.
  const noted = new Set<string>();
  return (method, requestHeader) => {
    const client = (requestHeader.get("user-agent") || "unknown").slice(0, MAX_CLIENT_LENGTH);
    if (noted.has(client)) return;
    if (noted.size >= rememberedClients) noted.delete(noted.values().next().value as string);
    noted.add(client);
    log.warn({ client, method, successor }, `deprecated API called: move this client to ${successor}`);
  };
}
