import { create } from "@bufbuild/protobuf";
import {
  Health,
  type HealthCheckRequest,
  HealthCheckResponseSchema,
  HealthListResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "@ftgo/gen/grpc/health/v1/health_pb.js";
import {
  type Server,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { createServiceDefinition } from "./definition.js";

/** The standard health service of one server, with a single switch for all its statuses. */
export interface ServerHealth {
  /** SERVING or NOT_SERVING for the server ("") and for every service it registered. */
  setServing(serving: boolean): void;
  /**
   * Calls `listener` (synchronously) each time the server's overall status changes, SERVING or NOT_SERVING,
   * until the returned function is called. Self-registration follows it.
   */
  onServingChange(listener: (serving: boolean) => void): () => void;
  /**
   * The status of one aspect of the server under a name of its own (`ftgo.outbox`), apart from the switch
   * above: a server can serve calls while an aspect of it needs a person.
   */
  setAspect(name: string, ok: boolean): void;
}

/**
 * The health name under which a saga participant reports its outbox: NOT_SERVING while the relay holds
 * parked rows (messages the broker will never take; their orders wait for a person). The server itself
 * keeps serving: the gateway's /readyz shows the service as degraded, not as down.
 */
export const OUTBOX_HEALTH = "ftgo.outbox";

/**
 * Registers `grpc.health.v1.Health` (Check, Watch, List) on `server`, answering for the empty name (the
 * whole server) and for each service's full name, as load balancers, Kubernetes and grpcurl expect.
 * Every status starts NOT_SERVING: a server reports SERVING only once it is bound and ready.
 */
export function addHealth(server: Server, serviceNames: readonly string[]): ServerHealth {
  const names = ["", ...serviceNames];
  const health = createHealthService(names);
  server.addService(createServiceDefinition(Health), health.implementation);
  const listeners = new Set<(serving: boolean) => void>();
  let current = false;
  const statusOf = (ok: boolean) => (ok ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  return {
    setServing(serving) {
      for (const name of names) health.setStatus(name, statusOf(serving));
      if (serving === current) return;
      current = serving;
      for (const listener of [...listeners]) listener(serving);
    },
    onServingChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    setAspect(name, ok) {
      health.setStatus(name, statusOf(ok));
    },
  };
}

/** List answers RESOURCE_EXHAUSTED past this many names, as the standard's reference servers do. */
const LIST_LIMIT = 100;

/**
 * The standard health service, written against the generated descriptors (as grpc-health-check 2.1 behaves:
 * Check answers NOT_FOUND for a name it does not know, Watch sends SERVICE_UNKNOWN and waits for it). Not
 * grpc-health-check itself: importing it loads proto-loader and protobufjs and parses its .proto, 30–40 ms of
 * every service's start on two cores, for what the generated code already describes.
 */
function createHealthService(names: readonly string[]) {
  const statuses = new Map<string, ServingStatus>(names.map((name) => [name, ServingStatus.NOT_SERVING]));
  const watchers = new Map<string, Set<(status: ServingStatus) => void>>();
  const answer = (status: ServingStatus) => create(HealthCheckResponseSchema, { status });
  const implementation: UntypedServiceImplementation = {
    Check(call: ServerUnaryCall<HealthCheckRequest, unknown>, callback: sendUnaryData<unknown>) {
      const found = statuses.get(call.request.service);
      if (found === undefined) {
        callback({ code: status.NOT_FOUND, details: `Health status unknown for service ${call.request.service}` });
      } else {
        callback(null, answer(found));
      }
    },
    Watch(call: ServerWritableStream<HealthCheckRequest, unknown>) {
      const { service } = call.request;
      const send = (status: ServingStatus) => void call.write(answer(status));
      const forService = watchers.get(service) ?? new Set();
      watchers.set(service, forService.add(send));
      call.on("cancelled", () => forService.delete(send));
      send(statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN);
    },
    List(_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) {
      if (statuses.size > LIST_LIMIT) {
        callback({ code: status.RESOURCE_EXHAUSTED, details: "Too many services to list." });
        return;
      }
      const listed = Object.fromEntries([...statuses].map(([name, status]) => [name, answer(status)]));
      callback(null, create(HealthListResponseSchema, { statuses: listed }));
    },
  };
  return {
    implementation,
    setStatus(name: string, status: ServingStatus) {
      if (statuses.get(name) === status) return; // Watch sends a status only when it changes
      statuses.set(name, status);
      for (const watcher of watchers.get(name) ?? []) watcher(status);
    },
  };
}
