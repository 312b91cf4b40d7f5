import type { GetMenuResponse } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";

/*
 * The three ways of serving and calling GetMenu that the unary suite compares. Each lives in its own
 * file exporting `serve` (run in a child process by bench/server.ts) and `connect` (run by the suite),
 * so the three can be read side by side.
 */

/** A GetMenu server listening on 127.0.0.1. */
export interface MenuServer {
  readonly port: number;
  close(): Promise<void>;
}

/** A client that sends the suite's one request. */
export interface MenuClient {
  getMenu(): Promise<GetMenuResponse>;
  close(): void;
}

export interface Contender {
  serve(): Promise<MenuServer>;
  connect(address: string): MenuClient;
}

export type ContenderName = keyof typeof CONTENDERS;

/** Loaded on demand, so that a child process loads only the libraries of the server it runs. */
export const CONTENDERS = {
  "grpc-js": { label: "(b) bare grpc-js", load: (): Promise<Contender> => import("./grpc-js.js") },
  platform: { label: "(a) @ftgo/platform", load: (): Promise<Contender> => import("./platform.js") },
  "connect-node": { label: "(c) connect-node", load: (): Promise<Contender> => import("./connect-node.js") },
} as const;

export function isContenderName(name: string): name is ContenderName {
  return Object.hasOwn(CONTENDERS, name);
}

/** The host every server binds and every client dials: loopback, so the network is not what is measured. */
export const HOST = "127.0.0.1";

/** The size limit of one message, each way, on both ends: grpc-js's receive default, set deliberately everywhere. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
