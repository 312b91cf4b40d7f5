export type { BreakerState } from "./breaker.js";
export { describePolicies, loadPolicyConfig, type PolicyConfig, type PolicyRow } from "./config.js";
export { isOutage, withFallback } from "./fallback.js";
export type { InstanceState } from "./instance-pool.js";
export {
  createMeshClient,
  type MeshClient,
  type MeshClientOptions,
  type MeshClientStats,
} from "./mesh-client.js";
export {
  type BreakerSettings,
  type BulkheadSettings,
  type CallPolicy,
  DEFAULT_CALL_POLICY,
  DEFAULT_SAMPLING_BREAKER,
  isInstanceFailure,
  isRetryable,
  isSafeToRetry,
  type RetrySettings,
} from "./policy.js";
