import { Code } from "@connectrpc/connect";

/**
 * A failure the caller caused or can act on, named in the domain's words. Services throw these; the
 * gRPC server adapter maps each to its status code in one place (grpc/status.ts). Anything that is not
 * a DomainError (or a ConnectError) is unexpected and becomes INTERNAL with a plain message.
 */
export abstract class DomainError extends Error {
  abstract readonly code: Code;
}

/** The request is malformed: the message names the bad field. → INVALID_ARGUMENT */
export class InvalidArgumentError extends DomainError {
  override readonly name = "InvalidArgumentError";
  readonly code = Code.InvalidArgument;
}

/** A named thing (order, restaurant, menu item…) does not exist. → NOT_FOUND */
export class NotFoundError extends DomainError {
  override readonly name = "NotFoundError";
  readonly code = Code.NotFound;
}

/** The thing exists but is in a state that forbids the operation. → FAILED_PRECONDITION */
export class FailedPreconditionError extends DomainError {
  override readonly name = "FailedPreconditionError";
  readonly code = Code.FailedPrecondition;
}

/** A dependency is away; the caller may try again later. → UNAVAILABLE */
export class UnavailableError extends DomainError {
  override readonly name = "UnavailableError";
  readonly code = Code.Unavailable;
}
