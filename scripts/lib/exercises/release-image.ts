// What a client built before today's changes knows: the descriptors of the latest release image
// (proto/releases/vX.Y.Z.binpb), not today's gen/. An exercise's "old client" is made from these, so it
// decodes exactly as code generated at release time would: unknown fields skipped and kept, unknown enum
// numbers kept as numbers, methods it never heard of simply absent.
import { readFileSync } from "node:fs";
import {
  createFileRegistry,
  type DescEnum,
  type DescMessage,
  type DescService,
  type FileRegistry,
  fromBinary,
  type Message,
} from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { createGrpcClient, createGrpcTransport } from "@ftgo/platform";

/** The release image at `path` as a registry of every file, message, enum and service it holds. */
export function loadReleaseImage(path: string): FileRegistry {
  return createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(path)));
}

/** A message type as the release knew it; throws when the release had no such type. */
export function releasedMessage(image: FileRegistry, typeName: string): DescMessage {
  const found = image.getMessage(typeName);
  if (!found) throw new Error(`the release image has no message ${typeName}`);
  return found;
}

/** An enum as the release knew it. */
export function releasedEnum(image: FileRegistry, typeName: string): DescEnum {
  const found = image.getEnum(typeName);
  if (!found) throw new Error(`the release image has no enum ${typeName}`);
  return found;
}

/** A service as the release knew it. */
export function releasedService(image: FileRegistry, typeName: string): DescService {
  const found = image.getService(typeName);
  if (!found) throw new Error(`the release image has no service ${typeName}`);
  return found;
}

/**
 * A client of `typeName` built from the release image, on a connection of its own to `address`. Its
 * methods are looked up by name, because nothing about them is known at compile time: that is the point.
 */
export interface ReleasedClient {
  /** Calls a unary method with a request in its init shape (camelCase fields). */
  call(method: string, request: Record<string, unknown>): Promise<Message>;
  /** Opens a server stream and returns its first message, then cancels the stream. */
  first(method: string, request: Record<string, unknown>): Promise<Message>;
  /** The response type of a method as the release knew it: to print an answer as that client would (toJson). */
  schemaOf(method: string): DescMessage;
  close(): void;
}

type Unary = (request: Record<string, unknown>) => Promise<Message>;
type ServerStream = (request: Record<string, unknown>, options: { signal: AbortSignal }) => AsyncIterable<Message>;

export function releasedClient(image: FileRegistry, typeName: string, address: string): ReleasedClient {
  const service = releasedService(image, typeName);
  const transport = createGrpcTransport({ address });
  const client = createGrpcClient(service, transport) as unknown as Record<string, Unary | ServerStream>;
  const describe = (name: string) => {
    const found = service.methods.find((m) => m.name === name);
    if (!found) throw new Error(`${typeName} had no method ${name} in the release`);
    return found;
  };
  const method = (name: string) => client[describe(name).localName];
  return {
    call: (name, request) => (method(name) as Unary)(request),
    schemaOf: (name) => describe(name).output,
    async first(name, request) {
      const stop = new AbortController();
      try {
        for await (const message of (method(name) as ServerStream)(request, { signal: stop.signal })) return message;
        throw new Error(`${typeName}/${name} ended without a message`);
      } finally {
        stop.abort();
      }
    },
    close: () => transport.close(),
  };
}
