// Service discovery, both solutions of the seed. Self-registration in a service registry (NATS KV, Consul
// or a static list) and client-side discovery of other services' healthy instances; or third-party
// registration by a registrar and server-side discovery through a router. What services and supervisors
// use; the backends stay inside.

export { createRegistry, type RegistryDeps } from "./create-registry.js";
export { type DiscoveryConfig, type DiscoveryMode, loadDiscoveryConfig } from "./discovery-config.js";
export { createRegistrar, type Registrar, type RegistrarOptions, type StartedProcess } from "./registrar.js";
export { type Registration, type Registry, type RegistryKind, RegistryUnavailableError } from "./registry.js";
export { DEFAULT_ROUTER_ADDR, routerTags } from "./router.js";
export { InvalidInstanceError, type ServiceInstance, validateInstance } from "./service-instance.js";
