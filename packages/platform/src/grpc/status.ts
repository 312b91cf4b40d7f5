import { appendHeaders, Code, ConnectError } from "@connectrpc/connect";
import type { Metadata, StatusObject } from "@grpc/grpc-js";
import { DomainError } from "../errors.js";
import { headersToMetadata, metadataToHeaders } from "./metadata.js";
import { isExpectedAnswer, withoutStack } from "./stackless.js";

/*
 * The one place where errors become gRPC statuses and back. Connect's `Code` and gRPC's status numbers
 * are the same numbers (both follow the gRPC spec), so a code crosses between the two libraries as is.
 */

/**
 * Turns whatever a handler threw into the error its caller receives. A DomainError keeps its code and
 * message, and a ConnectError passes through: both are failures the caller may act on. Anything else is
 * a bug or an outage the caller cannot fix, so it becomes INTERNAL with a plain message; the original
 * stays as `cause` for the server's log and never reaches the wire.
 */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof DomainError) return new ConnectError(err.message, err.code, undefined, undefined, err);
  return new ConnectError("internal error", Code.Internal, undefined, undefined, err);
}

/**
 * The status a server sends for `error`: its code, its message without Connect's "[code]" prefix, and
 * the handler's trailers plus any metadata the error carries.
 */
export function toGrpcStatus(error: ConnectError, trailers: Headers | undefined): StatusObject {
  return {
    code: error.code as number,
    details: boundedMessage(error.rawMessage),
    metadata: headersToMetadata(trailers ? appendHeaders(trailers, error.metadata) : error.metadata),
  };
}

/**
 * The longest status message a server sends, in characters. It travels in the HTTP/2 trailers (grpc-message,
 * percent-encoded), and a peer drops a header block over its limit without a status: a request breaking a
 * thousand limits once made an 84 kB message that left the caller waiting for its deadline (test/fuzz-grpc.test.ts).
 * gRPC's C core refuses metadata over 8 kB by default; 2048 characters stay under it unless most are not ASCII.
 */
export const MAX_STATUS_MESSAGE_LENGTH = 2048;

/** `message`, cut to MAX_STATUS_MESSAGE_LENGTH characters (never inside a surrogate pair) and saying so. */
export function boundedMessage(message: string): string {
  if (message.length <= MAX_STATUS_MESSAGE_LENGTH) return message;
  const marker = ` … (${message.length} characters, cut)`;
  const kept = [...message.slice(0, MAX_STATUS_MESSAGE_LENGTH - marker.length)];
  // A surrogate pair the slice split ends in a lone high surrogate: drop it.
  const last = kept.at(-1) ?? "";
  if (last.length === 1 && last >= "\uD800" && last <= "\uDBFF") kept.pop();
  return kept.join("") + marker;
}

/**
 * The error a client raises for a failed call: code and message as the server sent them, and the
 * response trailers as `metadata`, so callers handle remote failures exactly as Connect clients do.
 * An expected answer (NOT_FOUND, …) is built without a stack trace: nobody reads it, and it is built often.
 */
export function fromGrpcStatus(
  status: { code: number; details: string; metadata?: Metadata },
  cause?: unknown,
): ConnectError {
  const code = status.code as Code;
  const build = () => new ConnectError(status.details, code, metadataToHeaders(status.metadata), undefined, cause);
  return isExpectedAnswer(code) ? withoutStack(build) : build();
}

/**
 * How loudly a server logs a failed call. Only faults of the server itself are errors; a caller's
 * mistake (INVALID_ARGUMENT, NOT_FOUND…) is routine and would drown real alarms if logged as one.
 */
export function severityOf(code: Code): "info" | "warn" | "error" {
  switch (code) {
    case Code.Internal:
    case Code.Unknown:
    case Code.DataLoss:
      return "error";
    case Code.Unavailable:
    case Code.DeadlineExceeded:
    case Code.ResourceExhausted:
    case Code.Unimplemented:
      return "warn";
    default:
      return "info";
  }
}
