// A lost reply, the failure idempotency keys exist for: the server did the work, but its answer never
// reached the caller, who sees UNAVAILABLE and cannot tell it from a request that never arrived. This
// proxy is a real gRPC server in front of a real one: it forwards every unary call of one service, and
// for the next calls it is told to, throws the target's answer away once it has arrived.
import type { DescService, Message } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  createGrpcClient,
  createGrpcTransport,
  type GrpcServer,
  implement,
  serveGrpc,
  silentLogger,
  UnavailableError,
} from "@ftgo/platform";

export interface ReplyLosingProxy {
  /** "127.0.0.1:port": where callers dial instead of the target. */
  readonly address: string;
  readonly server: GrpcServer;
  /** The next `count` calls reach the target, and their replies are lost. */
  loseNextReplies(count: number): void;
  /** Calls forwarded to the target so far, by method name ("CreateOrder"). */
  forwarded(method: string): number;
  /** The replies lost so far, as the target sent them. */
  readonly lost: Message[];
  close(): Promise<void>;
}

/** Serves `service` on a free port, forwarding each unary call to the server at `target` ("host:port"). */
export async function startReplyLosingProxy(service: DescService, target: string): Promise<ReplyLosingProxy> {
  const transport = createGrpcTransport({ address: target });
  const client = createGrpcClient(service, transport) as unknown as Record<string, (req: Message) => Promise<Message>>;
  const counts = new Map<string, number>();
  const lost: Message[] = [];
  let losing = 0;

  const impl: Record<string, (req: Message) => Promise<Message>> = {};
  for (const method of service.methods) {
    if (method.methodKind !== "unary") continue;
    impl[method.localName] = async (req) => {
      counts.set(method.name, (counts.get(method.name) ?? 0) + 1);
      const reply = await (client[method.localName] as (req: Message) => Promise<Message>)(req);
      if (losing === 0) return reply;
      losing--;
      lost.push(reply);
      throw new UnavailableError(`the reply of ${method.name} was lost on its way back`);
    };
  }
  const server = await serveGrpc({
    host: "127.0.0.1",
    port: 0,
    log: silentLogger(),
    // Unary methods only: a stream has no single reply to lose, and nothing here calls one.
    services: [implement(service, impl as unknown as ServiceImpl<typeof service>)],
  });
  return {
    address: server.address,
    server,
    loseNextReplies(count) {
      losing = count;
    },
    forwarded: (method) => counts.get(method) ?? 0,
    lost,
    async close() {
      await server.close();
      transport.close();
    },
  };
}
