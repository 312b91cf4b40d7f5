// A client whose every call carries some headers worked out when the call is made: how the dashboard's calls,
// none of which is made with options of a request, carry its admin's end-user claim (end-user.ts) without
// each call site passing it along.
import type { DescService } from "@bufbuild/protobuf";
import type { CallOptions, Client } from "@connectrpc/connect";

type Unary = (request: unknown, options?: CallOptions) => Promise<unknown>;
type ServerStream = (request: unknown, options?: CallOptions) => AsyncIterable<unknown>;

/**
 * `client`, its calls of `service`'s methods made with `headers()` added to their options' headers (awaited
 * before the call starts); everything else of it (a mesh client's stats(), close()) is the client's own.
 */
export function withHeaders<S extends DescService, C extends Client<S>>(
  service: S,
  client: C,
  headers: () => Promise<Readonly<Record<string, string>>>,
): C {
  const own = client as unknown as Record<string, Unary & ServerStream>;
  const wrapped: Record<string, unknown> = Object.create(client);
  const optionsOf = async (options: CallOptions | undefined): Promise<CallOptions> => {
    const merged = new Headers(options?.headers);
    for (const [name, value] of Object.entries(await headers())) merged.set(name, value);
    return { ...options, headers: merged };
  };
  for (const method of service.methods) {
    const call = own[method.localName];
    if (!call) continue;
    if (method.methodKind === "unary") {
      wrapped[method.localName] = async (request: unknown, options?: CallOptions) =>
        call.call(client, request, await optionsOf(options));
    } else if (method.methodKind === "server_streaming") {
      wrapped[method.localName] = async function* (request: unknown, options?: CallOptions) {
        yield* (call as ServerStream).call(client, request, await optionsOf(options));
      };
    }
  }
  return wrapped as C;
}
