// The dashboard asks every instance for itself (its stats, its faults, its health), not "a kitchen": so one
// gRPC channel per instance address, opened when the registry first lists it and closed when it leaves. In the
// secure mode each channel is mTLS with the gateway's certificate, and each call carries the dashboard's admin
// claim: AdminService (faults, dead letters, stats) admits only the admin, or the gateway speaking for one.
import type { Client } from "@connectrpc/connect";
import { AdminService } from "@ftgo/gen/ftgo/admin/v1/admin_pb.js";
import { Health } from "@ftgo/gen/grpc/health/v1/health_pb.js";
import {
  createGrpcClient,
  createGrpcTransport,
  type GrpcTransport,
  type MeshTls,
  type ServiceInstance,
} from "@ftgo/platform";
import { withHeaders } from "../with-headers.js";

/** What the dashboard calls on one instance. */
export interface InstanceClients {
  readonly admin: Client<typeof AdminService>;
  readonly health: Client<typeof Health>;
}

export interface AdminClients {
  /** The clients of `instance`, its channel opened on first use. */
  of(instance: ServiceInstance): InstanceClients;
  /** Closes the channels of every instance not in `live`: those the registry no longer lists. */
  keepOnly(live: readonly ServiceInstance[]): void;
  close(): void;
}

/** How long a dashboard call to one instance may take: a stuck instance must not stall the page. */
export const INSTANCE_CALL_TIMEOUT_MS = 1_500;

export interface AdminClientsOptions {
  /** The gateway's mesh certificate, in the secure mode (config.tls); none in the learner's mode. */
  readonly tls?: MeshTls | undefined;
  /** The headers of the admin's end-user claim every AdminService call carries (end-user.ts); none by default. */
  readonly headers?: () => Promise<Readonly<Record<string, string>>>;
}

export function createAdminClients({ tls, headers }: AdminClientsOptions = {}): AdminClients {
  const open = new Map<string, { transport: GrpcTransport; clients: InstanceClients }>();
  return {
    of(instance) {
      const address = addressOf(instance);
      let entry = open.get(address);
      if (!entry) {
        const transport = createGrpcTransport({ address, defaultTimeoutMs: INSTANCE_CALL_TIMEOUT_MS, tls });
        const admin = createGrpcClient(AdminService, transport);
        entry = {
          transport,
          clients: {
            admin: headers ? withHeaders(AdminService, admin, headers) : admin,
            health: createGrpcClient(Health, transport),
          },
        };
        open.set(address, entry);
      }
      return entry.clients;
    },
    keepOnly(live) {
      const addresses = new Set(live.map(addressOf));
      for (const [address, entry] of open) {
        if (addresses.has(address)) continue;
        entry.transport.close();
        open.delete(address);
      }
    },
    close() {
      for (const entry of open.values()) entry.transport.close();
      open.clear();
    },
  };
}

/** "host:port", as an instance is dialled. */
export function addressOf(instance: ServiceInstance): string {
  return `${instance.address}:${instance.port}`;
}
