// The saga as a story in a trace: each step and each compensation of a participant is a span of its own,
// `saga.step Kitchen.createTicket` or `saga.compensation Kitchen.rejectTicket`, a child of the span that
// processes the message which triggered it. What the step decided is what it published: the outbox notes each
// message a step writes on the step's span (`saga.outcome` = its type, `saga.reason` = its reason, if it has
// one), so a declined card reads "saga.outcome CreditCardAuthorizationFailed, saga.reason card ending 0002 was
// declined" without the step saying anything twice. Under orchestration each move of the orchestrator is a span
// too (`saga.orchestrator CreateOrderSaga VERIFYING_CONSUMER → CREATING_TICKET`), the command it sends noted on it.
import { type Attributes, type Context, context, createContextKey, type Span, trace } from "@opentelemetry/api";
import { endSpan, tracer } from "./trace-context.js";

const STEP = createContextKey("ftgo saga step span");

export interface SagaStepOptions {
  /** A compensating transaction: it undoes what an earlier step did. */
  readonly compensation?: boolean;
}

/**
 * `step` as a traced saga step named `name` (`Participant.step`): same arguments, same result, run inside a
 * span. With tracing off the span is the API's non-recording one and `step` runs as it is.
 */
export function sagaStep<A extends unknown[], R>(
  name: string,
  step: (...args: A) => R,
  options: SagaStepOptions = {},
): (...args: A) => R {
  const spanName = `${options.compensation ? "saga.compensation" : "saga.step"} ${name}`;
  const attributes = { "saga.step": name, "saga.compensation": options.compensation ?? false };
  return (...args: A): R => inSagaSpan(spanName, attributes, () => step(...args));
}

/**
 * Runs `fn` in a span of the saga's story named `name` (a step, an orchestrator's move), a child of the active
 * span, with `attributes`; what `fn` writes to the outbox is noted on it (noteStepOutcome).
 */
export function inSagaSpan<T>(name: string, attributes: Attributes, fn: () => T): T {
  const span = tracer.startSpan(name, { attributes });
  if (!span.isRecording()) return fn();
  const ctx: Context = trace.setSpan(context.active(), span).setValue(STEP, span);
  try {
    const result = context.with(ctx, fn);
    endSpan(span);
    return result;
  } catch (err) {
    endSpan(span, err);
    throw err;
  }
}

/**
 * Notes a message a step is writing to its outbox on that step's span, if the code writing it runs in one:
 * its type (the short name) as the step's outcome, and its `reason` field when it has one. The outbox calls it.
 */
export function noteStepOutcome(typeName: string, message: unknown): void {
  const span = context.active().getValue(STEP) as Span | undefined;
  if (!span) return;
  span.setAttribute("saga.outcome", typeName.slice(typeName.lastIndexOf(".") + 1));
  const reason = (message as { reason?: unknown } | null)?.reason;
  if (typeof reason === "string" && reason !== "") span.setAttribute("saga.reason", reason);
}
