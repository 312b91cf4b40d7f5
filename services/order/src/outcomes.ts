// How each saga Order runs ended, counted for Prometheus (`ftgo_saga_outcomes_total`, in the platform's
// metrics.ts) where each saga mode's wiring calls the step that ends it: saga.ts under choreography,
// orchestration/definitions.ts under orchestration. Only when the step changed the order: the second failure
// of a saga finds the order already REJECTED and ends nothing.
import { type SagaMode, sagaOutcomes } from "@ftgo/platform";

export type SagaEnd =
  | { readonly saga: "create_order"; readonly outcome: "approved" | "rejected"; readonly reason?: string }
  | { readonly saga: "cancel_order"; readonly outcome: "cancelled" | "refused"; readonly reason?: string };

/** `changed`, after counting `end` in `mode` if it is true. */
export function countEnd(changed: boolean, mode: SagaMode, end: SagaEnd): boolean {
  if (changed) sagaOutcomes.inc({ saga: end.saga, mode, outcome: end.outcome, reason: end.reason ?? "" });
  return changed;
}
