import { Code } from "@connectrpc/connect";

/*
 * Stack traces cost: V8 walks the stack when an Error is built, and formatting it (through source maps,
 * when tsx or --enable-source-maps is on) costs far more. Two places build one on every call for nothing:
 * grpc-js keeps a "caller stack" Error per call, read only if the call fails; and a client builds a
 * ConnectError for answers that are part of a normal day, such as NOT_FOUND for a ticket the saga has not
 * created yet. Both are built here with stack capture off, scoped to that one synchronous construction.
 */

/** Runs `build` with V8's stack capture off, restoring the limit however it ends. */
export function withoutStack<T>(build: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return build();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Answers a healthy server gives to a caller's question, whose origin in the client is of no interest: the
 * caller branches on the code. Outages and bugs (UNAVAILABLE, INTERNAL, …) keep their stack.
 */
export function isExpectedAnswer(code: Code): boolean {
  switch (code) {
    case Code.NotFound:
    case Code.AlreadyExists:
    case Code.FailedPrecondition:
    case Code.InvalidArgument:
    case Code.PermissionDenied:
    case Code.OutOfRange:
      return true;
    default:
      return false;
  }
}
