import { Code, ConnectError } from "@connectrpc/connect";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { createGrpcClient, createGrpcTransport, implement, serveGrpc, silentLogger } from "@ftgo/platform";
import { HOST, type MenuClient, type MenuServer } from "./contenders.js";
import { MENU_REQUEST, MENU_RESPONSE } from "./menu.js";

/*
 * (a) Our platform, exactly as the services use it: `serveGrpc` + `implement` on one end, a typed
 * client on a shared transport on the other, every default (4 MiB limits, keepalive, 5 s default
 * timeout) left as the services get it. What it costs over (b) is what the Connect-style handler
 * context, metadata conversion, deadline propagation and error mapping cost.
 */

const notMeasured = () => {
  throw new ConnectError("not part of the benchmark", Code.Unimplemented);
};

export async function serve(): Promise<MenuServer> {
  const server = await serveGrpc({
    host: HOST,
    port: 0,
    log: silentLogger(),
    services: [
      implement(KitchenService, {
        getMenu: () => MENU_RESPONSE,
        getRestaurant: notMeasured,
        getTicket: notMeasured,
        acceptTicket: notMeasured,
        watchTickets: notMeasured,
      }),
    ],
  });
  return { port: server.port, close: () => server.close() };
}

export function connect(address: string): MenuClient {
  const transport = createGrpcTransport({ address });
  const client = createGrpcClient(KitchenService, transport);
  return { getMenu: () => client.getMenu(MENU_REQUEST), close: () => transport.close() };
}
