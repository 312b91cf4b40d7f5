import type { ServiceImpl } from "@connectrpc/connect";
import type { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { afterEach } from "vitest";
import { NotFoundError } from "../src/errors.js";
import {
  createGrpcTransport,
  type GrpcServer,
  type GrpcServerOptions,
  type GrpcTransport,
  type GrpcTransportOptions,
  type ServiceRegistration,
  serveGrpc,
} from "../src/grpc/index.js";
import { silentLogger } from "../src/log.js";

export const RESTAURANT = { restaurantId: "r-1", name: "Ajanta", open: true };

/** A kitchen that knows one restaurant, "r-1"; tests override the methods they are about. */
export function fakeKitchen(
  overrides: Partial<ServiceImpl<typeof KitchenService>> = {},
): ServiceImpl<typeof KitchenService> {
  const findRestaurant = (restaurantId: string) => {
    if (restaurantId !== RESTAURANT.restaurantId) throw new NotFoundError(`restaurant ${restaurantId} does not exist`);
    return RESTAURANT;
  };
  return {
    getRestaurant: ({ restaurantId }) => ({ restaurant: findRestaurant(restaurantId) }),
    getMenu: ({ restaurantId }) => ({
      restaurant: findRestaurant(restaurantId),
      menuItems: [{ menuItemId: "m-1", name: "Chicken Vindaloo", price: { currencyCode: "USD", minorUnits: 1299n } }],
    }),
    getTicket: ({ orderId }) => {
      throw new NotFoundError(`no ticket for order ${orderId}`);
    },
    acceptTicket: ({ orderId }) => {
      throw new NotFoundError(`no ticket for order ${orderId}`);
    },
    async *watchTickets({ restaurantId }) {
      findRestaurant(restaurantId);
      yield { event: { case: "openTickets", value: { tickets: [] } } };
    },
    ...overrides,
  };
}

/**
 * Servers on 127.0.0.1 port 0 and transports to them, all closed after each test so that a leaked
 * handle fails the run instead of slowing the next test.
 */
export function useGrpc() {
  const servers: GrpcServer[] = [];
  const transports: GrpcTransport[] = [];
  afterEach(async () => {
    for (const transport of transports.splice(0)) transport.close();
    await Promise.all(servers.splice(0).map((server) => server.close(0)));
  });
  return {
    async serve(
      services: readonly ServiceRegistration[],
      options: Partial<GrpcServerOptions> = {},
    ): Promise<GrpcServer> {
      const server = await serveGrpc({ host: "127.0.0.1", port: 0, log: silentLogger(), services, ...options });
      servers.push(server);
      return server;
    },
    connect(server: GrpcServer, options: Partial<GrpcTransportOptions> = {}): GrpcTransport {
      const transport = createGrpcTransport({ address: server.address, ...options });
      transports.push(transport);
      return transport;
    },
  };
}

/** Resolves with the error `promise` rejects with; fails if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail, but it succeeded");
}
