import { once } from "node:events";
import { createServer } from "node:http2";
import { createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { HOST, MAX_MESSAGE_BYTES, type MenuClient, type MenuServer } from "./contenders.js";
import { MENU_REQUEST, MENU_RESPONSE } from "./menu.js";

/*
 * (c) Connect on both ends, speaking the gRPC protocol: connect-node's adapter on a plain node:http2
 * server, and its gRPC transport with the generated client. The alternative to building on grpc-js.
 */

const limits = { readMaxBytes: MAX_MESSAGE_BYTES, writeMaxBytes: MAX_MESSAGE_BYTES };

export async function serve(): Promise<MenuServer> {
  const handler = connectNodeAdapter({
    routes: (router) => router.service(KitchenService, { getMenu: () => MENU_RESPONSE }),
    ...limits,
  });
  const server = createServer(handler);
  server.listen(0, HOST);
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("http2 server has no TCP address");
  return { port: address.port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export function connect(address: string): MenuClient {
  const baseUrl = `http://${address}`;
  // Our own session manager, because the transport offers no other way to close its connection.
  const sessionManager = new Http2SessionManager(baseUrl);
  // The gRPC transport always speaks HTTP/2; unlike the Connect transport it takes no httpVersion.
  const client = createClient(KitchenService, createGrpcTransport({ baseUrl, sessionManager, ...limits }));
  return { getMenu: () => client.getMenu(MENU_REQUEST), close: () => sessionManager.abort() };
}
