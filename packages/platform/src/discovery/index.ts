// Service discovery: self-registration in a service registry (NATS KV, Consul or a static list) and
// client-side discovery of other services' healthy instances. What services use; the backends stay inside.

export { createRegistry, type RegistryDeps } from "./create-registry.js";
export { type DiscoveryConfig, loadDiscoveryConfig } from "./discovery-config.js";
export { type Registration, type Registry, type RegistryKind, RegistryUnavailableError } from "./registry.js";
export { InvalidInstanceError, type ServiceInstance, validateInstance } from "./service-instance.js";
