import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Recovering from an unavailable service: returns what `call` returns or, when it fails in a way
 * `isFallbackCase` accepts, what `fallback` makes of the failure: a cached value, a default, a partial
 * result. By default that is an outage (isOutage); any other failure is an answer (NOT_FOUND,
 * INVALID_ARGUMENT…) and is thrown as it is. Nothing falls back by itself: only the caller knows a
 * substitute it can stand behind, so the caller says where it has one.
 *
 * ```ts
 * // Order prices a new order from the last menu it saw while Kitchen cannot answer.
 * const menu = await withFallback(
 *   () => kitchen.getMenu({ restaurantId }),
 *   (error) => lastKnownMenu(restaurantId, error),
 * );
 * ```
 */
export async function withFallback<T, F = T>(
  call: () => Promise<T>,
  fallback: (error: ConnectError) => F | Promise<F>,
  isFallbackCase: (error: ConnectError) => boolean = isOutage,
): Promise<T | F> {
  try {
    return await call();
  } catch (thrown) {
    const error = ConnectError.from(thrown);
    if (!isFallbackCase(error)) throw thrown;
    return fallback(error);
  }
}

/**
 * The dependency gave no answer: it is down or its circuit is open (UNAVAILABLE), too slow for the
 * deadline (DEADLINE_EXCEEDED) or too busy (RESOURCE_EXHAUSTED, a full bulkhead included).
 */
export function isOutage(error: ConnectError): boolean {
  return (
    error.code === Code.Unavailable || error.code === Code.DeadlineExceeded || error.code === Code.ResourceExhausted
  );
}
