// Service discovery: self-registration in a service registry (NATS KV, Consul or a static list) and
// client-side discovery of other services' healthy instances. What services use; the backends stay inside.
export { InvalidInstanceError, type ServiceInstance, validateInstance } from "./instance.js";
export {
  createRegistry,
  type DiscoveryConfig,
  loadDiscoveryConfig,
  type Registration,
  type Registry,
  type RegistryDeps,
  type RegistryKind,
} from "./registry.js";
